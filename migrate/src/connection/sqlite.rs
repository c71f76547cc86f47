//! SQLite through `rusqlite`. The one-migrator lock is an exclusive file
//! lock beside the database (released by the kernel if the process dies);
//! each migration runs in a `BEGIN IMMEDIATE` transaction.

use std::fs::File;
use std::path::PathBuf;
use std::time::Duration;

use rusqlite::{OpenFlags, params};

use super::{Connection, INSERT_COLUMNS};
use crate::compat::ServerFacts;
use crate::error::MigrateError;
use crate::history::{HistoryRow, SELECT_SQL, parse_phase};
use crate::url::DatabaseUrl;

pub(crate) struct Lite {
    conn: rusqlite::Connection,
    path: PathBuf,
    lock_path: PathBuf,
    lock: Option<File>,
}

impl Lite {
    pub(crate) fn connect(url: &DatabaseUrl, create: bool) -> Result<Self, MigrateError> {
        let unreachable = |reason: String| MigrateError::Unreachable {
            url: url.redacted(),
            reason,
        };
        let path = url
            .sqlite_path()
            .ok_or_else(|| unreachable("no path".into()))?
            .to_path_buf();
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        } else if !path.is_file() {
            return Err(unreachable(format!("{} does not exist", path.display())));
        }
        let conn = rusqlite::Connection::open_with_flags(&path, flags)
            .map_err(|e| unreachable(format!("{}: {e}", path.display())))?;
        let mut lock_path = path.clone().into_os_string();
        lock_path.push(".hop-lock");
        Ok(Self {
            conn,
            path,
            lock_path: lock_path.into(),
            lock: None,
        })
    }
}

/// Opens (creating, mode 0600) the lock file beside the database. The
/// database's directory may belong to the product's user, so a link or a
/// hard link planted at the lock's name is refused, never followed: hop
/// runs as root and must not create or lock files where someone points it.
fn open_lock_file(path: &std::path::Path) -> std::io::Result<File> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() || meta.nlink() != 1 {
        return Err(std::io::Error::other(
            "it is not a plain file (a link or a hard link was put there); remove it",
        ));
    }
    Ok(file)
}

impl Connection for Lite {
    fn facts(&mut self) -> Result<ServerFacts, MigrateError> {
        let version = rusqlite::version().to_owned();
        Ok(ServerFacts {
            version_text: version.clone(),
            version,
            ..Default::default()
        })
    }

    fn set_lock_timeout(&mut self, timeout: Duration) -> Result<(), MigrateError> {
        self.conn
            .busy_timeout(timeout)
            .map_err(|e| MigrateError::db("setting busy_timeout", e))
    }

    fn try_lock(&mut self) -> Result<bool, MigrateError> {
        let file = open_lock_file(&self.lock_path)
            .map_err(|e| MigrateError::db(format!("opening {}", self.lock_path.display()), e))?;
        match file.try_lock() {
            Ok(()) => {
                self.lock = Some(file);
                Ok(true)
            }
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(e)) => Err(MigrateError::db(
                format!("locking {}", self.lock_path.display()),
                e,
            )),
        }
    }

    fn unlock(&mut self) -> Result<(), MigrateError> {
        self.lock = None;
        Ok(())
    }

    fn execute(&mut self, sql: &str) -> Result<(), String> {
        self.conn.execute_batch(sql).map_err(|e| e.to_string())
    }

    fn execute_changes(&mut self, sql: &str) -> Result<u64, String> {
        // `changes()` keeps the last DML's count across DDL; the total does not.
        let before = self.conn.total_changes();
        self.execute(sql)?;
        Ok(self.conn.total_changes().saturating_sub(before))
    }

    fn execute_count(&mut self, sql: &str) -> Result<u64, String> {
        self.conn
            .execute(sql, [])
            .map(|n| n as u64)
            .map_err(|e| e.to_string())
    }

    fn query_text(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
        use rusqlite::types::ValueRef;
        let mut stmt = self.conn.prepare(sql).map_err(|e| e.to_string())?;
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |row| {
                (0..n)
                    .map(|i| {
                        Ok(match row.get_ref(i)? {
                            ValueRef::Null => None,
                            ValueRef::Integer(v) => Some(v.to_string()),
                            ValueRef::Real(v) => Some(v.to_string()),
                            ValueRef::Text(t) | ValueRef::Blob(t) => {
                                Some(String::from_utf8_lossy(t).into_owned())
                            }
                        })
                    })
                    .collect::<Result<Vec<_>, rusqlite::Error>>()
            })
            .map_err(|e| e.to_string())?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())
    }

    fn query_checked(
        &mut self,
        sql: &str,
        timeout: Duration,
    ) -> Result<Vec<Vec<Option<String>>>, String> {
        self.execute("PRAGMA query_only = ON")?;
        let deadline = std::time::Instant::now() + timeout;
        // Asked every thousand virtual-machine steps: true interrupts.
        self.conn
            .progress_handler(1000, Some(move || std::time::Instant::now() > deadline))
            .map_err(|e| e.to_string())?;
        // rusqlite refuses SQL with a second statement after the first.
        let rows = self.query_text(sql).map_err(|e| {
            if e.contains("interrupted") {
                format!("stopped after {}: {e}", humantime::format_duration(timeout))
            } else {
                e
            }
        });
        let unhooked = self
            .conn
            .progress_handler(0, None::<fn() -> bool>)
            .map_err(|e| e.to_string());
        let ended = self.execute("PRAGMA query_only = OFF");
        let rows = rows?;
        ended?;
        unhooked?;
        Ok(rows)
    }

    fn dialect(&self) -> &'static dyn crate::dialect::Dialect {
        crate::dialect::dialect(hop_artifact::migration::Backend::Sqlite)
    }

    fn history_exists(&mut self) -> Result<bool, MigrateError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'hop_schema_history'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(|e| MigrateError::db("looking for the history table", e))
    }

    fn size(&mut self) -> Result<u64, MigrateError> {
        std::fs::metadata(&self.path)
            .map(|m| m.len())
            .map_err(|e| MigrateError::db("reading the database size", e))
    }

    fn history(&mut self) -> Result<Vec<HistoryRow>, MigrateError> {
        let read = |conn: &rusqlite::Connection| -> rusqlite::Result<Vec<HistoryRow>> {
            let mut stmt = conn.prepare(SELECT_SQL)?;
            let rows = stmt.query_map([], |r| {
                Ok(HistoryRow {
                    version: r.get(0)?,
                    description: r.get(1)?,
                    phase: parse_phase(&r.get::<_, String>(2)?),
                    checksum: r.get(3)?,
                    hop: r.get(4)?,
                    applied_at: r.get(5)?,
                    duration_ms: r.get::<_, i64>(6)? as u64,
                    success: r.get(7)?,
                    batches: r.get::<_, i64>(8)? as u64,
                    rows_affected: r.get::<_, i64>(9)? as u64,
                    error: r.get(10)?,
                })
            })?;
            rows.collect()
        };
        read(&self.conn).map_err(|e| MigrateError::db("reading the migration history", e))
    }

    fn write_history(&mut self, row: &HistoryRow) -> Result<(), String> {
        let values = params![
            row.version,
            row.description,
            row.phase.as_str(),
            row.checksum,
            row.hop,
            row.applied_at,
            row.duration_ms as i64,
            row.success,
            row.batches as i64,
            row.rows_affected as i64,
            row.error,
        ];
        let updated = self
            .conn
            .execute(
                "UPDATE hop_schema_history SET description = ?2, phase = ?3, checksum = ?4, hop = ?5, \
                 applied_at = ?6, duration_ms = ?7, success = ?8, batches = ?9, rows_affected = ?10, \
                 error = ?11 WHERE version = ?1",
                values,
            )
            .map_err(|e| e.to_string())?;
        if updated == 0 {
            self.conn
                .execute(
                    &format!(
                        "INSERT INTO hop_schema_history ({INSERT_COLUMNS}) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
                    ),
                    values,
                )
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}
