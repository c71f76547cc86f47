//! Database backups before an upgrade, and restoring them exactly: one
//! file per backend (`postgres.rs`, `mariadb.rs`, `sqlite.rs`), each with
//! how a dump is taken, checked and put back; this file holds what they
//! share (the private, durable dump file and running the tools).
//!
//! Dumps are created with mode 0600: they hold the product's data.

pub(crate) mod mariadb;
mod postgres;
mod sqlite;

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use hop_artifact::migration::Backend;

use crate::error::MigrateError;
use crate::url::DatabaseUrl;
use hop_exec::{Command, Run};
pub(crate) use mariadb::DumpKind;
pub use postgres::dump_creates_public;

/// A written, checked dump.
#[derive(Clone, Debug)]
pub struct Dump {
    /// The dump file.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
}

fn fail(what: impl std::fmt::Display) -> MigrateError {
    MigrateError::Backup(what.to_string())
}

/// Creates (or truncates) `path` with mode 0600, never following a link
/// at its name.
pub fn create_private(path: &Path) -> Result<File, MigrateError> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| fail(format!("cannot create {}: {e}", path.display())))
}

/// Flushes `path` and its directory entry to disk: a dump the rollback
/// relies on must survive a power cut that comes right after it.
fn make_durable(path: &Path) -> Result<(), MigrateError> {
    let sync = |p: &Path| File::open(p).and_then(|f| f.sync_all());
    sync(path).map_err(|e| fail(format!("cannot flush {}: {e}", path.display())))?;
    if let Some(dir) = path.parent() {
        sync(dir).map_err(|e| fail(format!("cannot flush {}: {e}", dir.display())))?;
    }
    Ok(())
}

/// Checks that `dump` is a complete, readable dump for `url`'s backend:
/// right after it is taken, and again before anything is restored from it.
pub fn check_dump(url: &DatabaseUrl, dump: &Path, tools: &dyn Run) -> Result<(), MigrateError> {
    if !dump.is_file() {
        return Err(fail(format!("the backup {} is missing", dump.display())));
    }
    let unreadable =
        |e: MigrateError| fail(format!("the dump {} is not readable: {e}", dump.display()));
    match url.backend() {
        Backend::Postgresql => postgres::check(dump, tools).map_err(unreadable),
        Backend::Mariadb => mariadb::check(dump),
        Backend::Sqlite => sqlite::check(dump),
    }
}

pub(crate) fn run(tools: &dyn Run, command: &Command) -> Result<String, MigrateError> {
    let out = tools.run(command).map_err(|e| {
        fail(format!(
            "cannot run {}: {e} (is it installed?)",
            command.program
        ))
    })?;
    if !out.success() {
        return Err(fail(format!(
            "{} exited with {}: {}",
            command.program,
            out.code.map_or("a signal".into(), |c| c.to_string()),
            out.text.trim()
        )));
    }
    Ok(out.text)
}

/// Dumps the database `url` names into `dest`.
pub fn backup(url: &DatabaseUrl, dest: &Path, tools: &dyn Run) -> Result<Dump, MigrateError> {
    create_private(dest)?;
    match url.backend() {
        Backend::Postgresql => postgres::dump(url, dest, tools)?,
        Backend::Mariadb => run(tools, &mariadb::dump(url, dest, DumpKind::Backup)).map(drop)?,
        Backend::Sqlite => sqlite::dump(url, dest)?,
    }
    check_dump(url, dest, tools)?;
    make_durable(dest)?;
    let bytes = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0);
    Ok(Dump {
        path: dest.to_path_buf(),
        bytes,
    })
}

/// Puts the database back exactly as `dump` has it. Safe to run again if
/// interrupted.
pub fn restore(url: &DatabaseUrl, dump: &Path, tools: &dyn Run) -> Result<(), MigrateError> {
    check_dump(url, dump, tools)?;
    match url.backend() {
        Backend::Postgresql => postgres::restore(url, dump, tools),
        Backend::Mariadb => mariadb::restore(url, dump, tools),
        Backend::Sqlite => sqlite::restore(url, dump),
    }
}
