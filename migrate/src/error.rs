//! Why the engine refused or failed. Every message names the migration file
//! involved and, where there is one, what to do.

use std::time::Duration;

/// The engine's errors.
#[derive(Debug, thiserror::Error)]
#[allow(
    missing_docs,
    reason = "each variant's #[error] message is its documentation"
)]
pub enum MigrateError {
    #[error("cannot reach the database {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the database server is not supported: {}", .0.join("; "))]
    Incompatible(Vec<String>),
    #[error("database error while {doing}: {reason}")]
    Database { doing: String, reason: String },
    #[error(
        "another migrator holds the migration lock on {url} (waited {}s); \
         wait for it to finish, or find the stuck hop-install and stop it",
        .waited.as_secs()
    )]
    Locked { url: String, waited: Duration },
    #[error(
        "{file} failed on {applied_at} and left the database dirty: {error}; \
         restore the database from the backup taken before that upgrade (hop-install rollback), \
         then run the upgrade again"
    )]
    Dirty {
        file: String,
        applied_at: String,
        error: String,
    },
    #[error(
        "{file} was applied to this database (by hop {hop}) but is not in this package: \
         the package belongs to another line of the product, or the database to another product"
    )]
    MissingFromPackage { file: String, hop: String },
    #[error(
        "{file} changed since it was applied (applied sha256 {applied}, package sha256 {package}): \
         applied migrations must never change; ask the vendor for a corrected package"
    )]
    ChecksumMismatch {
        file: String,
        applied: String,
        package: String,
    },
    #[error(
        "{file} is older than {newer}, which is already applied: migrations must be applied in order"
    )]
    OutOfOrder { file: String, newer: String },
    #[error("{file}: {reason}")]
    BadScript { file: String, reason: String },
    /// A migration failed. On PostgreSQL and SQLite it was rolled back
    /// (`dirty` false): the database is as before it. On MariaDB, where DDL
    /// commits implicitly, it may be partly applied (`dirty` true).
    #[error("{}", failure_message(file, *line, error, *dirty))]
    Failed {
        file: String,
        line: usize,
        error: String,
        dirty: bool,
    },
    #[error("stopped before {file}: {reason}")]
    Stopped { file: String, reason: String },
    #[error("backup or restore failed: {0}")]
    Backup(String),
}

fn failure_message(file: &str, line: usize, error: &str, dirty: bool) -> String {
    if dirty {
        format!(
            "{file}:{line} failed: {error}. This database cannot roll DDL back, so it may be \
             partly migrated and {file} is recorded as failed: restore it from the backup"
        )
    } else {
        format!(
            "{file}:{line} failed: {error}. It was rolled back: the database is as it was before {file}"
        )
    }
}

impl MigrateError {
    pub(crate) fn db(doing: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Self::Database {
            doing: doing.into(),
            reason: reason.to_string(),
        }
    }

    /// Whether the database may be left changed and needs a restore.
    pub fn needs_restore(&self) -> bool {
        matches!(
            self,
            MigrateError::Failed { dirty: true, .. } | MigrateError::Dirty { .. }
        )
    }
}
