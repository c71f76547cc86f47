//! What differs between the database backends in the SQL hop itself
//! writes: its transactions, read-only queries, listing databases, the
//! DDL of hop's own tables, dropping a scratch database, and what a
//! rehearsal asks the server (its data directory, the sessions waiting
//! for a lock). One file per
//! backend; the engine, the cluster record, scratch databases and the
//! connections ask [`dialect`] instead of matching on the backend.
//!
//! (The SQL of a migration is the product's; what a backend cannot run in
//! a transaction is in `hop_artifact::migration::transaction`.)

mod mariadb;
mod postgres;
mod sqlite;

use hop_artifact::migration::Backend;

/// The SQL of one backend. Each method has the form most backends share
/// as its default.
pub trait Dialect: Sync {
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
}
