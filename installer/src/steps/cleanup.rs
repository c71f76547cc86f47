//! Clean up: the staging directory goes; older operations' backups and
//! staging go too (this operation's backup stays until the next hop, so a
//! completed hop can still be rolled back). The parts of a rolling hop
//! keep the backups of the same hop: a node keeps the dump `expand` took
//! there.

use anyhow::Result;

use super::Context;
use crate::journal::Scope;

/// What cleaning up does.
pub fn actions() -> Vec<crate::action::Action> {
    vec![crate::action::Action::CleanUp]
}

pub fn apply(cx: &mut Context<'_>) -> Result<()> {
    super::stage::undo(cx)?;
    let Ok(entries) = std::fs::read_dir(cx.state_dir.operations()) else {
        return Ok(());
    };
    let same_hop = format!("-{}-to-{}", cx.manifest.from, cx.manifest.to);
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == cx.op_id || (cx.scope != Scope::Host && name.ends_with(&same_hop)) {
            continue;
        }
        for sub in ["backup", "staging"] {
            let dir = entry.path().join(sub);
            if dir.exists() {
                std::fs::remove_dir_all(&dir)?;
            }
        }
    }
    Ok(())
}
