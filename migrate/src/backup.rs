//! Database backups before an upgrade, and restoring them exactly.
//!
//! * PostgreSQL: `pg_dump -Fc`, checked with `pg_restore --list`. Restore
//!   drops every user schema (so objects created after the dump go too),
//!   recreates `public` with its owner and grants, and replays
//!   `pg_restore --clean --if-exists` — all in one `psql` transaction.
//! * MariaDB: `mariadb-dump --single-transaction --databases
//!   --add-drop-database`, checked for its completion line; restore replays
//!   it (the drop and re-create of the database included).
//! * SQLite: the online backup API, checked with `PRAGMA quick_check`;
//!   restore copies it back page by page in one transaction.
//!
//! Dumps are created with mode 0600: they hold the product's data.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use hop_artifact::migration::Backend;
use rusqlite::{MAIN_DB, OpenFlags};

use crate::error::MigrateError;
use crate::url::DatabaseUrl;
use hop_exec::{Command, Run};

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
        Backend::Postgresql => {
            run(
                tools,
                &Command::new("pg_restore")
                    .arg("--list")
                    .arg(dump.display().to_string()),
            )
            .map_err(unreadable)?;
        }
        Backend::Mariadb => {
            if !ends_with(dump, b"-- Dump completed")? {
                return Err(fail(format!("the dump {} is incomplete", dump.display())));
            }
        }
        Backend::Sqlite => {
            let copy =
                rusqlite::Connection::open_with_flags(dump, OpenFlags::SQLITE_OPEN_READ_ONLY)
                    .map_err(|e| fail(format!("{}: {e}", dump.display())))?;
            let check: String = copy
                .query_row("PRAGMA quick_check", [], |r| r.get(0))
                .map_err(|e| fail(format!("checking {}: {e}", dump.display())))?;
            if check != "ok" {
                return Err(fail(format!(
                    "the backup {} is damaged: {check}",
                    dump.display()
                )));
            }
        }
    }
    Ok(())
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
        Backend::Postgresql => {
            let mut dump = Command::new("pg_dump")
                .args(["-Fc", "--no-password"])
                .arg(format!("--dbname={}", url.without_password()))
                .secret_env("PGPASSWORD", url.password());
            dump.stdout = Some(dest.to_path_buf());
            run(tools, &dump)?;
        }
        Backend::Mariadb => {
            run(tools, &mariadb_dump(url, dest, DumpKind::Backup))?;
        }
        Backend::Sqlite => {
            let source = sqlite_path(url)?;
            let conn =
                rusqlite::Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)
                    .map_err(|e| fail(format!("{}: {e}", source.display())))?;
            conn.backup(MAIN_DB, dest, None::<fn(rusqlite::backup::Progress)>)
                .map_err(|e| fail(format!("backing up {}: {e}", source.display())))?;
        }
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
        Backend::Postgresql => {
            let toc = run(
                tools,
                &Command::new("pg_restore")
                    .arg("--list")
                    .arg(dump.display().to_string()),
            )?;
            let dump_has_public = dump_creates_public(&toc);
            let script = dump.with_extension("restore.sql");
            create_private(&script)?;
            let result = (|| {
                run(
                    tools,
                    &Command::new("pg_restore")
                        .args(["--clean", "--if-exists", "-f"])
                        .arg(script.display().to_string())
                        .arg(dump.display().to_string()),
                )?;
                run(
                    tools,
                    &Command::new("psql")
                        .args([
                            "--no-psqlrc",
                            "--quiet",
                            "--single-transaction",
                            "-v",
                            "ON_ERROR_STOP=1",
                            "--no-password",
                        ])
                        .arg(format!("--dbname={}", url.without_password()))
                        .arg("-c")
                        .arg(clear_postgresql_schemas(!dump_has_public))
                        .arg("-f")
                        .arg(script.display().to_string())
                        .secret_env("PGPASSWORD", url.password()),
                )
            })();
            let _ = std::fs::remove_file(&script);
            result?;
        }
        Backend::Mariadb => {
            let mut load = Command::new(crate::tools::mariadb_client())
                .args(mariadb_connection(url))
                .secret_env("MYSQL_PWD", url.password());
            load.stdin = Some(dump.to_path_buf());
            run(tools, &load)?;
        }
        Backend::Sqlite => {
            let target = sqlite_path(url)?;
            let mut conn = rusqlite::Connection::open(target)
                .map_err(|e| fail(format!("{}: {e}", target.display())))?;
            conn.restore(MAIN_DB, dump, None::<fn(rusqlite::backup::Progress)>)
                .map_err(|e| fail(format!("restoring {}: {e}", target.display())))?;
        }
    }
    Ok(())
}

/// Whether restoring the dump whose `pg_restore --list` is `toc` creates
/// the `public` schema: its entry is there, and the dump is of a server of
/// 15 or later. Of an older server, pg_dump lists the entry but does not
/// create the schema ("*not* creating schema, since initdb creates it").
pub fn dump_creates_public(toc: &str) -> bool {
    let listed = toc.lines().any(|l| l.contains(" SCHEMA - public "));
    let source_major = toc.lines().find_map(|l| {
        l.trim_start_matches(';')
            .trim()
            .strip_prefix("Dumped from database version:")?
            .trim()
            .split(['.', ' '])
            .next()?
            .parse::<u32>()
            .ok()
    });
    listed && source_major.is_none_or(|m| m >= 15)
}

/// SQL that drops every user schema and, when the dump will not, recreates
/// `public` with its owner, grants and comment as they were.
fn clear_postgresql_schemas(recreate_public: bool) -> String {
    format!(
        r#"DO $hop$
DECLARE
    s record;
    public_owner text;
    public_comment text;
    grants text[];
    g text;
BEGIN
    SELECT pg_get_userbyid(nspowner), obj_description(oid, 'pg_namespace')
      INTO public_owner, public_comment FROM pg_namespace WHERE nspname = 'public';
    SELECT array_agg(format('GRANT %s ON SCHEMA public TO %s', a.privilege_type,
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END))
      INTO grants
      FROM pg_namespace n, aclexplode(n.nspacl) a
     WHERE n.nspname = 'public' AND a.grantee <> n.nspowner;
    FOR s IN SELECT nspname FROM pg_namespace
             WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema' LOOP
        EXECUTE format('DROP SCHEMA %I CASCADE', s.nspname);
    END LOOP;
    IF {recreate_public} AND public_owner IS NOT NULL THEN
        EXECUTE format('CREATE SCHEMA public AUTHORIZATION %I', public_owner);
        FOREACH g IN ARRAY coalesce(grants, ARRAY[]::text[]) LOOP
            EXECUTE g;
        END LOOP;
        IF public_comment IS NOT NULL THEN
            EXECUTE format('COMMENT ON SCHEMA public IS %L', public_comment);
        END IF;
    END IF;
END
$hop$;"#
    )
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
pub(crate) fn mariadb_dump(url: &DatabaseUrl, dest: &Path, kind: DumpKind) -> Command {
    let mut dump = Command::new(crate::tools::mariadb_dump())
        .args(mariadb_connection(url))
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
pub(crate) fn mariadb_connection(url: &DatabaseUrl) -> Vec<String> {
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

fn sqlite_path(url: &DatabaseUrl) -> Result<&Path, MigrateError> {
    url.sqlite_path().ok_or_else(|| fail("no SQLite path"))
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

#[cfg(test)]
mod tests {
    use super::dump_creates_public;

    const ENTRY: &str = "6; 2615 2200 SCHEMA - public postgres\n";

    #[test]
    fn public_is_created_by_a_dump_of_15_and_recreated_by_hop_for_older_servers() {
        let of = |version: &str| format!(";     Dumped from database version: {version}\n{ENTRY}");
        assert!(dump_creates_public(&of("15.20 (Debian 15.20-0+deb12u1)")));
        assert!(dump_creates_public(&of("16.4")));
        assert!(!dump_creates_public(&of("12.22")));
        assert!(!dump_creates_public(&of("14.23")));
        assert!(!dump_creates_public(
            ";     Dumped from database version: 15.2\n"
        ));
        assert!(dump_creates_public(ENTRY));
    }
}
