//! Clean up: the staging directory goes; older operations' backups and
//! staging go too (this operation's backup stays until the next hop, so a
//! completed hop can still be rolled back).

use anyhow::Result;

use super::Context;

pub fn apply(cx: &mut Context<'_>) -> Result<()> {
    super::stage::undo(cx)?;
    let Ok(entries) = std::fs::read_dir(cx.state_dir.operations()) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy() == cx.op_id {
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
