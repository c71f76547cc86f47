//! `hop-install resume`: finish an interrupted operation — forward when it
//! had passed the point where forward is safe (its offline migrations were
//! done), else back — and then the rest of an interrupted upgrade chain.

use std::path::Path;

use crate::chain::Chain;
use crate::error::Failure;
use crate::journal::{self, OpPhase, Step, StepStatus};
use crate::lock::HostLock;
use crate::operation::Operation;
use crate::output::Output;
use crate::report::Report;
use crate::state::StateDir;

use super::check::open_host;
use super::upgrade::{ChainReport, continue_chain};

/// How a resume ended.
pub enum Resumed {
    Nothing,
    Finished(Box<Report>),
    Chain(Box<ChainReport>),
}

pub fn resume(root: &Path, out: &Output) -> Result<Resumed, Failure> {
    super::check::require_privileges(root)?;
    let host = open_host(root)?;
    let sd = StateDir::of(&host);
    let _lock = HostLock::acquire(&sd, "resume")?;
    crate::interrupt::install();
    let in_chain = Chain::load(&sd).ok().flatten().is_some();
    let open = journal::find_open(&sd).map_err(|e| Failure::refused(format!("{e:#}")))?;
    let resumed = match open.map(|j| resume_journal(&host, j, out)) {
        None => None,
        Some(Ending::Forward(report)) => Some(*report),
        // Crashed before its changes were complete and put back: a chain
        // carries on and applies that hop again.
        Some(Ending::Back(_)) if in_chain => None,
        Some(Ending::Back(f)) | Some(Ending::Failed(f)) => {
            Chain::remove(&sd);
            return Err(f);
        }
    };
    match continue_chain(&host, resumed.clone(), out)? {
        Some(chain) => Ok(Resumed::Chain(Box::new(chain))),
        None => Ok(resumed.map_or(Resumed::Nothing, |r| Resumed::Finished(Box::new(r)))),
    }
}

/// How resuming one operation ended.
pub enum Ending {
    /// Finished forward.
    Forward(Box<Report>),
    /// Rolled back because it had stopped before its changes were
    /// complete (the failure says so, exit 1).
    Back(Failure),
    /// Failed (and rolled back, or not).
    Failed(Failure),
}

/// Resumes one operation: forward to the end, or back.
pub fn resume_journal(host: &crate::host::Host, journal: journal::Journal, out: &Output) -> Ending {
    let title = journal.title();
    let stopped_at = journal.last_touched().map_or("the start", |s| s.title());
    let mut op = match Operation::reopen(host, journal, out) {
        Ok(op) => op,
        Err(f) => return Ending::Failed(f),
    };
    match op.journal.phase {
        OpPhase::Forward if op.journal.status(Step::OfflineMigrations) == StepStatus::Done => {
            out.step(&format!(
                "resuming {title} forward (it stopped during \"{stopped_at}\"; every change was in place)"
            ));
            match op.forward() {
                Ok(r) => Ending::Forward(Box::new(r)),
                Err(f) => Ending::Failed(f),
            }
        }
        OpPhase::Forward => {
            let f = op.roll_back_after(format!(
                "{title} stopped during \"{stopped_at}\", before its changes were complete; resume rolled it back"
            ));
            if f.status == crate::error::ExitStatus::RolledBack {
                Ending::Back(f)
            } else {
                Ending::Failed(f)
            }
        }
        _ => {
            let cause = op
                .journal
                .cause
                .clone()
                .unwrap_or_else(|| "an interrupted rollback".into());
            Ending::Failed(op.roll_back_after(cause))
        }
    }
}
