//! What differs between the database backends in the SQL hop itself
//! writes: its transactions, read-only queries, listing databases, the
//! DDL of hop's own tables, dropping a scratch database, and what a
//! rehearsal asks the server (its data directory, the sessions waiting
//! for a lock, how to let it settle), what hop demands of the server,
//! and what hop can do with it (a database that is a file, a private
//! server for a rehearsal). One file per backend; the engine, the
//! compatibility check, the cluster record, scratch databases, the
//! connections and the installer's rehearsal ask [`dialect`] instead of
//! matching on the backend.
//!
//! (The SQL of a migration is the product's; what a backend cannot run in
//! a transaction is in `hop_artifact::migration::transaction`.)

mod mariadb;
mod postgres;
mod sqlite;

use crate::facts::ServerFacts;
use hop_artifact::migration::Backend;

/// The SQL of one backend. Each method has the form most backends share
/// as its default.
pub trait Dialect: Sync {
    /// The server's name in messages: `PostgreSQL`.
    fn name(&self) -> &'static str;

    /// Why the server is not the one this backend names (a MySQL server
    /// behind a MariaDB URL), when it is not.
    fn not_this_server(&self, facts: &ServerFacts) -> Option<String> {
        let _ = facts;
        None
    }

    /// The server's or database's settings hop cannot work with, one
    /// sentence each with the fix.
    fn setting_problems(&self, facts: &ServerFacts) -> Vec<String> {
        let _ = facts;
        Vec::new()
    }

    /// The database is one file, with no server to connect to.
    fn is_file(&self) -> bool {
        false
    }

    /// A rehearsal can start a private server of this backend (its own
    /// `initdb`) when the live server's disk has no room for a copy.
    fn has_private_server(&self) -> bool {
        false
    }

    /// Schema changes roll back with their transaction (MariaDB commits
    /// each DDL statement at once).
    fn transactional_ddl(&self) -> bool {
        true
    }

    /// Starts a transaction that writes.
    fn begin(&self) -> &'static str {
        "BEGIN"
    }

    /// Enters and leaves a mode in which a query cannot write.
    fn read_only(&self) -> (&'static str, &'static str) {
        ("BEGIN READ ONLY", "ROLLBACK")
    }

    /// A query of the names of the databases on the server (`None`: a
    /// file is the only database).
    fn list_databases(&self) -> Option<&'static str>;

    /// What follows a `CREATE TABLE` of hop's own tables.
    fn table_options(&self) -> &'static str {
        ""
    }

    /// A query with a row when `table` exists in the current schema.
    fn table_exists(&self, table: &str) -> String;

    /// A query with a row when `table` has `column`.
    fn column_exists(&self, table: &str, column: &str) -> String;

    /// A query of the server's data directory (`None`: no server).
    fn data_directory(&self) -> Option<&'static str>;

    /// A query of how many sessions on the current database wait for a
    /// lock now (`None`: the backend has no sessions to count).
    fn lock_waits(&self) -> Option<&'static str>;

    /// The statements that drop database `name` with sessions still on
    /// it, on a server of major version `server_major`.
    fn drop_database(&self, name: &str, server_major: Option<u32>) -> Vec<String> {
        let _ = server_major;
        vec![format!("DROP DATABASE IF EXISTS {name}")]
    }

    /// Statements that bring a freshly loaded copy to the state of a
    /// live database: statistics gathered, the load's pages written.
    fn settle(&self) -> &'static [&'static str] {
        &[]
    }

    /// A query of one row, (dirty pages, all pages) of the server's
    /// buffer pool, where the server writes them back on its own time
    /// (`None`: nothing to wait for).
    fn dirty_pages(&self) -> Option<&'static str> {
        None
    }
}

/// A query with a row when `table` (and `column`) exists in the schema
/// `schema` names, from the standard `information_schema`.
fn information_schema(schema: &str, table: &str, column: Option<&str>) -> String {
    match column {
        None => format!(
            "SELECT 1 FROM information_schema.tables \
             WHERE table_schema = {schema} AND table_name = '{table}'"
        ),
        Some(column) => format!(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = {schema} \
             AND table_name = '{table}' AND column_name = '{column}'"
        ),
    }
}

/// The dialect of `backend`.
pub fn dialect(backend: Backend) -> &'static dyn Dialect {
    match backend {
        Backend::Postgresql => &postgres::Postgresql,
        Backend::Mariadb => &mariadb::Mariadb,
        Backend::Sqlite => &sqlite::Sqlite,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scratch_database_is_forced_out_on_postgresql_13_and_later_only() {
        let pg = dialect(Backend::Postgresql);
        let old = pg.drop_database("hop_scratch_x", Some(12));
        assert_eq!(old.len(), 2);
        assert!(old[0].contains("pg_terminate_backend") && old[0].contains("'hop_scratch_x'"));
        assert_eq!(old[1], "DROP DATABASE IF EXISTS hop_scratch_x");
        let new = pg.drop_database("hop_scratch_x", Some(13));
        assert_eq!(new, ["DROP DATABASE IF EXISTS hop_scratch_x WITH (FORCE)"]);
        let maria = dialect(Backend::Mariadb).drop_database("x", Some(10));
        assert_eq!(maria, ["DROP DATABASE IF EXISTS x"]);
    }

    #[test]
    fn hops_tables_are_innodb_on_mariadb_and_sqlite_lists_no_databases() {
        assert_eq!(dialect(Backend::Mariadb).table_options(), " ENGINE=InnoDB");
        assert_eq!(dialect(Backend::Postgresql).table_options(), "");
        assert_eq!(dialect(Backend::Sqlite).list_databases(), None);
        assert_eq!(dialect(Backend::Sqlite).begin(), "BEGIN IMMEDIATE");
        assert_eq!(dialect(Backend::Mariadb).begin(), "START TRANSACTION");
    }

    #[test]
    fn only_postgresql_has_a_private_server_and_only_sqlite_is_a_file() {
        let has = |b: Backend| (dialect(b).has_private_server(), dialect(b).is_file());
        assert_eq!(has(Backend::Postgresql), (true, false));
        assert_eq!(has(Backend::Mariadb), (false, false));
        assert_eq!(has(Backend::Sqlite), (false, true));
        assert!(!dialect(Backend::Mariadb).transactional_ddl());
        assert_eq!(
            dialect(Backend::Postgresql).settle(),
            ["ANALYZE", "CHECKPOINT"]
        );
        assert!(dialect(Backend::Mariadb).dirty_pages().is_some());
    }
}
