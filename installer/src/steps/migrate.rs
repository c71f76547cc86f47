//! Online, offline and post migrations: the engine applies the phase's
//! pending migrations; this step reports progress, stops at a safe point
//! when interrupted, and hosts the fault-injection points.
//!
//! There is no per-step undo: the rollback restores the database from the
//! backup when any migration of this hop reached it (see `operation`).

use anyhow::{Result, bail};
use hop_artifact::migration::Phase;
use hop_migrate::adopt::Adoption;
use hop_migrate::{Migrator, Observer, Options, Script};

use hop_migrate::status::Status;

use super::Context;
use crate::action::Action;
use crate::journal::Step;
use crate::terminal::Terminal;

/// What the step of `phase` does on a database whose migrations stand as
/// `status`: in the online phase first the adoption (`baseline`: the last
/// migration the database already holds, and why), then each pending
/// migration of the phase the baseline does not cover.
pub fn actions(status: &Status, phase: Phase, baseline: Option<(u32, &str)>) -> Vec<Action> {
    let adopt = baseline
        .filter(|_| phase == Phase::Online)
        .map(|(up_to, because)| Action::Adopt {
            up_to,
            because: because.to_owned(),
        });
    let covered = baseline.map_or(0, |(up_to, _)| up_to);
    let pending = status
        .pending()
        .filter(|e| e.phase == phase && (baseline.is_none() || e.version > covered))
        .map(|e| Action::Migrate {
            file: e.file.clone(),
        });
    adopt.into_iter().chain(pending).collect()
}

pub fn apply(cx: &mut Context<'_>, phase: Phase, step: Step) -> Result<()> {
    let url = cx.database_url()?;
    let scripts = cx.scripts()?;
    let mut migrator =
        Migrator::connect(&url, Options::default())?.with_tool_tables(&cx.manifest.tool_tables);
    if phase == Phase::Online {
        adopt(cx, &mut migrator, &scripts)?;
    }
    let mut observer = StepObserver {
        step,
        out: cx.out,
        first_done: false,
        log: cx.runner.log.clone(),
        rows: Default::default(),
        ticker: None,
        rehearsed: cx
            .rehearsal()
            .map(|r| {
                r.migrations
                    .into_iter()
                    .map(|m| (m.file, m.duration_ms))
                    .collect()
            })
            .unwrap_or_default(),
    };
    let report = migrator.apply(&scripts, phase, &cx.hop_label(), &mut observer)?;
    cx.did_all(report.applied.iter().map(|a| Action::Migrate {
        file: a.file.clone(),
    }));
    if report.pending > 0 {
        let names: Vec<&str> = report.applied.iter().map(|a| a.file.as_str()).collect();
        cx.out.step(&format!(
            "    {} {phase} migration(s): {}",
            names.len(),
            names.join(", ")
        ));
    }
    Ok(())
}

/// A database another tool made: baseline rows for what it holds, before
/// the first migration (the preflight showed the same decision).
fn adopt(cx: &Context<'_>, migrator: &mut Migrator, scripts: &[Script]) -> Result<()> {
    match crate::adoption::assess(migrator, &cx.manifest, &cx.staging())?.adoption {
        Adoption::NotNeeded => Ok(()),
        Adoption::Baseline { up_to, because } => {
            let rows = migrator.baseline(scripts, up_to, &because)?;
            cx.did(Action::Adopt {
                up_to,
                because: because.clone(),
            });
            cx.out.step(&format!(
                "    adopted the database ({because}): {rows} baseline row(s) up to {up_to:04}"
            ));
            Ok(())
        }
        Adoption::Refused { why, fix } => bail!("the database cannot be adopted: {why}; {fix}"),
    }
}

struct StepObserver<'a> {
    step: Step,
    out: &'a Terminal,
    first_done: bool,
    log: crate::log::Log,
    /// Rows the running migration's batches changed so far.
    rows: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Shows the running migration is alive.
    ticker: Option<crate::progress::Ticker>,
    /// How long each migration took in this package's rehearsal.
    rehearsed: std::collections::HashMap<String, u64>,
}

impl StepObserver<'_> {
    /// The `<step>.mid` fault point: after the first statement or batch.
    fn mid(&mut self) -> Result<(), String> {
        if self.first_done {
            return Ok(());
        }
        self.first_done = true;
        crate::fault::hit(crate::fault::Point::Step(self.step, crate::fault::At::Mid))
    }
}

impl Observer for StepObserver<'_> {
    fn starting(&mut self, script: &Script) -> Result<(), String> {
        if crate::interrupt::requested() {
            return Err("interrupted by the operator".into());
        }
        self.out
            .step(&format!("    applying {}", script.file_name()));
        self.ticker = None;
        self.rows.store(0, std::sync::atomic::Ordering::SeqCst);
        self.ticker = Some(crate::progress::migration_ticker(
            &script.file_name(),
            &self.log,
            self.rows.clone(),
            self.rehearsed.get(&script.file_name()).copied(),
        ));
        Ok(())
    }

    fn finished(&mut self, _script: &Script, _elapsed: std::time::Duration) {
        self.ticker = None;
    }

    fn statement_done(&mut self, _script: &Script, _line: usize) -> Result<(), String> {
        self.mid()
    }

    fn batch_done(&mut self, script: &Script, batches: u64, rows: u64) -> Result<(), String> {
        self.rows.store(rows, std::sync::atomic::Ordering::SeqCst);
        if batches.is_multiple_of(20) {
            self.out.step(&format!(
                "    {}: {batches} batches, {rows} rows",
                script.file_name()
            ));
        }
        self.mid()?;
        if crate::interrupt::requested() {
            return Err("interrupted by the operator".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use hop_migrate::status::{Entry, State, Status};

    use super::*;

    fn entry(version: u32, phase: Phase, state: State) -> Entry {
        Entry {
            version,
            file: format!("{version:04}_m.sql"),
            phase,
            state,
        }
    }

    fn files(actions: &[Action]) -> Vec<String> {
        actions
            .iter()
            .map(|a| match a {
                Action::Migrate { file } => file.clone(),
                Action::Adopt { up_to, .. } => format!("adopt {up_to}"),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_phase_plans_its_pending_migrations_and_an_adoption_its_baseline_first() {
        let applied = State::Applied {
            hop: "x".into(),
            applied_at: String::new(),
            duration_ms: 0,
        };
        let status = Status {
            entries: vec![
                entry(1, Phase::Offline, State::Pending),
                entry(5, Phase::Offline, State::Pending),
                entry(10, Phase::Online, State::Pending),
                entry(11, Phase::Online, applied),
                entry(12, Phase::Offline, State::Pending),
            ],
        };
        // No adoption: what is pending in the phase.
        assert_eq!(
            files(&actions(&status, Phase::Offline, None)),
            ["0001_m.sql", "0005_m.sql", "0012_m.sql"]
        );
        assert_eq!(
            files(&actions(&status, Phase::Online, None)),
            ["0010_m.sql"]
        );
        // A database another tool made up to 5: the baseline covers 1 and 5,
        // and only the online phase adopts.
        let baseline = Some((5, "its schema matches"));
        assert_eq!(
            files(&actions(&status, Phase::Online, baseline)),
            ["adopt 5", "0010_m.sql"]
        );
        assert_eq!(
            files(&actions(&status, Phase::Offline, baseline)),
            ["0012_m.sql"]
        );
        assert!(actions(&status, Phase::Post, baseline).is_empty());
    }
}
