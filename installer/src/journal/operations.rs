//! The operations of a host, one journal each under the state
//! directory's `operations/`: listing them, finding the unfinished one,
//! naming a new one.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::Journal;
use crate::state_dir::StateDir;

/// Refuses (exit 2) while an operation is unfinished: nothing may start
/// on a host between versions.
pub fn refuse_if_open(dir: &StateDir) -> Result<(), crate::error::Refusal> {
    match find_open(dir).map_err(|e| crate::error::Refusal::from_error(&e))? {
        Some(open) => Err(crate::error::Refusal::new(format!(
            "{} did not finish; run `hop-install resume` first",
            open.title()
        ))),
        None => Ok(()),
    }
}

/// The open (unfinished) operation on a host, if any.
pub fn find_open(dir: &StateDir) -> Result<Option<Journal>> {
    Ok(all(dir)?.into_iter().rev().find(|j| j.phase.is_open()))
}

/// Every operation's journal, oldest first (ids sort by time). A damaged
/// journal is an error naming it: hop does not guess where a host is.
pub fn all(dir: &StateDir) -> Result<Vec<Journal>> {
    let ops = dir.operations();
    let mut journals = Vec::new();
    let entries = match std::fs::read_dir(&ops) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(journals),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", ops.display())),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path().join("journal.json")))
        .collect();
    paths.sort();
    for path in paths {
        if path.is_file() {
            journals.push(Journal::load(&path)?);
        }
    }
    Ok(journals)
}

/// A new operation id: sortable time, then the hop.
pub fn new_id(from: &str, to: &str) -> String {
    let stamp = humantime::format_rfc3339_millis(std::time::SystemTime::now())
        .to_string()
        .replace([':', '-'], "")
        .replace('.', "-");
    format!("{stamp}-{from}-to-{to}")
}
