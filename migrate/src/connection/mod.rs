//! A connection to one database, with the few operations the engine needs;
//! one implementation per backend.

mod mariadb;
mod postgres;
mod sqlite;

use std::time::Duration;

use hop_artifact::migration::Backend;

use crate::compat::ServerFacts;
use crate::dialect::Dialect;
use crate::error::MigrateError;
use crate::history::HistoryRow;
use crate::url::DatabaseUrl;

/// What the engine does with a database. Statement errors are returned as
/// the database's message, which the engine puts in context.
pub(crate) trait Connection {
    fn facts(&mut self) -> Result<ServerFacts, MigrateError>;
    /// Bounds how long any statement waits for a table lock.
    fn set_lock_timeout(&mut self, timeout: Duration) -> Result<(), MigrateError>;
    /// Takes the one-migrator-per-database lock if it is free.
    fn try_lock(&mut self) -> Result<bool, MigrateError>;
    fn unlock(&mut self) -> Result<(), MigrateError>;
    /// Runs a statement of any kind.
    fn execute(&mut self, sql: &str) -> Result<(), String>;
    /// Runs a data-changing statement and returns the rows it changed.
    fn execute_count(&mut self, sql: &str) -> Result<u64, String>;
    /// Runs a migration's statement of any kind and returns the rows it
    /// changed (0 where the database reports none, as for most DDL).
    fn execute_changes(&mut self, sql: &str) -> Result<u64, String>;
    /// Runs a query and returns its rows as text (NULL as `None`): what
    /// the schema and foreign-history readers use.
    fn query_text(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, String>;
    /// Runs a vendor check's query: one statement only (the extended
    /// protocol, or a prepared statement, refuses a second), in a
    /// read-only transaction, cut off after `timeout`.
    fn query_checked(
        &mut self,
        sql: &str,
        timeout: Duration,
    ) -> Result<Vec<Vec<Option<String>>>, String>;
    /// The SQL this backend speaks.
    fn dialect(&self) -> &'static dyn Dialect;
    fn begin(&mut self) -> Result<(), String> {
        let sql = self.dialect().begin();
        self.execute(sql)
    }
    fn commit(&mut self) -> Result<(), String> {
        self.execute("COMMIT")
    }
    fn rollback(&mut self) -> Result<(), String> {
        self.execute("ROLLBACK")
    }
    fn history_exists(&mut self) -> Result<bool, MigrateError>;
    /// The database's size on disk, in bytes (for backup space checks).
    fn size(&mut self) -> Result<u64, MigrateError>;
    fn history(&mut self) -> Result<Vec<HistoryRow>, MigrateError>;
    /// Inserts or updates the row of `row.version`.
    fn write_history(&mut self, row: &HistoryRow) -> Result<(), String>;
}

/// Connects to the database `url` names.
pub(crate) fn open(
    url: &DatabaseUrl,
    create_sqlite: bool,
) -> Result<Box<dyn Connection>, MigrateError> {
    Ok(match url.backend() {
        Backend::Postgresql => Box::new(postgres::Pg::connect(url)?),
        Backend::Mariadb => Box::new(mariadb::Maria::connect(url)?),
        Backend::Sqlite => Box::new(sqlite::Lite::connect(url, create_sqlite)?),
    })
}

/// The values of a history row in column order, for INSERT and UPDATE.
pub(crate) const INSERT_COLUMNS: &str = "version, description, phase, checksum, hop, applied_at, \
     duration_ms, success, batches, rows_affected, error";
