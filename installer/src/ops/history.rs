//! `hop-install history`: every finished operation on this host.

use std::path::Path;

use crate::error::Refusal;
use crate::history::{self, HistoryLine};
use crate::session::Session;

pub fn history(root: &Path) -> Result<Vec<HistoryLine>, Refusal> {
    let session = Session::reading(root)?;
    history::read(&session.state).map_err(|e| Refusal::from_error(&e))
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
        for a in &l.accepted {
            out += &format!(
                "  accepted {} ({}) by {}: {}\n",
                a.id, a.result, a.by, a.reason
            );
        }
    }
    out
}
