//! `hop-install resume`: finish an interrupted operation — forward when it
//! had passed the point where forward is safe (its offline migrations were
//! done), else back.

use std::path::Path;

use crate::error::Failure;
use crate::journal::{self, OpPhase, Step, StepStatus};
use crate::lock::HostLock;
use crate::operation::Operation;
use crate::output::Output;
use crate::report::Report;
use crate::state::StateDir;

use super::check::open_host;

/// How a resume ended.
pub enum Resumed {
    Nothing,
    Finished(Box<Report>),
}

pub fn resume(root: &Path, out: &Output) -> Result<Resumed, Failure> {
    let host = open_host(root)?;
    let sd = StateDir::of(&host);
    let _lock = HostLock::acquire(&sd, "resume")?;
    crate::interrupt::install();
    let Some(journal) = journal::find_open(&sd).map_err(|e| Failure::refused(format!("{e:#}")))?
    else {
        return Ok(Resumed::Nothing);
    };
    let chain = journal.chain.clone();
    let report = resume_journal(&host, journal, out)?;
    if let Some(chain) = chain {
        return super::upgrade::continue_chain(&host, &chain, report, out)
            .map(|r| Resumed::Finished(Box::new(r)));
    }
    Ok(Resumed::Finished(Box::new(report)))
}

/// Resumes one operation: forward to the end, or back (as a failure).
pub fn resume_journal(
    host: &crate::host::Host,
    journal: journal::Journal,
    out: &Output,
) -> Result<Report, Failure> {
    let title = journal.title();
    let stopped_at = journal.last_touched().map_or("the start", |s| s.title());
    let mut op = Operation::reopen(host, journal, out)?;
    match op.journal.phase {
        OpPhase::Forward if op.journal.status(Step::OfflineMigrations) == StepStatus::Done => {
            out.step(&format!("resuming {title} forward (it stopped during \"{stopped_at}\"; every change was in place)"));
            op.forward()
        }
        OpPhase::Forward => Err(op.roll_back_after(format!(
            "{title} stopped during \"{stopped_at}\", before its changes were complete; resume rolls it back"
        ))),
        _ => {
            let cause = op.journal.cause.clone().unwrap_or_else(|| "an interrupted rollback".into());
            Err(op.roll_back_after(cause))
        }
    }
}
