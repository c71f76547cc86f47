//! `hop-install rollback`: undo an interrupted operation, or — before the
//! next hop — the last completed one, from its backups.

use std::path::Path;

use crate::error::Failure;
use crate::journal::{self, OpPhase};
use crate::lock::HostLock;
use crate::operation::Operation;
use crate::output::Output;
use crate::state::{HostState, StateDir};

use super::check::open_host;

/// Rolls back; `Ok(title)` once the host is back where it started.
pub fn rollback(root: &Path, confirmed: bool, out: &Output) -> Result<String, Failure> {
    super::check::require_privileges(root)?;
    let host = open_host(root)?;
    let sd = StateDir::of(&host);
    let _lock = HostLock::acquire(&sd, "rollback")?;
    crate::interrupt::install();
    let open = journal::find_open(&sd).map_err(|e| Failure::refused(format!("{e:#}")))?;
    let (journal, cause) = match open {
        Some(j) => {
            let cause = j
                .cause
                .clone()
                .unwrap_or_else(|| "rolled back on request".into());
            (j, cause)
        }
        None => {
            let last = completed(&sd)?;
            if !confirmed {
                return Err(Failure::refused(format!(
                    "{} completed at {}; rolling it back restores the database dump taken before it, \
                     so every change made since then is lost",
                    last.title(),
                    last.started_at
                ))
                .with_hint(format!("to go ahead: hop-install rollback --root {} --yes", host.root.display())));
            }
            (last, "rolled back on request after it completed".to_owned())
        }
    };
    let title = journal.title();
    let from = journal.from.clone();
    let mut op = Operation::reopen(&host, journal, out)?;
    op.roll_back(cause)?;
    // A chain stops where its hop was rolled back to.
    crate::chain::Chain::remove(&sd);
    Ok(format!("{title} rolled back: the host runs {from} again"))
}

/// The completed operation that installed the current version, if its
/// backups are still there.
fn completed(sd: &StateDir) -> Result<journal::Journal, Failure> {
    let nothing = || {
        Failure::refused(
            "there is nothing to roll back: no unfinished operation, and no completed hop with its backups",
        )
    };
    let state = HostState::load(sd)
        .map_err(|e| Failure::refused(format!("{e:#}")))?
        .ok_or_else(nothing)?;
    let id = state.last_operation.ok_or_else(nothing)?;
    let journal =
        journal::Journal::load(&sd.operation(&id).join("journal.json")).map_err(|_| nothing())?;
    if journal.phase != OpPhase::Done || !sd.operation(&id).join("backup/facts.json").is_file() {
        return Err(nothing());
    }
    Ok(journal)
}
