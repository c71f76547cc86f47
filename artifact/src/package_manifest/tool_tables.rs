//! Migration tools' own history tables that a product's migrations use.
//! A product moved to hop from golang-migrate may have migrations that
//! alter `schema_migrations` (which that tool made before it ran 0001);
//! its release engineer says so (`adoption: {golang_migrate: true}`), and
//! the builder's scratch databases and every host's database then have the
//! table before the first migration: made where it is missing, kept (with
//! its rows) where the tool made it. Schema comparisons leave these tables
//! out, as they always did.

use serde::{Deserialize, Serialize};

/// A tool whose history table the migrations need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolTable {
    /// golang-migrate's `schema_migrations`.
    GolangMigrate,
    /// Flyway's `flyway_schema_history`.
    Flyway,
    /// Alembic's `alembic_version`.
    Alembic,
}

impl ToolTable {
    /// The table's name.
    pub fn table(self) -> &'static str {
        match self {
            ToolTable::GolangMigrate => "schema_migrations",
            ToolTable::Flyway => "flyway_schema_history",
            ToolTable::Alembic => "alembic_version",
        }
    }

    /// The table as the tool makes it, if it does not exist (the same on
    /// PostgreSQL, MariaDB and SQLite).
    pub fn create_sql(self) -> &'static str {
        match self {
            ToolTable::GolangMigrate => {
                "CREATE TABLE IF NOT EXISTS schema_migrations \
                 (version BIGINT NOT NULL PRIMARY KEY, dirty BOOLEAN NOT NULL)"
            }
            ToolTable::Flyway => {
                "CREATE TABLE IF NOT EXISTS flyway_schema_history (\
                 installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), \
                 description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, \
                 script VARCHAR(1000) NOT NULL, checksum INT, installed_by VARCHAR(100) NOT NULL, \
                 installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, \
                 execution_time INT NOT NULL, success BOOLEAN NOT NULL)"
            }
            ToolTable::Alembic => {
                "CREATE TABLE IF NOT EXISTS alembic_version \
                 (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"
            }
        }
    }
}
