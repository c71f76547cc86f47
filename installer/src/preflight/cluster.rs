//! Checks of the parts of a rolling hop: the package may roll, the
//! database is expanded for it, and (before contract) every node runs
//! its `to` version.

use std::path::Path;

use hop_artifact::PackageManifest;
use hop_artifact::migration::{Backend, Phase};
use hop_migrate::status::State;
use hop_migrate::{DatabaseUrl, Migrator, Options};

use super::{CheckId, Installed, Level, Preflight};
use crate::journal::Scope;
use crate::package;

/// Whether the hop may be applied node by node on this host's database
/// (`backend`; `None` when it cannot be read: then on every database); a
/// FAILURE naming the offline migrations when not.
pub(super) fn rolling(p: &mut Preflight, m: &PackageManifest, backend: Option<Backend>) -> bool {
    let can = match backend {
        Some(b) => m.can_roll_on(Some(b)),
        None => m.rolling_databases() == m.supported_databases(),
    };
    if m.rolling && can {
        p.add(
            CheckId::Rolling,
            Level::Ok,
            "no offline migrations: the hop can be applied node by node",
        );
        return true;
    }
    let offline: Vec<String> = m
        .own_in_phase(Phase::Offline, backend)
        .map(|x| x.file_name())
        .collect();
    let on = backend.map(|b| format!(" on {b}")).unwrap_or_default();
    let why = if offline.is_empty() {
        "its builder did not mark it rolling (build it with a hop-build that does)".to_owned()
    } else {
        format!(
            "its offline migrations{on} ({}) need every node stopped",
            offline.join(", ")
        )
    };
    p.add(
        CheckId::Rolling,
        Level::Failure,
        format!(
            "this hop cannot be applied node by node: {why}; apply it with `hop-install apply` \
             on one node while every other node is stopped"
        ),
    );
    false
}

/// Before contract: this node runs `to`.
pub(super) fn node_runs_to(p: &mut Preflight, m: &PackageManifest, i: &Installed) {
    match &i.version {
        Some(v) if *v == m.to => p.add(
            CheckId::InstalledVersion,
            Level::Ok,
            format!("{v}: this node runs the hop's to version"),
        ),
        other => p.add(
            CheckId::InstalledVersion,
            Level::Failure,
            format!(
                "this node runs {}; contract runs once every node runs {}: upgrade it with \
                 `hop-install apply PKG --node` first",
                other
                    .as_ref()
                    .map_or_else(|| "an unknown version".to_owned(), |v| v.to_string()),
                m.to
            ),
        ),
    }
}

/// A node (or contract) needs the database expanded for the hop; contract
/// also needs every recorded node at `to`.
pub(super) fn expanded(
    p: &mut Preflight,
    m: &PackageManifest,
    url: &DatabaseUrl,
    payload: &Path,
    scope: Scope,
    me: (&str, &str),
) {
    let hop = format!("{}→{}", m.from, m.to);
    let mut taken = None;
    let result = (|| -> anyhow::Result<(Vec<String>, usize, Vec<String>)> {
        let mut migrator = Migrator::connect(url, Options::default())?;
        let scripts = package::scripts(m, payload, url.backend())?;
        migrator.validate(&scripts, &hop)?;
        let status = migrator.status(&scripts)?;
        let own: Vec<u32> = m.own_migrations().map(|x| x.version).collect();
        let pending = |phase: Phase| {
            status
                .entries
                .iter()
                .filter(|e| own.contains(&e.version) && e.phase == phase)
                .filter(|e| !matches!(e.state, State::Applied { .. }))
                .map(|e| e.file.clone())
                .collect::<Vec<_>>()
        };
        let nodes = migrator.nodes()?;
        taken = hop_migrate::cluster::name_taken(&nodes, me.0, me.1);
        let behind = nodes
            .into_iter()
            .filter(|n| n.version != m.to.as_str())
            .map(|n| format!("{} runs {}", n.node, n.version))
            .collect();
        Ok((pending(Phase::Online), pending(Phase::Post).len(), behind))
    })();
    let (online, post, behind) = match result {
        Ok(r) => r,
        Err(e) => {
            p.add(CheckId::Database, Level::Failure, format!("{e:#}"));
            return;
        }
    };
    if scope == Scope::Node {
        match taken {
            Some(why) => p.add(CheckId::NodeName, Level::Failure, why),
            None => p.add(
                CheckId::NodeName,
                Level::Ok,
                format!("{}: no other machine is recorded under it", me.0),
            ),
        }
    }
    if online.is_empty() {
        p.add(
            CheckId::DatabaseExpanded,
            Level::Ok,
            format!("the online migrations of {hop} are applied"),
        );
    } else {
        p.add(
            CheckId::DatabaseExpanded,
            Level::Failure,
            format!(
                "{} of {hop} not applied: run `hop-install expand PKG` once for the cluster, \
                 before the first node",
                online.join(", ")
            ),
        );
    }
    if scope != Scope::Contract {
        return;
    }
    if behind.is_empty() {
        p.add(
            CheckId::ClusterNodes,
            Level::Ok,
            format!("every node the database records runs {}", m.to),
        );
    } else {
        p.add(
            CheckId::ClusterNodes,
            Level::Failure,
            format!(
                "{}; contract runs once every node runs {}: upgrade them with \
                 `hop-install apply PKG --node` first",
                behind.join(", "),
                m.to
            ),
        );
    }
    p.add(
        CheckId::PostMigrations,
        Level::Ok,
        format!("{post} to apply"),
    );
}
