//! PostgreSQL.

use super::{Dialect, information_schema};

pub struct Postgresql;

impl Dialect for Postgresql {
    fn name(&self) -> &'static str {
        "PostgreSQL"
    }

    fn has_private_server(&self) -> bool {
        true
    }

    /// `ANALYZE`, as the live database has its statistics; `CHECKPOINT`
    /// (where the role may) writes the load's pages.
    fn settle(&self) -> &'static [&'static str] {
        &["ANALYZE", "CHECKPOINT"]
    }

    fn list_databases(&self) -> Option<&'static str> {
        Some("SELECT datname FROM pg_database")
    }

    fn data_directory(&self) -> Option<&'static str> {
        Some("SELECT setting FROM pg_settings WHERE name = 'data_directory'")
    }

    fn lock_waits(&self) -> Option<&'static str> {
        Some(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
    }

    fn table_exists(&self, table: &str) -> String {
        information_schema("current_schema()", table, None)
    }

    fn column_exists(&self, table: &str, column: &str) -> String {
        information_schema("current_schema()", table, Some(column))
    }

    /// `WITH (FORCE)` on PostgreSQL 13 and later; before (12, EL8's
    /// module streams), the database's sessions are ended first, as FORCE
    /// does.
    fn drop_database(&self, name: &str, server_major: Option<u32>) -> Vec<String> {
        match server_major {
            Some(major) if major < 13 => vec![
                format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                ),
                format!("DROP DATABASE IF EXISTS {name}"),
            ],
            _ => vec![format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")],
        }
    }
}
