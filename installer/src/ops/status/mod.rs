//! `hop-install status`: where this host stands and what to run — the
//! version (or that it is between two), the product's RPMs, the schema,
//! each service's state, an unfinished operation with what `resume` and
//! `rollback` would do, a chain in progress, pinned configs, what a killed
//! rehearsal left, and (on a node of a cluster) the cluster. Exit 3 while
//! an operation is unfinished: scripts see at once that the host needs
//! attention.

mod cluster;

use std::path::Path;

use serde::Serialize;

use crate::error::Refusal;
use crate::history::{self, HistoryLine};
use crate::journal::{self, Journal};
use crate::preflight;
use crate::services::ServiceState;
use crate::session::Session;

#[derive(Serialize)]
pub struct Unfinished {
    pub operation: String,
    pub title: String,
    /// `apply`, `node`, `expand`, `contract`, `unpin`.
    pub scope: &'static str,
    /// `forward`, `rolling_back`, `rollback_failed`.
    pub phase: crate::journal::OpPhase,
    pub stopped_during: Option<String>,
    pub cause: Option<String>,
    /// What resume and rollback would do, and the command to run.
    #[serde(flatten)]
    pub advice: crate::recovery::Advice,
}

/// One service and what its manager says.
#[derive(Serialize)]
pub struct ServiceLine {
    pub name: String,
    /// `RUNNING (pid 42)`, `STOPPED`, `FAILED (…)`.
    pub state: String,
    pub running: bool,
}

#[derive(Serialize)]
pub struct HostStatus {
    pub root: String,
    pub product: String,
    /// This host's name in a cluster (host.yaml's `node`, else its host
    /// name), whether or not it is in one.
    pub node: String,
    /// The version hop's record (or the RPM database) gives.
    pub version: Option<String>,
    /// `hop` (hop's record) or `rpm` (before hop's first run).
    pub version_source: &'static str,
    /// The product's RPMs as the RPM database has them now.
    pub rpms: Vec<String>,
    /// The schema history: the last migration applied, any failed one.
    pub schema: Option<String>,
    pub last_operation: Option<HistoryLine>,
    pub unfinished: Option<Unfinished>,
    /// An `upgrade --to` in progress.
    pub chain: Option<crate::chain::Chain>,
    pub services: Vec<ServiceLine>,
    /// Set while the node runs a rolling hop's configs for the roll.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned: Option<String>,
    /// What a killed rehearsal left (a private PostgreSQL server).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub leftovers: Vec<String>,
    /// On a node of a cluster: the cluster as its database records it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<cluster::ClusterStatus>,
}

impl HostStatus {
    /// `status`'s exit code: 3 while an operation is unfinished.
    pub fn code(&self) -> u8 {
        if self.unfinished.is_some() { 3 } else { 0 }
    }
}

pub fn status(root: &Path) -> Result<HostStatus, Refusal> {
    let session = Session::reading(root)?;
    let (host, sd) = (&session.host, &session.state);
    let runner = session.runner("status");
    let installed = preflight::installed(host, &runner).map_err(|e| Refusal::from_error(&e))?;
    let open = journal::find_open(sd).map_err(|e| Refusal::from_error(&e))?;
    let installed_manifest = crate::package::load_manifest(&sd.installed().join("hop.yaml")).ok();
    let open_manifest = open
        .as_ref()
        .and_then(|j| crate::package::load_manifest(&j.dir().join("hop.yaml")).ok());
    let manifests: Vec<&hop_artifact::PackageManifest> =
        [installed_manifest.as_ref(), open_manifest.as_ref()]
            .into_iter()
            .flatten()
            .collect();
    let unfinished = open.as_ref().map(unfinished);
    // A cluster block only where there is a cluster: nodes recorded, or
    // host.yaml naming this node (a single host mid-apply has its online
    // migrations applied too, which alone would look like an expand).
    let cluster = cluster::cluster_status(host, installed.version.as_ref())
        .filter(|c| !c.nodes.is_empty() || host.config.node.is_some());
    Ok(HostStatus {
        cluster,
        root: host.root.display().to_string(),
        product: host.config.product.clone(),
        node: host.node_name(),
        version: installed.version.map(|v| v.to_string()),
        version_source: if installed.state.is_some() {
            "hop"
        } else {
            "rpm"
        },
        rpms: rpms(host, &runner, &manifests),
        schema: schema(host),
        last_operation: history::read(sd).ok().and_then(|h| h.into_iter().last()),
        unfinished,
        chain: crate::chain::Chain::load(sd).ok().flatten(),
        services: services(host, &runner, &manifests),
        pinned: installed.state.and_then(|s| s.pinned),
        leftovers: crate::rehearsal::leftovers(host),
    })
}

fn unfinished(j: &Journal) -> Unfinished {
    Unfinished {
        operation: j.id.clone(),
        title: j.title(),
        scope: j.scope.name(),
        phase: j.phase,
        stopped_during: j.last_touched().map(|s| s.title().to_owned()),
        cause: j.cause.clone(),
        advice: crate::recovery::advice(j),
    }
}

/// The installed NEVRAs of every component either version names.
fn rpms(
    host: &crate::host::Host,
    runner: &crate::runner::Runner,
    manifests: &[&hop_artifact::PackageManifest],
) -> Vec<String> {
    let mut names: Vec<String> = manifests
        .iter()
        .flat_map(|m| m.components.iter().map(|c| c.name.clone()))
        .collect();
    if names.is_empty() {
        names.push(host.config.version_from_rpm.clone());
    }
    names.sort();
    names.dedup();
    let db = crate::rpmdb::RpmDb::new(runner, &host.root);
    names
        .iter()
        .flat_map(|n| match db.installed(n) {
            Ok(v) if v.is_empty() => vec![format!("{n} (not installed)")],
            Ok(v) => v,
            Err(e) => vec![format!("{n} (unreadable: {e:#})")],
        })
        .collect()
}

/// `0015_backfill… applied last (4.0.1→4.1.1)`, and any failed migration.
fn schema(host: &crate::host::Host) -> Option<String> {
    let url = host.database_url().ok()?;
    let history = hop_migrate::Migrator::connect(&url, hop_migrate::Options::default())
        .and_then(|mut m| m.history())
        .ok()?;
    let last = history
        .iter()
        .filter(|r| r.success)
        .max_by_key(|r| r.version);
    let failed: Vec<String> = history
        .iter()
        .filter(|r| !r.success)
        .map(|r| format!("{:04}_{} FAILED", r.version, r.description))
        .collect();
    let mut text = match last {
        Some(r) => format!(
            "migration {:04}_{} applied last ({})",
            r.version, r.description, r.hop
        ),
        None => "no hop history".into(),
    };
    if !failed.is_empty() {
        text += &format!("; {}", failed.join(", "));
    }
    Some(text)
}

/// Every service either version runs, and its state.
fn services(
    host: &crate::host::Host,
    runner: &crate::runner::Runner,
    manifests: &[&hop_artifact::PackageManifest],
) -> Vec<ServiceLine> {
    let mut names: Vec<String> = Vec::new();
    for n in manifests
        .iter()
        .flat_map(|m| m.services.iter().map(|s| s.name.clone()))
    {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    let manager = crate::services::for_host(host, runner);
    names
        .into_iter()
        .map(|name| {
            let state = manager
                .as_ref()
                .map_err(|e| anyhow::anyhow!("{e:#}"))
                .and_then(|m| m.status(&name));
            let running = matches!(state, Ok(ServiceState::Running { .. }));
            let state = match state {
                Ok(ServiceState::Running { pid }) => format!(
                    "RUNNING{}",
                    pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
                ),
                Ok(ServiceState::Starting) => "STARTING".into(),
                Ok(ServiceState::Stopping { .. }) => "STOPPING".into(),
                Ok(ServiceState::Stopped) => "STOPPED".into(),
                // supervisord's EXITED: the process ended (a drain ends so).
                Ok(ServiceState::Failed(how)) if how.starts_with("EXITED") => {
                    format!("STOPPED (it exited{})", &how["EXITED".len()..])
                }
                Ok(ServiceState::Failed(how)) => format!("FAILED ({how})"),
                Ok(ServiceState::Unknown(how)) => format!("UNKNOWN ({how})"),
                Err(e) => format!("UNKNOWN ({e:#})"),
            };
            ServiceLine {
                name,
                state,
                running,
            }
        })
        .collect()
}

pub fn render(s: &HostStatus) -> String {
    let source = if s.version_source == "hop" {
        "hop's record"
    } else {
        "the RPM database"
    };
    let version = s.version.as_deref().unwrap_or("(unknown version)");
    let mut out = match &s.unfinished {
        Some(u) => format!(
            "{} on {}: BETWEEN VERSIONS — {} did not finish ({source} says {version})\n",
            s.product, s.root, u.title
        ),
        None => format!("{} {version} on {} (from {source})\n", s.product, s.root),
    };
    out += &format!("rpms: {}\n", s.rpms.join(", "));
    if let Some(schema) = &s.schema {
        out += &format!("schema: {schema}\n");
    }
    for svc in &s.services {
        out += &format!("service {}: {}\n", svc.name, svc.state);
    }
    match &s.last_operation {
        Some(l) => {
            out += &format!(
                "last operation: {} → {}, {} at {} ({})\n",
                l.from, l.to, l.outcome, l.finished_at, l.id
            )
        }
        None => out += "last operation: none\n",
    }
    match &s.unfinished {
        Some(u) => {
            out += &format!(
                "UNFINISHED: {} ({}, {}), stopped during \"{}\"\n",
                u.title,
                u.scope,
                serde_json::to_value(u.phase)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                u.stopped_during.as_deref().unwrap_or("?")
            );
            if let Some(c) = &u.cause {
                out += &format!("  cause: {c}\n");
            }
            out += &format!("  {}\n  {}\n", u.advice.resume, u.advice.rollback);
            out += &format!("  next: {} --root {}\n", u.advice.next, s.root);
        }
        None => out += "unfinished operation: none\n",
    }
    if let Some(c) = &s.chain {
        out += &format!(
            "UPGRADE IN PROGRESS to {} (started {}): run `hop-install resume --root {}` to continue it\n",
            c.target, c.started_at, s.root
        );
    }
    if let Some(hop) = &s.pinned {
        out += &format!(
            "configs: pinned for the roll of {hop}; after contract, `hop-install unpin PKG` deploys the final ones\n"
        );
    }
    for l in &s.leftovers {
        out += &format!("left behind: {l}\n");
    }
    if let Some(c) = &s.cluster {
        out += &cluster::render(c);
    }
    out
}
