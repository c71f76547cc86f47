//! Where each migration of a package stands on a database: pending,
//! applied (when and by which hop), in progress (a batched post migration
//! an interruption stopped) or failed.

use hop_artifact::migration::Phase;

use crate::history::{HistoryRow, RowState};
use crate::script::Script;

/// Where one migration of the package stands on this database.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// Not applied yet.
    Pending,
    /// Applied by a hop.
    Applied {
        /// The hop that applied it.
        hop: String,
        /// When.
        applied_at: String,
        /// How long it ran.
        duration_ms: u64,
    },
    /// A batched migration under way (or one a crash interrupted).
    InProgress {
        /// Batches run so far.
        batches: u64,
        /// Rows changed so far.
        rows: u64,
    },
    /// It failed.
    Failed {
        /// The database's error.
        error: String,
    },
}

/// One line of the status.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Entry {
    /// The migration's number.
    pub version: u32,
    /// Its file name.
    pub file: String,
    /// Its phase.
    pub phase: Phase,
    /// Where it stands.
    #[serde(flatten)]
    pub state: State,
}

/// Every migration the package or the history knows of.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Status {
    /// One entry per migration, in order.
    pub entries: Vec<Entry>,
}

impl Status {
    /// (pending, applied) counts of a phase.
    pub fn counts(&self, phase: Phase) -> (usize, usize) {
        let of_phase = self.entries.iter().filter(|e| e.phase == phase);
        let pending = of_phase
            .clone()
            .filter(|e| matches!(e.state, State::Pending | State::InProgress { .. }))
            .count();
        let applied = of_phase
            .filter(|e| matches!(e.state, State::Applied { .. }))
            .count();
        (pending, applied)
    }

    /// The migrations still to run (pending or under way), in order.
    pub fn pending(&self) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(|e| matches!(e.state, State::Pending | State::InProgress { .. }))
    }
}

/// Where each script stands given the history.
pub fn status_of(history: &[HistoryRow], scripts: &[Script]) -> Status {
    let mut entries: Vec<Entry> = scripts
        .iter()
        .map(|s| {
            let state = match history.iter().find(|r| r.version == s.version) {
                None => State::Pending,
                Some(r) => row_state(r),
            };
            Entry {
                version: s.version,
                file: s.file_name(),
                phase: s.phase,
                state,
            }
        })
        .collect();
    for r in history {
        if !scripts.iter().any(|s| s.version == r.version) {
            entries.push(Entry {
                version: r.version,
                file: r.file_name(),
                phase: r.phase,
                state: row_state(r),
            });
        }
    }
    entries.sort_by_key(|e| e.version);
    Status { entries }
}

fn row_state(r: &HistoryRow) -> State {
    match r.state() {
        RowState::Applied => State::Applied {
            hop: r.hop.clone(),
            applied_at: r.applied_at.clone(),
            duration_ms: r.duration_ms,
        },
        RowState::InProgress => State::InProgress {
            batches: r.batches,
            rows: r.rows_affected,
        },
        RowState::Failed => State::Failed {
            error: r.error.clone().unwrap_or_default(),
        },
    }
}
