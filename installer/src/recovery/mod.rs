//! Every recovery decision the installer makes, as pure functions of the
//! journal (and of two facts about the host), so that each one is read in
//! one place and pinned down by table tests:
//!
//! * [`after_trouble`]: a step failed or the operator interrupted — roll
//!   back, stop going forward, or only warn?
//! * [`resume_direction`]: after a crash, does `resume` finish forward or
//!   roll back?
//! * [`rollback_plan`]: which undos, in which order, put the host back?
//! * [`rollback_needs_confirmation`]: may `rollback` proceed without `--yes`?
//! * [`advice`]: what `status` says `resume` and `rollback` would do.
//! * [`chain`]: which hop of an upgrade chain runs next, and how a chain
//!   that stops ends (refused, at a good version, or needing attention).
//!
//! The rule behind them (docs/recovery.md): before the offline migrations
//! are done the new version is incomplete, so the way back is shorter;
//! once every change is in place, forward is; and once the hop has
//! committed, users write on the new version, so nothing but an explicit
//! `rollback --yes` may restore the old data.

mod advice;
pub mod chain;

use crate::journal::{Journal, OpPhase, Scope, Step, StepStatus, Undo};

pub use advice::{Advice, advice};

/// What the rollback plan needs to know about the host besides the journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostFacts {
    /// The backup step recorded everything an undo needs (`facts.json`).
    pub backup_complete: bool,
    /// A migration of this hop reached the database (or hop cannot tell).
    pub database_touched: bool,
}

/// The ordered undos that put the host back where the operation started.
///
/// Services are stopped first whenever the operation stopped them or the
/// database must be restored, so nothing writes while the data goes back;
/// then hop's records, configs, RPMs and the database are put back; then
/// the old services start and must pass their health checks. When no
/// migration reached the database and no service was stopped, the services
/// keep running: such a rollback causes no downtime.
///
/// An expand never restores the database: the other nodes keep writing
/// on it while it runs, and its online migrations are additive, so the
/// old version runs on whatever of them completed; a rerun of `expand`
/// applies the rest.
pub fn rollback_plan(j: &Journal, facts: &HostFacts) -> Vec<Undo> {
    if !facts.backup_complete || j.scope == Scope::Expand {
        // Nothing but staging changed before the backup was complete.
        return vec![Undo::RemoveStaging];
    }
    let quiesce = j.touched(Step::StopServices) || facts.database_touched;
    let mut plan = Vec::new();
    if quiesce {
        plan.push(Undo::StopServices);
    }
    if j.touched(Step::Commit) {
        plan.push(Undo::RestoreRecords);
    }
    if j.touched(Step::DeployConfigs) {
        plan.push(Undo::RestoreConfigs);
    }
    if j.touched(Step::InstallRpms) {
        plan.push(Undo::RestoreRpms);
    }
    if facts.database_touched {
        plan.push(Undo::RestoreDatabase);
    }
    if quiesce {
        plan.push(Undo::StartServices);
        plan.push(Undo::CheckHealth);
    }
    plan.push(Undo::RemoveStaging);
    plan
}

/// Which way `resume` takes an interrupted operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The operation is finished: nothing to do.
    Nothing,
    /// Every change is in place: finish the remaining steps.
    Forward,
    /// It stopped before its changes were complete: roll it back.
    Back,
    /// A rollback was under way (or failed): continue it.
    ContinueRollback,
}

/// After a crash: forward once every change is in place (on a host, once
/// the offline migrations are done: only starting and checking the new
/// version remain, and after commit users write on it), back before that.
pub fn resume_direction(j: &Journal) -> Direction {
    match j.phase {
        OpPhase::Done | OpPhase::RolledBack => Direction::Nothing,
        OpPhase::RollingBack | OpPhase::RollbackFailed => Direction::ContinueRollback,
        OpPhase::Forward => match j.scope.changes_complete_after() {
            Some(step) if j.status(step) != StepStatus::Done => Direction::Back,
            _ => Direction::Forward,
        },
    }
}

/// What the runner does when a step fails, or when the operator
/// interrupts before a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reaction {
    /// Roll the whole operation back (exit 1).
    RollBack,
    /// Committed: stop here, going forward only; `resume` finishes (exit 3).
    StopForward,
    /// Committed, and only cleaning up was left: warn and finish (exit 0).
    Warn,
}

/// A failure of `step` (or an interrupt before it): before commit every
/// failure rolls back; after commit nothing does.
pub fn after_trouble(j: &Journal, step: Step) -> Reaction {
    if !j.committed() {
        Reaction::RollBack
    } else if step == Step::Cleanup {
        Reaction::Warn
    } else {
        Reaction::StopForward
    }
}

/// Whether `rollback` must be confirmed with `--yes`: the hop committed
/// (users may have written on the new version, and the database goes back
/// to the dump taken before it). A rollback already under way continues
/// without asking.
pub fn rollback_needs_confirmation(j: &Journal) -> bool {
    match j.phase {
        OpPhase::RollingBack | OpPhase::RollbackFailed | OpPhase::RolledBack => false,
        OpPhase::Forward | OpPhase::Done => j.committed(),
    }
}

#[cfg(test)]
mod scope_tests;
#[cfg(test)]
mod tests;
