//! SQLite, the embedded default.

use super::Dialect;

pub struct Sqlite;

impl Dialect for Sqlite {
    fn name(&self) -> &'static str {
        "SQLite"
    }

    fn is_file(&self) -> bool {
        true
    }

    /// Takes the write lock at once, so a second writer waits at `BEGIN`
    /// rather than failing halfway.
    fn begin(&self) -> &'static str {
        "BEGIN IMMEDIATE"
    }

    fn read_only(&self) -> (&'static str, &'static str) {
        ("PRAGMA query_only = ON", "PRAGMA query_only = OFF")
    }

    fn list_databases(&self) -> Option<&'static str> {
        None
    }

    fn data_directory(&self) -> Option<&'static str> {
        None
    }

    fn lock_waits(&self) -> Option<&'static str> {
        None
    }

    fn table_exists(&self, table: &str) -> String {
        format!("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{table}'")
    }

    fn column_exists(&self, table: &str, column: &str) -> String {
        format!("SELECT 1 FROM pragma_table_info('{table}') WHERE name = '{column}'")
    }
}
