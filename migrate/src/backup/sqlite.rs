//! SQLite's backups: the online backup API, checked with `PRAGMA
//! quick_check`; a restore copies the pages back in one transaction.

use std::path::Path;

use rusqlite::{MAIN_DB, OpenFlags};

use super::fail;
use crate::error::MigrateError;
use crate::url::DatabaseUrl;

/// Whether `dump` is an SQLite database that passes `quick_check`.
pub(super) fn check(dump: &Path) -> Result<(), MigrateError> {
    let copy = rusqlite::Connection::open_with_flags(dump, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| fail(format!("{}: {e}", dump.display())))?;
    let check: String = copy
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|e| fail(format!("checking {}: {e}", dump.display())))?;
    if check == "ok" {
        Ok(())
    } else {
        Err(fail(format!(
            "the backup {} is damaged: {check}",
            dump.display()
        )))
    }
}

/// Copies `url`'s database into `dest`, consistent while others write.
pub(super) fn dump(url: &DatabaseUrl, dest: &Path) -> Result<(), MigrateError> {
    let source = path(url)?;
    let conn = rusqlite::Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| fail(format!("{}: {e}", source.display())))?;
    conn.backup(MAIN_DB, dest, None::<fn(rusqlite::backup::Progress)>)
        .map_err(|e| fail(format!("backing up {}: {e}", source.display())))
}

/// Puts `url`'s database back as `dump` has it.
pub(super) fn restore(url: &DatabaseUrl, dump: &Path) -> Result<(), MigrateError> {
    let target = path(url)?;
    let mut conn = rusqlite::Connection::open(target)
        .map_err(|e| fail(format!("{}: {e}", target.display())))?;
    conn.restore(MAIN_DB, dump, None::<fn(rusqlite::backup::Progress)>)
        .map_err(|e| fail(format!("restoring {}: {e}", target.display())))
}

fn path(url: &DatabaseUrl) -> Result<&Path, MigrateError> {
    url.sqlite_path().ok_or_else(|| fail("no SQLite path"))
}
