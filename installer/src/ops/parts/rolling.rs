//! Reruns: a host already at a hop's to version, or a rolling hop's part
//! that is already done, changes
//! nothing and succeeds, so that the playbook that rolls a cluster can
//! simply be run again after a failure is fixed.

use std::collections::BTreeSet;

use hop_artifact::PackageManifest;
use hop_artifact::migration::{Backend, Phase};
use hop_artifact::version::Version;
use hop_migrate::status::State;
use hop_migrate::{Migrator, Options};

use crate::error::Refusal;
use crate::host::Host;
use crate::journal::Scope;
use crate::package::{Scratch, Verified};
use crate::runner::Runner;

/// Why the part `scope` of the hop has nothing left to do on this host,
/// or `None` when it has (always for a whole-host `apply`).
pub fn already_done(
    host: &Host,
    runner: &Runner,
    (verified, scratch): &(Verified, Scratch),
    scope: Scope,
) -> Result<Option<String>, Refusal> {
    let m = &verified.manifest;
    // An operation a crash left open is not "done", whatever the records
    // say: the preflight names it and the command that finishes it.
    let open = crate::journal::find_open(&host.state()).ok().flatten();
    if open.is_some() {
        return Ok(None);
    }
    let done = match scope {
        Scope::Host | Scope::Node => {
            let installed = crate::preflight::installed(host, runner)
                .ok()
                .and_then(|i| i.version);
            part_done(scope, m, installed.as_ref(), &Applied::default())
        }
        Scope::Unpin => {
            let state = crate::host_state::HostState::load(&host.state())
                .ok()
                .flatten();
            state.and_then(|s| unpin_done(m, &s.version, s.pinned.as_deref()))
        }
        Scope::Expand | Scope::Contract => {
            // When the database cannot be read, the preflight says why.
            let applied = applied_migrations(host, m, &scratch.0).unwrap_or_default();
            part_done(scope, m, None, &applied)
        }
    };
    Ok(done)
}

/// How long contract keeps asking a node that does not answer healthy.
const NODE_PROBE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// `NAME` or `NAME=ADDRESS`, as `--nodes` takes them.
fn split_node(arg: &str) -> (&str, Option<&str>) {
    match arg.split_once('=') {
        Some((name, address)) if !address.is_empty() => (name, Some(address)),
        _ => (arg.trim_end_matches('='), None),
    }
}

/// `contract --nodes A,B=ADDRESS`: refuses unless the database records
/// every named node at the hop's `to` version (a node that never committed
/// a rolling hop is not recorded, so naming the inventory's nodes catches
/// one the roll skipped), and every node given with an address answers
/// the hop's HTTP and TCP health probes there: a node that crashed after
/// it committed is caught before the old version's columns go.
pub fn require_nodes(
    host: &Host,
    runner: &Runner,
    m: &PackageManifest,
    nodes: &[String],
) -> Result<(), Refusal> {
    if nodes.is_empty() {
        return Ok(());
    }
    let named: Vec<(&str, Option<&str>)> = nodes.iter().map(|n| split_node(n)).collect();
    if let Some((bad, _)) = named
        .iter()
        .find(|(n, _)| !hop_migrate::cluster::valid_node_name(n))
    {
        return Err(Refusal::new(format!(
            "--nodes: {bad:?} is not a node name (give NAME or NAME=ADDRESS)"
        )));
    }
    let nodes: Vec<String> = named.iter().map(|(n, _)| (*n).to_owned()).collect();
    let recorded = host
        .database_url()
        .and_then(|url| Ok(Migrator::connect(&url, Options::default())?.nodes()?))
        .map_err(|e| Refusal::new(format!("cannot read the cluster's nodes: {e:#}")))?;
    let behind: Vec<String> = nodes
        .iter()
        .filter_map(|name| match recorded.iter().find(|r| r.node == *name) {
            Some(r) if r.version == m.to.as_str() => None,
            Some(r) => Some(format!("{name} runs {}", r.version)),
            None => Some(format!(
                "{name} is not recorded (it never committed a node upgrade)"
            )),
        })
        .collect();
    if !behind.is_empty() {
        return Err(Refusal::new(format!(
            "contract runs once every node runs {}: {}; nothing was changed",
            m.to,
            behind.join(", ")
        ))
        .with_hint("upgrade them with `hop-install apply PKG --node` first"));
    }
    let unhealthy: Vec<String> = named
        .iter()
        .filter_map(|(name, address)| Some((name, (*address)?)))
        .filter_map(|(name, address)| {
            node_unhealthy(runner, m, address).map(|why| format!("{name} ({address}): {why}"))
        })
        .collect();
    if unhealthy.is_empty() {
        return Ok(());
    }
    Err(Refusal::new(format!(
        "contract runs once every node serves {}, and not every node answers its health \
         probe: {}; nothing was changed",
        m.to,
        unhealthy.join("; ")
    ))
    .with_hint("bring those nodes back (hop-install status on each says how), then contract again"))
}

/// Why a node at `address` does not answer the hop's probes, if it does
/// not within [`NODE_PROBE_WAIT`].
fn node_unhealthy(runner: &Runner, m: &PackageManifest, address: &str) -> Option<String> {
    let probes: Vec<(String, hop_artifact::package_manifest::Probe)> = m
        .services
        .iter()
        .filter_map(|s| {
            Some((
                s.name.clone(),
                crate::health::at_address(&s.health.probe, address)?,
            ))
        })
        .collect();
    let deadline = std::time::Instant::now() + NODE_PROBE_WAIT;
    loop {
        let failed = probes.iter().find_map(|(service, probe)| {
            // Probes other nodes answer need no service manager.
            crate::health::probe_once(probe, runner, &crate::services::Unreachable, service)
                .err()
                .map(|why| format!("{service}: {why}"))
        });
        match failed {
            None => return None,
            Some(why) if std::time::Instant::now() >= deadline => return Some(why),
            Some(_) => std::thread::sleep(std::time::Duration::from_millis(200)),
        }
    }
}

/// The migrations a database has applied, and which database it is (a
/// migration's phase may differ between databases).
#[derive(Debug, Default)]
pub struct Applied {
    pub backend: Option<Backend>,
    pub versions: BTreeSet<u32>,
}

/// The versions of the package's migrations the database has applied.
fn applied_migrations(
    host: &Host,
    m: &PackageManifest,
    payload: &std::path::Path,
) -> anyhow::Result<Applied> {
    let url = host.database_url()?;
    let scripts = crate::package::scripts(m, payload, url.backend())?;
    let status = Migrator::connect(&url, Options::default())?.status(&scripts)?;
    Ok(Applied {
        backend: Some(url.backend()),
        versions: status
            .entries
            .iter()
            .filter(|e| matches!(e.state, State::Applied { .. }))
            .map(|e| e.version)
            .collect(),
    })
}

/// Whether `unpin` has nothing to do on a node at `version` whose configs
/// are pinned by the hop `pinned` (if any): it runs `to` with the final
/// configs. (Not at `to` yet: the preflight says so.)
pub fn unpin_done(m: &PackageManifest, version: &Version, pinned: Option<&str>) -> Option<String> {
    let hop = format!("{}→{}", m.from, m.to);
    (*version == m.to && pinned != Some(hop.as_str())).then(|| {
        format!(
            "this node already runs {} with the hop's final configs: nothing to do",
            m.to
        )
    })
}

/// The decision itself: a node already at `to`; every online migration of
/// the hop applied (expand); every post migration applied (contract).
pub fn part_done(
    scope: Scope,
    m: &PackageManifest,
    installed: Option<&Version>,
    applied: &Applied,
) -> Option<String> {
    let hop = format!("{} → {}", m.from, m.to);
    let all_applied = |phase: Phase| {
        m.own_in_phase(phase, applied.backend)
            .all(|x| applied.versions.contains(&x.version))
    };
    match scope {
        Scope::Unpin => None,
        Scope::Host => (installed == Some(&m.to))
            .then(|| format!("this host already runs {}: nothing to do", m.to)),
        Scope::Node => (installed == Some(&m.to))
            .then(|| format!("this node already runs {}: nothing to do", m.to)),
        Scope::Expand => all_applied(Phase::Online).then(|| {
            format!("the database is already expanded for {hop} (its online migrations are applied): nothing to do")
        }),
        Scope::Contract => all_applied(Phase::Post).then(|| {
            format!("the contract of {hop} is done (its post migrations are applied): nothing to do")
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> PackageManifest {
        let text = r#"
format: 1
product: manager
from: 4.0.1
to: 4.1.1
builder: test
source_date_epoch: 0
components: []
from_last_migration: 5
migrations:
  - {version: 5, description: old, phase: offline, file: migrations/0005_old.sql}
  - {version: 10, description: add, phase: online, file: migrations/0010_add.sql}
  - {version: 15, description: fill, phase: post, file: migrations/0015_fill.sql}
members: []
"#;
        hop_artifact::yaml::from_str(text).unwrap()
    }

    #[test]
    fn each_part_knows_when_it_is_done() {
        let m = manifest();
        let v = |s: &str| Version::parse(s).unwrap();
        let set = |v: &[u32]| Applied {
            backend: None,
            versions: v.iter().copied().collect(),
        };
        let none = set(&[]);
        assert!(part_done(Scope::Host, &m, Some(&v("4.0.1")), &set(&[5])).is_none());
        assert!(part_done(Scope::Host, &m, Some(&v("4.1.1")), &set(&[5, 10, 15])).is_some());
        assert!(part_done(Scope::Node, &m, Some(&v("4.0.1")), &none).is_none());
        assert!(part_done(Scope::Node, &m, None, &none).is_none());
        assert!(
            part_done(Scope::Node, &m, Some(&v("4.1.1")), &none)
                .unwrap()
                .contains("already runs 4.1.1")
        );
        // The offline 0005 belongs to an earlier hop: only 0010 counts.
        assert!(part_done(Scope::Expand, &m, None, &set(&[5])).is_none());
        assert!(part_done(Scope::Expand, &m, None, &set(&[10])).is_some());
        assert!(part_done(Scope::Contract, &m, None, &set(&[5, 10])).is_none());
        assert!(part_done(Scope::Contract, &m, None, &set(&[5, 10, 15])).is_some());
        // unpin: pinned by this hop → work to do; unpinned at to → none.
        let hop = format!("{}→{}", m.from, m.to);
        assert!(unpin_done(&m, &m.to, Some(&hop)).is_none());
        assert!(unpin_done(&m, &m.to, None).is_some());
        assert!(unpin_done(&m, &m.to, Some("4.1.1→4.2.0")).is_some());
        assert!(unpin_done(&m, &v("4.0.1"), None).is_none());
    }
}
