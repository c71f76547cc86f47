//! `var/lib/hop/history.jsonl`: one line per finished operation (mode
//! 0600), appended and flushed when the operation ends; `hop-install
//! history` reads it.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::clock::now;
use crate::journal::Journal;
use crate::state_dir::StateDir;

/// One finished operation.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct HistoryLine {
    pub id: String,
    pub product: String,
    pub from: String,
    pub to: String,
    /// `upgraded`, `rolled back`, …
    pub outcome: String,
    pub started_at: String,
    pub finished_at: String,
    pub downtime_ms: Option<u64>,
    pub cause: Option<String>,
    /// Preflight results the operator accepted, with who and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted: Vec<crate::journal::Accepted>,
}

impl HistoryLine {
    /// The line for `journal`, finished now with `outcome`.
    pub fn of(journal: &Journal, outcome: &str) -> Self {
        Self {
            id: journal.id.clone(),
            product: journal.product.clone(),
            from: journal.from.clone(),
            to: journal.to.clone(),
            outcome: outcome.to_owned(),
            started_at: journal.started_at.clone(),
            finished_at: now(),
            downtime_ms: journal.downtime_ms(),
            cause: journal.cause.clone(),
            accepted: journal.accepted.clone(),
        }
    }
}

/// Appends `line` durably.
pub fn append(sd: &StateDir, line: &HistoryLine) -> Result<()> {
    let path = sd.history_file();
    let text = serde_json::to_string(line)?;
    crate::atomic::append_line(&path, &text)
        .with_context(|| format!("cannot append to {}", path.display()))
}

/// Every line, oldest first. A line cut short by a crash is skipped.
pub fn read(sd: &StateDir) -> Result<Vec<HistoryLine>> {
    let path = sd.history_file();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}
