//! `hop-install status`: what runs here, the last operation, and any
//! unfinished one with the command that finishes it.

use std::path::Path;

use serde::Serialize;

use crate::error::Refusal;
use crate::history::{self, HistoryLine};
use crate::journal::{self, OpPhase};
use crate::preflight;
use crate::services::ServiceState;
use crate::session::Session;

#[derive(Serialize)]
pub struct Unfinished {
    pub operation: String,
    pub title: String,
    pub phase: OpPhase,
    pub stopped_during: Option<String>,
    pub cause: Option<String>,
    pub next: String,
}

#[derive(Serialize)]
pub struct HostStatus {
    pub root: String,
    pub product: String,
    /// This host's name in a cluster (host.yaml's `node`, else its host
    /// name), whether or not it is in one.
    pub node: String,
    pub version: Option<String>,
    /// `hop` (hop's record) or `rpm` (before hop's first run).
    pub version_source: &'static str,
    pub last_operation: Option<HistoryLine>,
    pub unfinished: Option<Unfinished>,
    /// An `upgrade --to` in progress.
    pub chain: Option<crate::chain::Chain>,
    pub services: Vec<(String, String)>,
    /// On a node of a cluster: the cluster as its database records it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<super::cluster_status::ClusterStatus>,
}

pub fn status(root: &Path) -> Result<HostStatus, Refusal> {
    let session = Session::reading(root)?;
    let (host, sd) = (&session.host, &session.state);
    let runner = session.runner("status");
    let installed = preflight::installed(host, &runner).map_err(|e| Refusal::from_error(&e))?;
    let unfinished = journal::find_open(sd)
        .map_err(|e| Refusal::from_error(&e))?
        .map(|j| Unfinished {
            operation: j.id.clone(),
            title: j.title(),
            phase: j.phase,
            stopped_during: j.last_touched().map(|s| s.title().to_owned()),
            cause: j.cause.clone(),
            next: match j.phase {
                OpPhase::RollbackFailed => {
                    format!("hop-install rollback --root {}", host.root.display())
                }
                _ if j.committed() => format!(
                    "hop-install resume --root {} (the hop is committed: resume finishes it)",
                    host.root.display()
                ),
                _ => format!(
                    "hop-install resume --root {} (or hop-install rollback --root {})",
                    host.root.display(),
                    host.root.display()
                ),
            },
        });
    let manager = crate::services::for_host(host, &runner);
    let names: Vec<String> = crate::package::load_manifest(&sd.installed().join("hop.yaml"))
        .map(|m| m.services.into_iter().map(|s| s.name).collect())
        .unwrap_or_default();
    let services = names
        .into_iter()
        .map(|n| {
            let state = match manager
                .as_ref()
                .map_err(|e| anyhow::anyhow!("{e:#}"))
                .and_then(|m| m.status(&n))
            {
                Ok(ServiceState::Running { pid }) => format!(
                    "running{}",
                    pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
                ),
                Ok(other) => format!("{other:?}").to_lowercase(),
                Err(e) => format!("unknown: {e:#}"),
            };
            (n, state)
        })
        .collect();
    let cluster = super::cluster_status::cluster_status(host, installed.version.as_ref());
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
        last_operation: history::read(sd).ok().and_then(|h| h.into_iter().last()),
        unfinished,
        chain: crate::chain::Chain::load(sd).ok().flatten(),
        services,
    })
}

pub fn render(s: &HostStatus) -> String {
    let mut out = format!(
        "{} {} on {} (from {})\n",
        s.product,
        s.version.as_deref().unwrap_or("(unknown version)"),
        s.root,
        if s.version_source == "hop" {
            "hop's record"
        } else {
            "the RPM database"
        }
    );
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
                "UNFINISHED: {} ({:?}), stopped during \"{}\"\n",
                u.title,
                u.phase,
                u.stopped_during.as_deref().unwrap_or("?")
            );
            if let Some(c) = &u.cause {
                out += &format!("  cause: {c}\n");
            }
            out += &format!("  next: {}\n", u.next);
        }
        None => out += "unfinished operation: none\n",
    }
    if let Some(c) = &s.chain {
        out += &format!(
            "UPGRADE IN PROGRESS to {} (started {}): run `hop-install resume --root {}` to continue it\n",
            c.target, c.started_at, s.root
        );
    }
    for (name, state) in &s.services {
        out += &format!("service {name}: {state}\n");
    }
    if let Some(c) = &s.cluster {
        out += &super::cluster_status::render(c);
    }
    out
}
