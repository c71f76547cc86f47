//! The journal of one operation: which steps started, finished or were
//! undone, written atomically before and after each step acts, so that
//! after a crash `resume` and `rollback` know exactly where the host is.
//!
//! Every write is checked: a step never acts unless the journal says it
//! started, and an undo never starts unless the journal says the operation
//! is rolling back. A journal that does not parse, or whose steps are not
//! the installer's steps in order, is refused with a message; it is never
//! indexed blindly.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::atomic;
use crate::clock::{now, now_ms};

mod accepted;
mod operations;
mod rollback;
mod scope;
mod step;
mod undo;

pub use accepted::Accepted;
pub use operations::{all, find_open, new_id, refuse_if_open};
pub use rollback::RollbackRecord;
pub use scope::Scope;
pub use step::Step;
pub use undo::Undo;

/// Where a step is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Pending,
    Started,
    Done,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    pub step: Step,
    pub status: StepStatus,
    pub started_at: Option<String>,
    pub duration_ms: Option<u64>,
    /// Wall-clock start, ms since the epoch (durations survive a resume).
    #[serde(default)]
    pub started_ms: Option<u64>,
    /// What the step did (after a resume: what its last run did), as the
    /// plan of `apply --dry-run` names it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<crate::action::Action>,
}

/// Where the operation as a whole is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpPhase {
    /// Going forward (interrupted if found by another process).
    Forward,
    /// Undoing; `resume` or `rollback` continue it.
    RollingBack,
    /// A rollback itself failed: needs `rollback` again after a fix.
    RollbackFailed,
    /// Finished: upgraded.
    Done,
    /// Finished: back where it started.
    RolledBack,
}

impl OpPhase {
    pub fn is_open(self) -> bool {
        matches!(
            self,
            OpPhase::Forward | OpPhase::RollingBack | OpPhase::RollbackFailed
        )
    }
}

/// One operation's journal.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Journal {
    pub id: String,
    pub package: PathBuf,
    pub product: String,
    pub from: String,
    pub to: String,
    pub started_at: String,
    /// What part of the hop the operation does (older journals: `host`).
    #[serde(default)]
    pub scope: Scope,
    pub phase: OpPhase,
    pub steps: Vec<StepRecord>,
    /// Why the operation is rolling back or failed.
    #[serde(default)]
    pub cause: Option<String>,
    /// When the first service was stopped and the health gate passed (ms
    /// since the epoch): the downtime window.
    #[serde(default)]
    pub downtime_start_ms: Option<u64>,
    #[serde(default)]
    pub downtime_end_ms: Option<u64>,
    /// Set once a rollback has begun.
    #[serde(default)]
    pub rollback: Option<RollbackRecord>,
    /// Preflight results the operator accepted (`--accept`), on record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted: Vec<Accepted>,
    #[serde(skip)]
    path: PathBuf,
}

impl Journal {
    /// A journal with every step of `scope` pending (not yet written).
    pub fn new(
        dir: &Path,
        id: &str,
        package: &Path,
        product: &str,
        (from, to): (&str, &str),
        scope: Scope,
    ) -> Self {
        Self {
            id: id.to_owned(),
            package: package.to_path_buf(),
            product: product.to_owned(),
            from: from.to_owned(),
            to: to.to_owned(),
            started_at: now(),
            scope,
            phase: OpPhase::Forward,
            steps: scope
                .steps()
                .iter()
                .map(|s| StepRecord {
                    step: *s,
                    status: StepStatus::Pending,
                    started_at: None,
                    duration_ms: None,
                    started_ms: None,
                    actions: Vec::new(),
                })
                .collect(),
            cause: None,
            downtime_start_ms: None,
            downtime_end_ms: None,
            rollback: None,
            accepted: Vec::new(),
            path: dir.join("journal.json"),
        }
    }

    /// A new journal for an operation in `dir`, written at once.
    pub fn create(
        dir: &Path,
        id: &str,
        package: &Path,
        product: &str,
        hop: (&str, &str),
        scope: Scope,
    ) -> Result<Self> {
        let mut journal = Self::new(dir, id, package, product, hop, scope);
        journal.save()?;
        Ok(journal)
    }

    /// Reads and checks a journal.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut journal = Self::parse(&bytes)
            .with_context(|| format!("the journal {} is damaged", path.display()))?;
        journal.path = path.to_path_buf();
        Ok(journal)
    }

    /// Parses a journal's bytes and checks its shape: every step of the
    /// installer, once, in order; a rollback's progress within its plan.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let journal: Self = serde_json::from_slice(bytes).context("it is not a journal")?;
        let steps: Vec<Step> = journal.steps.iter().map(|r| r.step).collect();
        let expected = journal.scope.steps();
        if steps != expected {
            bail!(
                "it lists {} step(s) ({}), not the {} steps of `{}` in order",
                steps.len(),
                steps
                    .iter()
                    .map(|s| s.name())
                    .collect::<Vec<_>>()
                    .join(", "),
                expected.len(),
                journal.scope.verb()
            );
        }
        if let Some(r) = &journal.rollback
            && r.done > r.plan.len()
        {
            bail!(
                "its rollback records {} undo(s) done of a plan of {}",
                r.done,
                r.plan.len()
            );
        }
        Ok(journal)
    }

    /// Writes the journal atomically and durably.
    pub fn save(&mut self) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self)?;
        atomic::write(&self.path, &bytes, 0o600)
            .with_context(|| format!("cannot write the journal {}", self.path.display()))
    }

    /// The operation's directory.
    pub fn dir(&self) -> PathBuf {
        self.path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    /// The record of `step`; `None` when the operation's scope does not
    /// run it.
    pub fn record(&self, step: Step) -> Option<&StepRecord> {
        self.steps.iter().find(|r| r.step == step)
    }

    pub fn status(&self, step: Step) -> StepStatus {
        self.record(step).map_or(StepStatus::Pending, |r| r.status)
    }

    /// Whether the step has started (it may have changed the host).
    pub fn touched(&self, step: Step) -> bool {
        self.status(step) != StepStatus::Pending
    }

    /// Whether the hop has committed: from here on users write on the new
    /// version, and nothing may silently restore the old data.
    pub fn committed(&self) -> bool {
        self.scope
            .commit_step()
            .is_none_or(|step| self.status(step) == StepStatus::Done)
    }

    /// Marks `step` started and writes the journal; the step must not act
    /// if this fails.
    pub fn mark_started(&mut self, step: Step) -> Result<()> {
        if let Some(r) = self.steps.iter_mut().find(|r| r.step == step) {
            r.status = StepStatus::Started;
            r.started_at = Some(now());
            r.started_ms = Some(now_ms());
        }
        self.save()
    }

    pub fn mark_done(&mut self, step: Step, actions: Vec<crate::action::Action>) -> Result<()> {
        if let Some(r) = self.steps.iter_mut().find(|r| r.step == step) {
            r.status = StepStatus::Done;
            r.actions = actions;
            r.duration_ms = r.started_ms.map(|s| now_ms().saturating_sub(s));
        }
        self.save()
    }

    pub fn set_phase(&mut self, phase: OpPhase, cause: Option<String>) -> Result<()> {
        self.phase = phase;
        if cause.is_some() {
            self.cause = cause;
        }
        self.save()
    }

    /// Starts a rollback with `plan`: phase, cause and plan in one write.
    pub fn begin_rollback(
        &mut self,
        plan: Vec<Undo>,
        cause: String,
        no_restore: Option<String>,
    ) -> Result<()> {
        self.phase = OpPhase::RollingBack;
        self.cause = Some(cause);
        if self.rollback.is_none() {
            self.rollback = Some(RollbackRecord {
                plan,
                done: 0,
                no_restore,
                // Services the operation stopped are still down.
                down_since_ms: self
                    .downtime_start_ms
                    .filter(|_| self.downtime_end_ms.is_none()),
                healthy_at_ms: None,
            });
        }
        self.save()
    }

    /// Records that the rollback's next undo starts now: its services'
    /// stop starts an outage unless one is under way.
    pub fn undo_starting(&mut self, undo: Undo) -> Result<()> {
        match self.rollback.as_mut() {
            Some(r) if r.starts_outage(undo) => {
                r.down_since_ms = Some(now_ms());
                self.save()
            }
            _ => Ok(()),
        }
    }

    /// Records one more undo of the plan as done (the health check's
    /// ends the rollback's outage).
    pub fn undo_done(&mut self) -> Result<()> {
        if let Some(r) = self.rollback.as_mut() {
            if r.remaining().first() == Some(&Undo::CheckHealth) {
                r.healthy_at_ms = Some(now_ms());
            }
            r.done = (r.done + 1).min(r.plan.len());
        }
        self.save()
    }

    /// The last step that started, if any.
    pub fn last_touched(&self) -> Option<Step> {
        self.steps
            .iter()
            .rev()
            .find(|r| r.status != StepStatus::Pending)
            .map(|r| r.step)
    }

    /// The downtime window, when it closed: the rollback's outage once
    /// the operation rolled back (an apply's window was history's line
    /// of its own when it completed), else the apply's.
    pub fn downtime_ms(&self) -> Option<u64> {
        match &self.rollback {
            Some(r) => r.outage_ms(),
            None => self.window_ms(),
        }
    }

    /// The apply's downtime window (first stop → health gate passed),
    /// when it closed.
    pub fn window_ms(&self) -> Option<u64> {
        span(self.downtime_start_ms, self.downtime_end_ms)
    }

    /// `manager 4.0.1 → 4.1.1`.
    pub fn title(&self) -> String {
        format!("{} {} → {}", self.product, self.from, self.to)
    }
}

/// `end - start` in ms, when both are known and in order.
fn span(start: Option<u64>, end: Option<u64>) -> Option<u64> {
    match (start, end) {
        (Some(a), Some(b)) if b >= a => Some(b - a),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
