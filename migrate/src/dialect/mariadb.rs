//! MariaDB (and MySQL).

use super::{Dialect, information_schema};

pub struct Mariadb;

impl Dialect for Mariadb {
    fn begin(&self) -> &'static str {
        "START TRANSACTION"
    }

    fn read_only(&self) -> (&'static str, &'static str) {
        ("START TRANSACTION READ ONLY", "ROLLBACK")
    }

    fn list_databases(&self) -> Option<&'static str> {
        Some("SHOW DATABASES")
    }

    /// InnoDB for row locks and transactions, whatever the server's default.
    fn table_options(&self) -> &'static str {
        " ENGINE=InnoDB"
    }

    fn data_directory(&self) -> Option<&'static str> {
        Some("SELECT @@datadir")
    }

    fn lock_waits(&self) -> Option<&'static str> {
        Some(
            "SELECT count(*) FROM information_schema.processlist \
             WHERE db = DATABASE() AND state LIKE 'Waiting for%lock%'",
        )
    }

    fn table_exists(&self, table: &str) -> String {
        information_schema("DATABASE()", table, None)
    }

    fn column_exists(&self, table: &str, column: &str) -> String {
        information_schema("DATABASE()", table, Some(column))
    }
}
