//! `hop-install resume`: finish an interrupted operation the way
//! [`crate::recovery::resume_direction`] decides — forward once its
//! changes were complete, else back — and then the rest of an interrupted
//! upgrade chain.

use std::path::Path;

use crate::chain::Chain;
use crate::error::{Error, Failure, FailureKind, Refusal};
use crate::host::Host;
use crate::journal::{self, Journal};
use crate::operation::Operation;
use crate::recovery::{Direction, resume_direction};
use crate::report::Report;
use crate::session::Session;
use crate::terminal::Terminal;

use super::upgrade::{ChainReport, continue_chain};

/// How a resume ended.
pub enum Resumed {
    Nothing,
    Finished(Box<Report>),
    Chain(Box<ChainReport>),
}

pub fn resume(root: &Path, out: &Terminal) -> Result<Resumed, Error> {
    let session = Session::changing(root, "resume")?;
    let (host, sd) = (&session.host, &session.state);
    let in_chain = Chain::load(sd)
        .map_err(|e| Refusal::from_error(&e))?
        .is_some();
    let open = journal::find_open(sd).map_err(|e| {
        Refusal::from_error(&e).with_hint(
            "hop does not guess where a host is: restore the journal from a backup, or ask support",
        )
    })?;
    let resumed = match open.map(|j| resume_journal(host, j, out)) {
        None => None,
        Some(Ending::Forward(report)) => Some(*report),
        // Crashed before its changes were complete and put back: a chain
        // carries on and applies that hop again.
        Some(Ending::Back(_)) if in_chain => None,
        Some(Ending::Back(f)) | Some(Ending::Failed(f)) => {
            // A committed hop that could not finish stays in its chain, so
            // the next `resume` finishes both.
            if f.kind == FailureKind::RolledBack || !still_forward(sd) {
                Chain::remove(sd);
            }
            return Err(f.into());
        }
    };
    match continue_chain(host, resumed.clone(), out)? {
        Some(chain) => Ok(Resumed::Chain(Box::new(chain))),
        None => Ok(resumed.map_or(Resumed::Nothing, |r| Resumed::Finished(Box::new(r)))),
    }
}

/// Whether the open operation is committed and waiting to go forward.
fn still_forward(sd: &crate::state_dir::StateDir) -> bool {
    matches!(journal::find_open(sd), Ok(Some(j)) if j.committed() && j.phase == crate::journal::OpPhase::Forward)
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
pub fn resume_journal(host: &Host, journal: Journal, out: &Terminal) -> Ending {
    let title = journal.title();
    let stopped_at = journal.last_touched().map_or("the start", |s| s.title());
    let direction = resume_direction(&journal);
    let mut op = match Operation::reopen(host, journal, out) {
        Ok(op) => op,
        Err(f) => return Ending::Failed(f),
    };
    match direction {
        Direction::Forward | Direction::Nothing => {
            out.step(&format!(
                "resuming {title} forward (it stopped during \"{stopped_at}\"; every change was in place)"
            ));
            match op.forward() {
                Ok(r) => Ending::Forward(Box::new(r)),
                Err(f) => Ending::Failed(f),
            }
        }
        Direction::Back => {
            let f = op.roll_back_after(format!(
                "{title} stopped during \"{stopped_at}\", before its changes were complete; resume rolled it back"
            ));
            match f.kind {
                FailureKind::RolledBack => Ending::Back(f),
                FailureKind::NeedsAttention => Ending::Failed(f),
            }
        }
        Direction::ContinueRollback => {
            let cause = op
                .journal
                .cause
                .clone()
                .unwrap_or_else(|| "an interrupted rollback".into());
            Ending::Failed(op.roll_back_after(cause))
        }
    }
}
