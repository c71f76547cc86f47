//! The report at the end of an operation: each step's duration, the
//! downtime window (first stop → health gate passed), what happened to
//! configs and migrations.

use std::path::PathBuf;

use serde::Serialize;

use crate::journal::{Journal, StepStatus};
use crate::steps::configs::Deployed;
use crate::steps::rpms::RpmConfig;

#[derive(Clone, Debug, Serialize)]
pub struct StepTime {
    pub step: &'static str,
    pub title: &'static str,
    pub duration_ms: u64,
    /// What the step did, as the journal recorded it (the plan's actions).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<crate::action::Action>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct MigrationCounts {
    pub online: usize,
    pub offline: usize,
    pub post: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub operation: String,
    pub product: String,
    pub from: String,
    pub to: String,
    /// `upgraded`, `rolled back`, …
    pub outcome: String,
    pub steps: Vec<StepTime>,
    /// First service stopped → every service healthy and settled.
    pub downtime_ms: Option<u64>,
    /// First service stopped → every service answering healthy again: the
    /// window as clients saw it.
    pub served_again_ms: Option<u64>,
    /// How each service passed the health gate.
    pub health: Vec<crate::steps::health::ServiceHealth>,
    pub total_ms: u64,
    pub configs: Vec<Deployed>,
    /// Config files of the RPMs that rpm did not simply replace.
    pub rpm_configs: Vec<RpmConfig>,
    pub migrations: MigrationCounts,
    /// The live schema against the one the package expects after it.
    pub schema: Option<String>,
    /// Preflight results the operator accepted, with who and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accepted: Vec<crate::journal::Accepted>,
    pub log: PathBuf,
}

impl Report {
    pub fn from_journal(
        journal: &Journal,
        outcome: &str,
        migrations: MigrationCounts,
        log: PathBuf,
    ) -> Self {
        let read = |name: &str| std::fs::read(journal.dir().join(name)).ok();
        let configs = read("configs.json")
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let rpm_configs = read("rpm-configs.json")
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let steps: Vec<StepTime> = journal
            .steps
            .iter()
            .filter(|r| r.status == StepStatus::Done)
            .map(|r| StepTime {
                step: r.step.name(),
                title: r.step.title(),
                duration_ms: r.duration_ms.unwrap_or(0),
                actions: r.actions.clone(),
            })
            .collect();
        let started = journal
            .steps
            .iter()
            .filter_map(|r| r.started_ms)
            .min()
            .unwrap_or(0);
        let total_ms = crate::clock::now_ms().saturating_sub(started);
        let gate = crate::steps::health::GateRecord::load(&journal.dir()).unwrap_or_default();
        Self {
            operation: journal.id.clone(),
            product: journal.product.clone(),
            from: journal.from.clone(),
            to: journal.to.clone(),
            outcome: outcome.to_owned(),
            steps,
            downtime_ms: match (journal.downtime_start_ms, journal.downtime_end_ms) {
                (Some(a), Some(b)) if b >= a => Some(b - a),
                _ => None,
            },
            served_again_ms: match (journal.downtime_start_ms, gate.served_at_ms) {
                (Some(a), Some(b)) if b >= a => Some(b - a),
                _ => None,
            },
            health: gate.services,
            total_ms,
            configs,
            rpm_configs,
            migrations,
            schema: None,
            accepted: journal.accepted.clone(),
            log,
        }
    }

    pub fn render(&self) -> String {
        let mut out = format!(
            "{} {} → {}: {} in {:.1}s\n",
            self.product,
            self.from,
            self.to,
            self.outcome,
            self.total_ms as f64 / 1000.0
        );
        for s in &self.steps {
            out += &format!(
                "  {:<38} {:>8.3}s\n",
                s.title,
                s.duration_ms as f64 / 1000.0
            );
        }
        match (self.served_again_ms, self.downtime_ms) {
            (Some(served), Some(d)) => {
                out += &format!(
                    "downtime: {:.3}s as clients saw it (first service stopped → every service \
                     answering healthy); {:.3}s until every service had settled\n",
                    served as f64 / 1000.0,
                    d as f64 / 1000.0
                )
            }
            (None, Some(d)) => {
                out += &format!(
                    "downtime: {:.3}s (first service stopped → health gate passed)\n",
                    d as f64 / 1000.0
                )
            }
            _ => {}
        }
        for h in &self.health {
            out += &format!(
                "health: {} answered healthy after {:.3}s, settled by {:.3}s\n",
                h.service,
                h.healthy_ms as f64 / 1000.0,
                h.settled_ms as f64 / 1000.0
            );
        }
        let m = &self.migrations;
        out += &format!(
            "migrations applied: {} online, {} offline, {} post\n",
            m.online, m.offline, m.post
        );
        if let Some(schema) = &self.schema {
            out += &format!("schema: {schema}\n");
        }
        for a in &self.accepted {
            out += &format!(
                "accepted {} ({}: {}) by {}: {}\n",
                a.id, a.result, a.details, a.by, a.reason
            );
        }
        for c in &self.configs {
            match &c.hopnew {
                Some(new) => {
                    out += &format!(
                        "config {}: {} — the new version is {new}\n",
                        c.dest, c.action
                    )
                }
                None => out += &format!("config {}: {}\n", c.dest, c.action),
            }
        }
        for c in &self.rpm_configs {
            out += &format!(
                "rpm config {}: your edits are in {}\n",
                c.path,
                if c.beside.ends_with(".rpmnew") {
                    c.path.as_str()
                } else {
                    c.beside.as_str()
                }
            );
            if c.beside.ends_with(".rpmnew") {
                out += &format!("  the new version is {} — merge them by hand\n", c.beside);
            }
        }
        out += &format!("log: {}\n", self.log.display());
        out
    }
}
