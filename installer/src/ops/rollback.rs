//! `hop-install rollback`: undo an interrupted operation, or — before the
//! next hop — the last completed one, from its backups. Once a hop has
//! committed, users write on the new version: rolling it back restores the
//! database dump taken before it, so it is done only with `--yes`, after
//! saying what will be lost.

use std::path::Path;

use crate::error::{Error, Refusal};
use crate::host_state::HostState;
use crate::journal::{self, Journal, OpPhase, Step};
use crate::operation::Operation;
use crate::recovery::rollback_needs_confirmation;
use crate::session::Session;
use crate::state_dir::StateDir;
use crate::terminal::Terminal;

/// Rolls back; `Ok(text)` once the host is back where it started.
pub fn rollback(root: &Path, confirmed: bool, out: &Terminal) -> Result<String, Error> {
    let session = Session::changing(root, "rollback")?;
    let (host, sd) = (&session.host, &session.state);
    let open = journal::find_open(sd).map_err(|e| Refusal::from_error(&e))?;
    let journal = match open {
        Some(j) => j,
        None => completed(sd)?,
    };
    if rollback_needs_confirmation(&journal) && !confirmed {
        return Err(what_would_be_lost(&journal, root).into());
    }
    let cause = match (&journal.phase, &journal.cause) {
        (OpPhase::Done, _) => "rolled back on request after it completed".to_owned(),
        (_, Some(c)) => c.clone(),
        (_, None) => "rolled back on request".to_owned(),
    };
    let title = journal.title();
    let from = journal.from.clone();
    let mut op = Operation::reopen(host, journal, out)?;
    op.roll_back(cause)?;
    // A chain stops where its hop was rolled back to.
    crate::chain::Chain::remove(sd);
    Ok(format!("{title} rolled back: the host runs {from} again"))
}

/// The refusal that asks for `--yes`, saying what a rollback would lose.
fn what_would_be_lost(j: &Journal, root: &Path) -> Refusal {
    let dumped_at = j
        .record(Step::Backup)
        .and_then(|r| r.started_at.clone())
        .unwrap_or_else(|| j.started_at.clone());
    let state = if j.phase == OpPhase::Done {
        "completed"
    } else {
        "committed (its post migrations did not finish)"
    };
    let mut refusal = Refusal::new(format!(
        "{} {state}: users may have written on {} since, and rolling it back restores the \
         database dump taken at {dumped_at}, so every change made to the database since then is lost",
        j.title(),
        j.to
    ));
    let root = root.display();
    refusal = if j.phase == OpPhase::Done {
        refusal.with_hint(format!(
            "to go ahead: hop-install rollback --root {root} --yes"
        ))
    } else {
        refusal.with_hint(format!(
            "to finish the upgrade instead: hop-install resume --root {root}; to go back anyway: hop-install rollback --root {root} --yes"
        ))
    };
    refusal
}

/// The completed operation that installed the current version, if its
/// backups are still there.
fn completed(sd: &StateDir) -> Result<Journal, Refusal> {
    let nothing = || {
        Refusal::new(
            "there is nothing to roll back: no unfinished operation, and no completed hop with its backups",
        )
    };
    let state = HostState::load(sd)
        .map_err(|e| Refusal::from_error(&e))?
        .ok_or_else(nothing)?;
    let id = state.last_operation.ok_or_else(nothing)?;
    let journal = Journal::load(&sd.operation(&id).join("journal.json")).map_err(|_| nothing())?;
    if journal.phase != OpPhase::Done || !sd.operation(&id).join("backup/facts.json").is_file() {
        return Err(nothing());
    }
    Ok(journal)
}
