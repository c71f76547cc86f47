//! MariaDB (and MySQL).

use super::{Dialect, information_schema};
use crate::facts::ServerFacts;

pub struct Mariadb;

impl Dialect for Mariadb {
    fn name(&self) -> &'static str {
        "MariaDB"
    }

    fn not_this_server(&self, facts: &ServerFacts) -> Option<String> {
        (!facts.version_text.to_ascii_lowercase().contains("mariadb")).then(|| {
            format!(
                "the server is MySQL {} (or another MySQL-compatible server), not MariaDB; hop supports MariaDB only",
                facts.version
            )
        })
    }

    /// InnoDB (row locks, transactions) and utf8mb4 throughout.
    fn setting_problems(&self, facts: &ServerFacts) -> Vec<String> {
        let mut out = Vec::new();
        match facts.default_engine.as_deref() {
            Some(e) if e.eq_ignore_ascii_case("InnoDB") => {}
            other => out.push(format!(
                "the default storage engine is {}, not InnoDB; set default_storage_engine=InnoDB",
                other.unwrap_or("unknown")
            )),
        }
        if facts.charset.as_deref() != Some("utf8mb4") {
            out.push(format!(
                "the database's character set is {}, not utf8mb4; ALTER DATABASE … CHARACTER SET utf8mb4",
                facts.charset.as_deref().unwrap_or("unknown")
            ));
        }
        if !facts
            .collation
            .as_deref()
            .is_some_and(|c| c.starts_with("utf8mb4_"))
        {
            out.push(format!(
                "the database's collation is {}, not a utf8mb4 collation",
                facts.collation.as_deref().unwrap_or("unknown")
            ));
        }
        out
    }

    fn transactional_ddl(&self) -> bool {
        false
    }

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

    /// InnoDB writes the load's dirty pages back in the background.
    fn dirty_pages(&self) -> Option<&'static str> {
        Some(
            "SELECT \
             (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS \
              WHERE VARIABLE_NAME = 'INNODB_BUFFER_POOL_PAGES_DIRTY'), \
             (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS \
              WHERE VARIABLE_NAME = 'INNODB_BUFFER_POOL_PAGES_TOTAL')",
        )
    }

    fn table_exists(&self, table: &str) -> String {
        information_schema("DATABASE()", table, None)
    }

    fn column_exists(&self, table: &str, column: &str) -> String {
        information_schema("DATABASE()", table, Some(column))
    }
}
