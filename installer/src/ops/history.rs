//! `hop-install history`: every finished operation on this host.

use std::path::Path;

use anyhow::{Context, Result};

use crate::error::Failure;
use crate::operation::HistoryLine;
use crate::state::StateDir;

use super::check::open_host;

pub fn history(root: &Path) -> Result<Vec<HistoryLine>, Failure> {
    let host = open_host(root)?;
    read_history(&StateDir::of(&host)).map_err(|e| Failure::refused(format!("{e:#}")))
}

pub fn read_history(sd: &StateDir) -> Result<Vec<HistoryLine>> {
    let path = sd.history_file();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    // A line cut short by a crash is skipped, not fatal.
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

pub fn render(lines: &[HistoryLine]) -> String {
    if lines.is_empty() {
        return "no operations yet\n".into();
    }
    let mut out = format!(
        "{:<22} {:<20} {:<26} {:>10}  {}\n",
        "FINISHED", "HOP", "OUTCOME", "DOWNTIME", "OPERATION"
    );
    for l in lines {
        out += &format!(
            "{:<22} {:<20} {:<26} {:>10}  {}\n",
            l.finished_at,
            format!("{} → {}", l.from, l.to),
            l.outcome,
            l.downtime_ms
                .map_or("-".into(), |d| format!("{:.3}s", d as f64 / 1000.0)),
            l.id
        );
    }
    out
}
