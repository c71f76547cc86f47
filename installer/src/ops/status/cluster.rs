//! The cluster part of `status`: what the shared database records —
//! which node runs which version, a hop expanded but not yet rolled to
//! this node, a contract still to run.

use std::collections::BTreeSet;

use hop_artifact::migration::Phase;
use hop_artifact::version::Version;
use hop_migrate::cluster::NodeRow;
use hop_migrate::history::HistoryRow;
use hop_migrate::status::State;
use hop_migrate::{Migrator, Options};
use serde::Serialize;

use crate::host::Host;

/// The cluster as the database records it.
#[derive(Debug, Serialize)]
pub struct ClusterStatus {
    /// This node's name.
    pub node: String,
    /// Every node recorded, by name.
    pub nodes: Vec<NodeRow>,
    /// Hops whose online migrations the database has, to a version newer
    /// than this node runs (`4.0.1→4.1.1`).
    pub expanded: Vec<String>,
    /// The hop whose post migrations are still to run (`contract`).
    pub contract_pending: Option<String>,
}

/// The cluster's state, when this host is a node of one (the database
/// records nodes, or an expand is under way); `None` otherwise or when
/// the database cannot be read.
pub fn cluster_status(host: &Host, version: Option<&Version>) -> Option<ClusterStatus> {
    let url = host.database_url().ok()?;
    let mut migrator = Migrator::connect(&url, Options::default()).ok()?;
    let nodes = migrator.nodes().ok()?;
    let history = migrator.history().ok()?;
    let expanded = expanded_beyond(&history, version);
    let contract_pending = contract_pending(host, &mut migrator);
    if nodes.is_empty() && expanded.is_empty() && host.config.node.is_none() {
        return None;
    }
    Some(ClusterStatus {
        node: host.node_name(),
        nodes,
        expanded,
        contract_pending,
    })
}

/// Hops with online migrations applied whose `to` is newer than `version`.
pub fn expanded_beyond(history: &[HistoryRow], version: Option<&Version>) -> Vec<String> {
    let hops: BTreeSet<&str> = history
        .iter()
        .filter(|r| r.phase == Phase::Online && r.success)
        .map(|r| r.hop.as_str())
        .collect();
    hops.into_iter()
        .filter(|hop| {
            let to = hop.split('→').nth(1).and_then(|t| Version::parse(t).ok());
            matches!((to, version), (Some(to), Some(v)) if to > *v)
        })
        .map(str::to_owned)
        .collect()
}

/// The installed hop's post migrations not yet applied: its contract.
fn contract_pending(host: &Host, migrator: &mut Migrator) -> Option<String> {
    let installed = host.state().installed();
    let m = crate::package::load_manifest(&installed.join("hop.yaml")).ok()?;
    let scripts = crate::package::scripts(&m, &installed, migrator.backend()).ok()?;
    let status = migrator.status(&scripts).ok()?;
    let own: BTreeSet<u32> = m
        .own_in_phase(Phase::Post, Some(migrator.backend()))
        .map(|x| x.version)
        .collect();
    let pending = status
        .entries
        .iter()
        .filter(|e| own.contains(&e.version) && !matches!(e.state, State::Applied { .. }))
        .count();
    (pending > 0 && m.rolling).then(|| format!("{}→{} ({pending} post migration(s))", m.from, m.to))
}

/// The lines `status` prints.
pub fn render(c: &ClusterStatus) -> String {
    let mut out = format!(
        "cluster (as the database records it; this node: {}):\n",
        c.node
    );
    for n in &c.nodes {
        out += &format!(
            "  node {}: {} ({}, {})\n",
            n.node, n.version, n.hop, n.updated_at
        );
    }
    for hop in &c.expanded {
        out += &format!("  expanded for {hop}: this node is still to be upgraded (apply --node)\n");
    }
    match &c.contract_pending {
        Some(hop) => {
            out += &format!(
                "  contract pending: {hop}; run `hop-install contract PKG` once every node runs the new version\n"
            )
        }
        None => out += "  contract pending: none\n",
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(hop: &str, phase: Phase) -> HistoryRow {
        HistoryRow {
            version: 1,
            description: "x".into(),
            phase,
            checksum: String::new(),
            hop: hop.into(),
            applied_at: String::new(),
            duration_ms: 0,
            success: true,
            batches: 0,
            rows_affected: 0,
            error: None,
        }
    }

    #[test]
    fn a_hop_is_expanded_beyond_a_node_still_at_its_from_version() {
        let history = [
            row("4.0.1→4.1.1", Phase::Online),
            row("4.0.1→4.1.1", Phase::Post),
            row("4.1.1→4.2.0", Phase::Online),
            row("baseline (golang-migrate)", Phase::Online),
        ];
        let v = |s: &str| Version::parse(s).unwrap();
        assert_eq!(
            expanded_beyond(&history, Some(&v("4.1.1"))),
            ["4.1.1→4.2.0"]
        );
        assert_eq!(
            expanded_beyond(&history, Some(&v("4.2.0"))),
            Vec::<String>::new()
        );
        assert_eq!(expanded_beyond(&history, Some(&v("4.0.1"))).len(), 2);
        assert!(expanded_beyond(&history, None).is_empty());
    }
}
