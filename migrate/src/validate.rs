//! Whether a database's history fits a package's migrations, checked
//! before any migration runs.

use hop_artifact::migration::Phase;

use crate::error::MigrateError;
use crate::history::{HistoryRow, RowState};
use crate::script::Script;

/// Refuses a history that does not fit the package: a failed (dirty) row;
/// an applied migration the package lacks or whose file changed; a pending
/// migration older than one an earlier hop applied (post migrations of an
/// unfinished earlier hop excepted: they may still run).
pub fn validate(history: &[HistoryRow], scripts: &[Script], hop: &str) -> Result<(), MigrateError> {
    if let Some(dirty) = history.iter().find(|r| r.state() == RowState::Failed) {
        return Err(MigrateError::Dirty {
            file: dirty.file_name(),
            applied_at: dirty.applied_at.clone(),
            error: dirty.error.clone().unwrap_or_default(),
        });
    }
    for row in history {
        let Some(script) = scripts
            .iter()
            .find(|s| s.version == row.version && s.description == row.description)
        else {
            return Err(MigrateError::MissingFromPackage {
                file: row.file_name(),
                hop: row.hop.clone(),
            });
        };
        if script.checksum.to_hex() != row.checksum {
            return Err(MigrateError::ChecksumMismatch {
                file: script.file_name(),
                applied: row.checksum.clone(),
                package: script.checksum.to_hex(),
            });
        }
    }
    let newest_earlier = history
        .iter()
        .filter(|r| r.hop != hop)
        .max_by_key(|r| r.version);
    if let Some(newer) = newest_earlier {
        let applied = |s: &Script| history.iter().any(|r| r.version == s.version);
        if let Some(old) = scripts
            .iter()
            .find(|s| s.version < newer.version && s.phase != Phase::Post && !applied(s))
        {
            return Err(MigrateError::OutOfOrder {
                file: old.file_name(),
                newer: newer.file_name(),
            });
        }
    }
    Ok(())
}
