//! Carrying out a rollback: the plan ([`crate::recovery::rollback_plan`])
//! is written into the journal before the first undo, and each undo is
//! journaled as done, so a rollback interrupted by a crash continues where
//! it stopped. If the journal cannot be written, nothing is undone (exit 3).

use anyhow::{Context as _, Result};
use hop_artifact::package_manifest::Service;
use hop_migrate::backup;

use super::{Operation, journal_failure};
use crate::error::Failure;
use crate::fault::Point;
use crate::journal::Undo;
use crate::journal::{OpPhase, Step};
use crate::recovery::{HostFacts, rollback_plan};
use crate::steps::{self, backup::Facts};

impl Operation<'_> {
    /// Rolls back and returns the failure to report: exit 1 when the host
    /// is back where it was, exit 3 when the rollback itself failed.
    pub fn roll_back_after(&mut self, cause: String) -> Failure {
        match self.roll_back(cause.clone()) {
            Ok(()) => Failure::rolled_back(format!(
                "{cause}\nthe host was rolled back: it runs {} as before, services healthy",
                self.journal.from
            ))
            .with_hint(format!("details are in {}", self.log_path.display())),
            Err(f) => f,
        }
    }

    /// Undoes everything the operation did; `Err` (exit 3) if that failed.
    pub fn roll_back(&mut self, cause: String) -> Result<(), Failure> {
        self.cx.out.step(&format!("rolling back: {cause}"));
        self.log(&format!("== rollback: {cause}"));
        let begun = match self.journal.rollback {
            Some(_) => self
                .journal
                .set_phase(OpPhase::RollingBack, Some(cause.clone())),
            None => {
                let facts = HostFacts {
                    backup_complete: Facts::load(&self.cx.backup_dir()).is_ok(),
                    database_touched: self.database_touched().unwrap_or(true),
                };
                let plan = rollback_plan(&self.journal, &facts);
                self.log(&format!(
                    "rollback plan: {}",
                    plan.iter().map(|u| u.name()).collect::<Vec<_>>().join(", ")
                ));
                let no_restore = (!facts.database_touched
                    && self.journal.touched(Step::OfflineMigrations))
                .then(|| {
                    "the offline migrations ran in one transaction, which was rolled back: \
                     nothing of this hop reached the database, so it is not restored"
                        .to_owned()
                });
                if let Some(why) = &no_restore {
                    self.cx.out.step(&format!("    {why}"));
                    self.log(why);
                }
                // A failed journal write here must stop the rollback before
                // its first undo (the crash and failure suites inject one).
                crate::fault::hit(Point::JournalRollingBack)
                    .map_err(anyhow::Error::msg)
                    .and_then(|()| self.journal.begin_rollback(plan, cause.clone(), no_restore))
            }
        };
        begun.map_err(|e| journal_failure(e, self.root()))?;
        let remaining = self
            .journal
            .rollback
            .as_ref()
            .map(|r| r.remaining().to_vec())
            .unwrap_or_default();
        for undo in remaining {
            self.journal
                .undo_starting(undo)
                .map_err(|e| journal_failure(e, self.root()))?;
            if let Err(e) = self.undo(undo) {
                return Err(self.rollback_failed(&cause, undo, e));
            }
            self.journal
                .undo_done()
                .map_err(|e| journal_failure(e, self.root()))?;
            // Named points of the crash matrix.
            let after = match undo {
                Undo::StopServices => Some(Point::RollbackStopped),
                Undo::RestoreRpms => Some(Point::RollbackMid),
                _ => None,
            };
            if let Some(point) = after
                && let Err(e) = crate::fault::hit(point)
            {
                return Err(self.rollback_failed(&cause, undo, anyhow::anyhow!(e)));
            }
        }
        self.journal
            .set_phase(OpPhase::RolledBack, None)
            .map_err(|e| journal_failure(e, self.root()))?;
        self.append_history("rolled back");
        self.log("== rollback done");
        Ok(())
    }

    fn rollback_failed(&mut self, cause: &str, undo: Undo, e: anyhow::Error) -> Failure {
        let why = format!(
            "{cause}; then the rollback failed while {}: {e:#}",
            undo.title()
        );
        self.log(&format!("== rollback failed: {e:#}"));
        let unrecorded = self.record_trouble(OpPhase::RollbackFailed, &why);
        Failure::needs_attention(
            format!("{why}{unrecorded}"),
            format!(
                "fix the cause, then run `hop-install rollback --root {}`: it continues with {} (log: {})",
                self.root().display(),
                undo.title(),
                self.log_path.display()
            ),
        )
    }

    /// Carries out one undo.
    fn undo(&mut self, undo: Undo) -> Result<()> {
        crate::fault::hit(Point::BeforeUndo(undo)).map_err(anyhow::Error::msg)?;
        self.cx.out.step(&format!("  {}", undo.title()));
        self.log(&format!("== undo {}", undo.name()));
        let cx = &self.cx;
        let facts = || Facts::load(&cx.backup_dir());
        match undo {
            Undo::StopServices => {
                let facts = facts()?;
                steps::services::stop_all(
                    cx,
                    &all_services(&cx.manifest.services, &facts.services_before),
                )
            }
            Undo::RestoreRecords => steps::commit::undo(cx, &facts()?),
            Undo::RestoreConfigs => steps::configs::undo(cx, &facts()?),
            Undo::RestoreRpms => steps::rpms::undo(cx, &facts()?),
            Undo::RestoreDatabase => {
                let dump = facts()?
                    .database_dump
                    .context("this operation took no database dump")?;
                let expected = cx.rehearsal().map(|r| r.restore_ms);
                let _alive = crate::progress::Ticker::start(
                    "restoring the database from its dump",
                    Some(&cx.runner.log),
                    move |secs| crate::progress::running_for_of(secs, expected),
                );
                Ok(backup::restore(&cx.database_url()?, &dump, &cx.runner)?)
            }
            Undo::StartServices => steps::services::start_all(cx, &facts()?.services_before),
            Undo::CheckHealth => {
                steps::health::check_all(cx, &facts()?.services_before, None).map(drop)
            }
            Undo::RemoveStaging => steps::stage::undo(cx),
        }
    }
}

/// The services of both versions, the old ones first, each once.
fn all_services(new: &[Service], old: &[Service]) -> Vec<Service> {
    let mut all: Vec<Service> = old.to_vec();
    for s in new {
        if !all.iter().any(|o| o.name == s.name) {
            all.push(s.clone());
        }
    }
    all
}
