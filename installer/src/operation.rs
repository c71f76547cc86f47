//! Running an operation: the journaled steps forward, and — on any failure
//! before commit, an interrupt, or on request — the rollback.
//!
//! The rollback is not a blind reverse: services are stopped first (whether
//! the new or the old version is running) whenever services are down or the
//! database must be restored, so nothing writes while the data goes back;
//! then hop's records, the configs, the RPMs and the database are put back;
//! then the old services start and must pass their health checks. Every
//! part can run again after a crash.

use std::path::PathBuf;

use anyhow::Result;
use hop_artifact::PackageManifest;
use hop_artifact::migration::Phase;
use hop_artifact::package_manifest::Service;
use hop_migrate::{Migrator, Options, backup};
use serde::Serialize;

use crate::error::Failure;
use crate::host::Host;
use crate::journal::{Journal, OpPhase, Step, StepStatus, new_id};
use crate::log::Log;
use crate::output::Output;
use crate::package::Verified;
use crate::report::{MigrationCounts, Report};
use crate::runner::Runner;
use crate::state::{StateDir, now, now_ms};
use crate::steps::{self, Context, backup::Facts};

/// An operation in progress.
pub struct Operation<'a> {
    pub cx: Context<'a>,
    pub journal: Journal,
    log_path: PathBuf,
}

/// One line of `history.jsonl`.
#[derive(Serialize, serde::Deserialize, Clone, Debug)]
pub struct HistoryLine {
    pub id: String,
    pub product: String,
    pub from: String,
    pub to: String,
    pub outcome: String,
    pub started_at: String,
    pub finished_at: String,
    pub downtime_ms: Option<u64>,
    pub cause: Option<String>,
}

fn fail(e: anyhow::Error) -> Failure {
    Failure::needs_attention(format!("{e:#}"), "hop-install status")
}

impl<'a> Operation<'a> {
    /// Starts a new operation for a verified package: its directory, its
    /// journal (every step pending) and its log.
    pub fn begin(host: &'a Host, verified: &Verified, out: &'a Output) -> Result<Self, Failure> {
        let state_dir = StateDir::of(host);
        state_dir.ensure().map_err(fail)?;
        let m = &verified.manifest;
        let id = new_id(m.from.as_str(), m.to.as_str());
        let dir = state_dir.operation(&id);
        crate::atomic::private_dir(&dir).map_err(|e| fail(e.into()))?;
        crate::atomic::write(&dir.join("hop.yaml"), &verified.manifest_bytes, 0o600)
            .map_err(|e| fail(e.into()))?;
        let package = std::path::absolute(&verified.path).unwrap_or_else(|_| verified.path.clone());
        let journal = Journal::create(
            &dir,
            &id,
            &package,
            &m.product,
            m.from.as_str(),
            m.to.as_str(),
        )
        .map_err(fail)?;
        Self::with_journal(host, journal, m.clone(), out)
    }

    /// Picks up an existing operation (resume, rollback).
    pub fn reopen(host: &'a Host, journal: Journal, out: &'a Output) -> Result<Self, Failure> {
        let manifest =
            crate::package::load_manifest(&journal.dir().join("hop.yaml")).map_err(fail)?;
        Self::with_journal(host, journal, manifest, out)
    }

    fn with_journal(
        host: &'a Host,
        journal: Journal,
        manifest: PackageManifest,
        out: &'a Output,
    ) -> Result<Self, Failure> {
        let state_dir = StateDir::of(host);
        let log = Log::new();
        let log_path = state_dir.logs().join(format!("{}.log", journal.id));
        log.open(&log_path).map_err(|e| fail(e.into()))?;
        log.line(&format!(
            "== {} ({}), pid {}",
            journal.title(),
            journal.id,
            std::process::id()
        ));
        let runner = Runner::new(log);
        crate::fault::set_hop(&journal.to);
        let services = crate::services::for_host(host, &runner);
        let cx = Context {
            host,
            state_dir,
            op_dir: journal.dir(),
            op_id: journal.id.clone(),
            package: journal.package.clone(),
            manifest,
            runner,
            services,
            out,
        };
        Ok(Self {
            cx,
            journal,
            log_path,
        })
    }

    pub fn log_path(&self) -> &PathBuf {
        &self.log_path
    }

    fn log(&self, text: &str) {
        self.cx.runner.log.line(text);
    }

    /// Runs the remaining steps. A failure or an interrupt at any step
    /// rolls the whole operation back (exit 1): `apply` ends with every
    /// step done or none.
    pub fn forward(&mut self) -> Result<Report, Failure> {
        let _ = self.journal.set_phase(OpPhase::Forward, None);
        let total = Step::ALL.len();
        for (i, step) in Step::ALL.into_iter().enumerate() {
            if self.journal.status(step) == StepStatus::Done {
                continue;
            }
            if crate::interrupt::requested() {
                return Err(self.roll_back_after(format!(
                    "interrupted by the operator before \"{}\"",
                    step.title()
                )));
            }
            self.cx
                .out
                .step(&format!("[{:>2}/{total}] {}", i + 1, step.title()));
            self.log(&format!("== step {} started", step.name()));
            self.journal.mark_started(step).map_err(fail)?;
            if step == Step::StopServices && self.journal.downtime_start_ms.is_none() {
                self.journal.downtime_start_ms = Some(now_ms());
            }
            let result = self
                .cx
                .fault(step, "begin")
                .and_then(|()| steps::apply(step, &mut self.cx))
                .and_then(|()| self.cx.fault(step, "end"));
            if let Err(e) = result {
                self.log(&format!("== step {} failed: {e:#}", step.name()));
                return Err(self.roll_back_after(format!("\"{}\" failed: {e:#}", step.title())));
            }
            if step == Step::HealthGate {
                self.journal.downtime_end_ms = Some(now_ms());
            }
            self.journal.mark_done(step).map_err(fail)?;
            self.log(&format!("== step {} done", step.name()));
        }
        let _ = self.journal.set_phase(OpPhase::Done, None);
        let report = self.report("upgraded");
        self.append_history("upgraded");
        Ok(report)
    }

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
        let _ = self
            .journal
            .set_phase(OpPhase::RollingBack, Some(cause.clone()));
        match self.undo_all() {
            Ok(()) => {
                let _ = self.journal.set_phase(OpPhase::RolledBack, None);
                self.append_history("rolled back");
                self.log("== rollback done");
                Ok(())
            }
            Err(e) => {
                let why = format!("{cause}; then the rollback failed: {e:#}");
                let _ = self
                    .journal
                    .set_phase(OpPhase::RollbackFailed, Some(why.clone()));
                self.log(&format!("== rollback failed: {e:#}"));
                Err(Failure::needs_attention(
                    why,
                    format!(
                        "fix the cause, then run `hop-install rollback --root {}` (log: {})",
                        self.cx.host.root.display(),
                        self.log_path.display()
                    ),
                ))
            }
        }
    }

    fn undo_all(&mut self) -> Result<()> {
        let j = self.journal.clone();
        let cx = &self.cx;
        let Ok(facts) = Facts::load(&cx.backup_dir()) else {
            // The backup never finished, so nothing but staging changed.
            return steps::stage::undo(cx);
        };
        let restore_db = self.database_touched(&j)?;
        let quiesce = j.touched(Step::StopServices) || restore_db;
        if quiesce {
            cx.out.step("  stopping services");
            steps::services::stop_all(
                cx,
                &all_services(&cx.manifest.services, &facts.services_before),
            )?;
        }
        crate::fault::hit("rollback.stopped").map_err(anyhow::Error::msg)?;
        if j.touched(Step::Commit) {
            cx.out.step("  restoring hop's records");
            steps::commit::undo(cx, &facts)?;
        }
        if j.touched(Step::DeployConfigs) {
            cx.out.step("  restoring configs");
            steps::configs::undo(cx, &facts)?;
        }
        if j.touched(Step::InstallRpms) {
            cx.out.step("  restoring RPMs");
            steps::rpms::undo(cx, &facts)?;
        }
        crate::fault::hit("rollback.mid").map_err(anyhow::Error::msg)?;
        if restore_db {
            cx.out.step("  restoring the database");
            backup::restore(&cx.database_url()?, &facts.database_dump, &cx.runner)?;
        }
        if quiesce {
            cx.out.step("  starting services");
            steps::services::start_all(cx, &facts.services_before)?;
            steps::health::check_all(cx, &facts.services_before, None)?;
        }
        steps::stage::undo(cx)
    }

    /// Whether any migration of this hop reached the database.
    fn database_touched(&self, j: &Journal) -> Result<bool> {
        let steps = [
            Step::OnlineMigrations,
            Step::OfflineMigrations,
            Step::PostMigrations,
        ];
        if !steps.iter().any(|s| j.touched(*s)) {
            return Ok(false);
        }
        let url = self.cx.database_url()?;
        let label = self.cx.hop_label();
        Ok(Migrator::connect(&url, Options::default())
            .and_then(|mut m| m.history())
            .map(|h| h.iter().any(|r| r.hop == label))
            // Cannot tell: restore, to be sure.
            .unwrap_or(true))
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

    fn append_history(&self, outcome: &str) {
        let line = HistoryLine {
            id: self.journal.id.clone(),
            product: self.journal.product.clone(),
            from: self.journal.from.clone(),
            to: self.journal.to.clone(),
            outcome: outcome.to_owned(),
            started_at: self.journal.started_at.clone(),
            finished_at: now(),
            downtime_ms: match (self.journal.downtime_start_ms, self.journal.downtime_end_ms) {
                (Some(a), Some(b)) if b >= a => Some(b - a),
                _ => None,
            },
            cause: self.journal.cause.clone(),
        };
        if let Ok(text) = serde_json::to_string(&line) {
            use std::io::Write;
            let path = self.cx.state_dir.history_file();
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
            {
                let _ = writeln!(f, "{text}");
                let _ = f.sync_data();
            }
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
