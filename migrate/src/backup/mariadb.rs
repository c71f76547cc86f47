//! MariaDB's backups: `mariadb-dump --single-transaction --databases
//! --add-drop-database`, checked for its completion line; a restore
//! replays it (the drop and re-create of the database included).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use hop_exec::{Command, Run};

use super::{fail, run};
use crate::error::MigrateError;
use crate::url::DatabaseUrl;

/// Whether `dump` ends with the line a finished dump ends with.
pub(super) fn check(dump: &Path) -> Result<(), MigrateError> {
    if ends_with(dump, b"-- Dump completed")? {
        Ok(())
    } else {
        Err(fail(format!("the dump {} is incomplete", dump.display())))
    }
}

/// Replays `dump` into the server `url` names.
pub(super) fn restore(url: &DatabaseUrl, dump: &Path, tools: &dyn Run) -> Result<(), MigrateError> {
    let mut load = Command::new(crate::tools::mariadb_client())
        .args(connection(url))
        .secret_env("MYSQL_PWD", url.password());
    load.stdin = Some(dump.to_path_buf());
    run(tools, &load).map(drop)
}

/// What a MariaDB dump is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DumpKind {
    /// A rollback's: the whole database with its stored code and its own
    /// DROP/CREATE/USE, so a restore puts it back as it was.
    Backup,
    /// A rehearsal copy's: tables, rows and views, loadable into any
    /// database; stored code goes in separately, vetted
    /// (`copy::stored_code`).
    DataForCopy,
}

/// `mariadb-dump` of `url`'s database into `dest`, consistent without
/// locking (`--single-transaction`).
pub(crate) fn dump(url: &DatabaseUrl, dest: &Path, kind: DumpKind) -> Command {
    let mut dump = Command::new(crate::tools::mariadb_dump())
        .args(connection(url))
        .args(["--single-transaction", "--hex-blob", "--skip-dump-date"]);
    dump = match kind {
        DumpKind::Backup => dump.args([
            "--routines",
            "--triggers",
            "--events",
            "--add-drop-database",
            "--databases",
        ]),
        DumpKind::DataForCopy => dump.args(["--skip-triggers"]),
    };
    dump = dump
        .arg(url.database())
        .secret_env("MYSQL_PWD", url.password());
    dump.stdout = Some(dest.to_path_buf());
    dump
}

/// `mariadb`/`mariadb-dump` connection options from the URL.
pub(crate) fn connection(url: &DatabaseUrl) -> Vec<String> {
    let mut args = Vec::new();
    if let Some(socket) = url.query("socket") {
        args.push(format!("--socket={socket}"));
    } else {
        if let Some(host) = url.host() {
            args.push(format!("--host={host}"));
        }
        if let Some(port) = url.port() {
            args.push(format!("--port={port}"));
        }
    }
    if let Some(user) = url.user() {
        args.push(format!("--user={user}"));
    }
    args
}

/// Whether the file's last 200 bytes contain `marker`.
fn ends_with(path: &Path, marker: &[u8]) -> Result<bool, MigrateError> {
    let mut f = File::open(path).map_err(|e| fail(format!("{}: {e}", path.display())))?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    f.seek(SeekFrom::Start(len.saturating_sub(200)))
        .map_err(fail)?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail).map_err(fail)?;
    Ok(tail.windows(marker.len()).any(|w| w == marker))
}
