//! MariaDB (and MySQL).

use super::Dialect;

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
        format!(
            "SELECT 1 FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name = '{table}'"
        )
    }

    fn column_exists(&self, table: &str, column: &str) -> String {
        format!(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = DATABASE() \
             AND table_name = '{table}' AND column_name = '{column}'"
        )
    }
}
