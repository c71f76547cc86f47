//! Running an operation: the journaled steps forward, and — on a failure
//! or an interrupt before commit, or on request — the rollback
//! ([`rollback`]). Which way to go after trouble is decided in
//! [`crate::recovery`]; this module carries the decision out.
//!
//! Before commit, any failure rolls the whole operation back (exit 1).
//! After commit users write on the new version, so hop only goes forward:
//! a failure or an interrupt of the post migrations stops there (exit 3,
//! `resume` finishes them), and a failure to clean up is a warning.

mod rollback;

use std::path::PathBuf;

use anyhow::Result;
use hop_artifact::PackageManifest;
use hop_artifact::migration::Phase;
use hop_migrate::{Migrator, Options};

use crate::children::{self, Ledger};
use crate::clock::now_ms;
use crate::error::Failure;
use crate::fault::At;
use crate::history::{self, HistoryLine};
use crate::host::Host;
use crate::journal::{Journal, OpPhase, Scope, Step, StepStatus, new_id};
use crate::log::Log;
use crate::package::Verified;
use crate::recovery::{Reaction, after_trouble};
use crate::report::{MigrationCounts, Report};
use crate::runner::Runner;
use crate::steps::{self, Context};
use crate::terminal::Terminal;

/// An operation in progress.
pub struct Operation<'a> {
    pub cx: Context<'a>,
    pub journal: Journal,
    log_path: PathBuf,
}

/// The journal could not be written: nothing more may happen, since the
/// next step or undo would act without a record of it.
fn journal_failure(e: anyhow::Error, root: &std::path::Path) -> Failure {
    Failure::needs_attention(
        format!("{e:#}; hop stopped before acting without a record of it"),
        format!(
            "free space or fix the state directory, then run `hop-install resume --root {}`",
            root.display()
        ),
    )
}

impl<'a> Operation<'a> {
    /// Starts a new operation for a verified package: its directory, its
    /// journal (every step pending) and its log. Nothing on the host has
    /// changed yet if this fails.
    pub fn begin(
        host: &'a Host,
        verified: &Verified,
        scope: Scope,
        out: &'a Terminal,
    ) -> Result<Self, Failure> {
        let not_begun = |e: anyhow::Error| {
            Failure::rolled_back(format!(
                "{e:#}; the operation did not begin and nothing on the host was changed"
            ))
        };
        let state_dir = host.state();
        state_dir.ensure().map_err(not_begun)?;
        let m = &verified.manifest;
        let id = new_id(m.from.as_str(), m.to.as_str());
        let dir = state_dir.operation(&id);
        crate::atomic::new_private_dir(&dir).map_err(|e| not_begun(e.into()))?;
        crate::atomic::write(&dir.join("hop.yaml"), &verified.manifest_bytes, 0o600)
            .map_err(|e| not_begun(e.into()))?;
        let package = std::path::absolute(&verified.path).unwrap_or_else(|_| verified.path.clone());
        let journal = Journal::create(
            &dir,
            &id,
            &package,
            &m.product,
            (m.from.as_str(), m.to.as_str()),
            scope,
        )
        .map_err(not_begun)?;
        Self::with_journal(host, journal, m.clone(), out)
    }

    /// Picks up an existing operation (resume, rollback), first ending
    /// whatever an interrupted run of it left running.
    pub fn reopen(host: &'a Host, journal: Journal, out: &'a Terminal) -> Result<Self, Failure> {
        let attention = |e: anyhow::Error| {
            Failure::needs_attention(
                format!("{e:#}"),
                format!("see `hop-install status --root {}`", host.root.display()),
            )
        };
        let ended = children::end_leftovers(&journal.dir()).map_err(attention)?;
        let manifest =
            crate::package::load_manifest(&journal.dir().join("hop.yaml")).map_err(attention)?;
        let op = Self::with_journal(host, journal, manifest, out)?;
        if !ended.is_empty() {
            op.log(&format!(
                "ended process groups {ended:?} left by the interrupted run"
            ));
            out.step(&format!(
                "ended {} process group(s) the interrupted run left behind",
                ended.len()
            ));
        }
        Ok(op)
    }

    fn with_journal(
        host: &'a Host,
        journal: Journal,
        manifest: PackageManifest,
        out: &'a Terminal,
    ) -> Result<Self, Failure> {
        let state_dir = host.state();
        let log = Log::new();
        let log_path = state_dir.logs().join(format!("{}.log", journal.id));
        log.open(&log_path)
            .map_err(|e| journal_failure(e.into(), &host.root))?;
        log.line(&format!(
            "== {} ({}), pid {}",
            journal.title(),
            journal.id,
            std::process::id()
        ));
        let runner = Runner::new(log).with_ledger(Ledger::open(&journal.dir()));
        crate::fault::set_hop(&journal.to);
        let services = crate::services::for_host(host, &runner).map_err(|e| {
            Failure::needs_attention(
                format!("{e:#}"),
                format!(
                    "fix host.yaml's services, then run `hop-install resume --root {}`",
                    host.root.display()
                ),
            )
        })?;
        let cx = Context {
            host,
            state_dir,
            op_dir: journal.dir(),
            op_id: journal.id.clone(),
            package: journal.package.clone(),
            scope: journal.scope,
            manifest,
            runner,
            services,
            out,
            done: Default::default(),
            served_early: Default::default(),
        };
        Ok(Self {
            cx,
            journal,
            log_path,
        })
    }

    /// Puts the preflight results the operator accepted on the
    /// operation's record (journal, then report and history).
    pub fn record_accepted(
        &mut self,
        accepted: Vec<crate::journal::Accepted>,
    ) -> Result<(), Failure> {
        if accepted.is_empty() {
            return Ok(());
        }
        for a in &accepted {
            self.log(&format!(
                "accepted {} ({}) by {}: {}",
                a.id, a.result, a.by, a.reason
            ));
        }
        self.journal.accepted = accepted;
        self.journal
            .save()
            .map_err(|e| journal_failure(e, self.root()))
    }

    fn log(&self, text: &str) {
        self.cx.runner.log.line(text);
    }

    fn root(&self) -> &std::path::Path {
        &self.cx.host.root
    }

    /// Runs the remaining steps to the end.
    pub fn forward(&mut self) -> Result<Report, Failure> {
        if self.journal.phase != OpPhase::Forward {
            self.journal
                .set_phase(OpPhase::Forward, None)
                .map_err(|e| journal_failure(e, self.root()))?;
        }
        let steps = self.journal.scope.steps();
        let total = steps.len();
        for (i, &step) in steps.iter().enumerate() {
            if self.journal.status(step) == StepStatus::Done {
                continue;
            }
            if crate::interrupt::requested() {
                let cause = format!("interrupted by the operator before \"{}\"", step.title());
                match after_trouble(&self.journal, step) {
                    Reaction::RollBack => return Err(self.roll_back_after(cause)),
                    // Cleaning up is all that was left: finish it.
                    Reaction::Warn => {}
                    Reaction::StopForward => return Err(self.stop_forward(cause)),
                }
            }
            self.cx
                .out
                .step(&format!("[{:>2}/{total}] {}", i + 1, step.title()));
            self.log(&format!("== step {} started", step.name()));
            self.journal
                .mark_started(step)
                .map_err(|e| journal_failure(e, self.root()))?;
            if step == Step::StopServices && self.journal.downtime_start_ms.is_none() {
                self.journal.downtime_start_ms = Some(now_ms());
            }
            self.cx.done.borrow_mut().clear();
            let result = self
                .cx
                .fault(step, At::Begin)
                .and_then(|()| steps::apply(step, &mut self.cx))
                .and_then(|()| self.cx.fault(step, At::End));
            if let Err(e) = result {
                self.log(&format!("== step {} failed: {e:#}", step.name()));
                let cause = format!("\"{}\" failed: {e:#}", step.title());
                match after_trouble(&self.journal, step) {
                    Reaction::RollBack => return Err(self.roll_back_after(cause)),
                    Reaction::StopForward => return Err(self.stop_forward(cause)),
                    Reaction::Warn => self.cx.out.warn(&format!(
                        "{cause}; the upgrade itself is complete (see {})",
                        self.log_path.display()
                    )),
                }
            }
            if step == Step::HealthGate {
                self.journal.downtime_end_ms = Some(now_ms());
            }
            self.journal
                .mark_done(step, self.cx.done.take())
                .map_err(|e| journal_failure(e, self.root()))?;
            self.log(&format!("== step {} done", step.name()));
        }
        self.journal
            .set_phase(OpPhase::Done, None)
            .map_err(|e| journal_failure(e, self.root()))?;
        let outcome = self.journal.scope.outcome();
        let mut report = self.report(outcome);
        if self.journal.scope == Scope::Host {
            report.schema = self.schema_after();
        }
        self.append_history(outcome);
        Ok(report)
    }

    /// After commit: stop where the trouble came, leaving the operation
    /// open for `resume` to finish forward (exit 3).
    fn stop_forward(&mut self, cause: String) -> Failure {
        self.log(&format!("== stopped after commit: {cause}"));
        // The phase stays "forward", which is all `resume` needs; the cause
        // is for `status`.
        let unrecorded = self.record_trouble(OpPhase::Forward, &cause);
        Failure::needs_attention(
            format!(
                "{cause}{unrecorded}\nthe upgrade to {} is committed: the host runs {} and its users may \
                 already have written on it, so hop does not go back; what is left will finish \
                 forward (the post migrations continue where they stopped)",
                self.journal.to, self.journal.to
            ),
            format!(
                "run `hop-install resume --root {}` (log: {})",
                self.root().display(),
                self.log_path.display()
            ),
        )
    }

    /// Records where the operation stopped and why; what to add to the
    /// message when even that could not be written.
    fn record_trouble(&mut self, phase: OpPhase, cause: &str) -> String {
        match self.journal.set_phase(phase, Some(cause.to_owned())) {
            Ok(()) => String::new(),
            Err(e) => format!(" (and the journal could not record it: {e:#})"),
        }
    }

    /// The report as the journal stands.
    pub fn report(&self, outcome: &str) -> Report {
        Report::from_journal(
            &self.journal,
            outcome,
            self.migration_counts(),
            self.log_path.clone(),
        )
    }

    /// The live schema against the one the package expects after it.
    fn schema_after(&self) -> Option<String> {
        let url = self.cx.database_url().ok()?;
        let expected = crate::adoption::expected_schema(
            &self.cx.manifest,
            &self.cx.state_dir.installed(),
            url.backend(),
            crate::adoption::Expected::To,
        )
        .ok()??;
        let live = Migrator::connect(&url, Options::default())
            .ok()?
            .schema()
            .ok()?;
        let diff = hop_migrate::schema::compare(&expected, &live);
        let failures: Vec<String> = diff
            .iter()
            .filter(|d| d.is_failure())
            .map(|d| d.to_string())
            .collect();
        Some(if failures.is_empty() {
            format!("matches {}'s expected schema", self.journal.to)
        } else {
            format!(
                "differs from {}'s expected schema: {}",
                self.journal.to,
                failures.join("; ")
            )
        })
    }

    fn migration_counts(&self) -> MigrationCounts {
        let label = self.cx.hop_label();
        let history = self
            .cx
            .database_url()
            .and_then(|u| Ok(Migrator::connect(&u, Options::default())?.history()?))
            .unwrap_or_default();
        let count = |p: Phase| {
            history
                .iter()
                .filter(|r| r.hop == label && r.phase == p && r.success)
                .count()
        };
        MigrationCounts {
            online: count(Phase::Online),
            offline: count(Phase::Offline),
            post: count(Phase::Post),
        }
    }

    /// Records the finished operation in history.jsonl; a failure to do so
    /// is a warning (the journal has the whole story).
    fn append_history(&self, outcome: &str) {
        let line = HistoryLine::of(&self.journal, outcome);
        if let Err(e) = history::append(&self.cx.state_dir, &line) {
            self.cx.out.warn(&format!("{e:#}"));
            self.log(&format!("{e:#}"));
        }
    }
}

impl Operation<'_> {
    /// Whether any migration of this hop reached the database; when hop
    /// cannot tell, it assumes so (restoring is then the safe side).
    fn database_touched(&self) -> Result<bool> {
        let steps = [
            Step::OnlineMigrations,
            Step::OfflineMigrations,
            Step::PostMigrations,
        ];
        if !steps.iter().any(|s| self.journal.touched(*s)) {
            return Ok(false);
        }
        let label = self.cx.hop_label();
        Ok(self
            .cx
            .database_url()
            .and_then(|url| Ok(Migrator::connect(&url, Options::default())?.history()?))
            .map(|h| h.iter().any(|r| r.hop == label))
            .unwrap_or(true))
    }
}
