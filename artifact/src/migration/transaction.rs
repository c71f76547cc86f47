//! Which statements cannot run inside a transaction, and so what a failed
//! offline phase costs: where every offline migration can run in one
//! transaction (PostgreSQL, SQLite) the installer commits the phase whole or
//! not at all and a failure needs no restore; one statement that cannot puts
//! the phase back to one transaction per migration, and a failure after the
//! first commit restores the backup. The builder and `inspect` say which,
//! the engine decides with the same function.

use super::{Backend, Statement};

/// Why `statement` cannot run in a transaction on `backend`, whose server
/// is PostgreSQL `server_major` (`None`: not known, as at build time when
/// the package supports servers older than 12).
pub fn outside_transaction(
    statement: &Statement,
    backend: Backend,
    server_major: Option<u32>,
) -> Option<&'static str> {
    match backend {
        // Every DDL statement commits implicitly: no phase is one transaction.
        Backend::Mariadb => None,
        Backend::Sqlite => statement
            .starts_with(&["VACUUM"])
            .then_some("VACUUM cannot run in a transaction"),
        Backend::Postgresql => postgresql(statement, server_major),
    }
}

fn postgresql(s: &Statement, server_major: Option<u32>) -> Option<&'static str> {
    if s.has_sequence(&["CONCURRENTLY"]).is_some() {
        return Some("… CONCURRENTLY cannot run in a transaction");
    }
    if s.starts_with(&["VACUUM"]) {
        return Some("VACUUM cannot run in a transaction");
    }
    for words in [
        ["CREATE", "DATABASE"],
        ["DROP", "DATABASE"],
        ["CREATE", "TABLESPACE"],
        ["DROP", "TABLESPACE"],
        ["ALTER", "SYSTEM"],
    ] {
        if s.starts_with(&words) {
            return Some(
                "CREATE/DROP DATABASE, TABLESPACE and ALTER SYSTEM cannot run in a transaction",
            );
        }
    }
    let old_server = server_major.is_none_or(|v| v < 12);
    if old_server
        && s.starts_with(&["ALTER", "TYPE"])
        && s.has_sequence(&["ADD", "VALUE"]).is_some()
    {
        return Some("ALTER TYPE … ADD VALUE cannot run in a transaction before PostgreSQL 12");
    }
    None
}

/// Why a later migration of the same transaction could not use what
/// `statement` makes: PostgreSQL refuses an enum value `ADD VALUE` added
/// until it is committed, so such a migration ends a phase's transaction.
fn needs_a_commit_before_use(statement: &Statement, backend: Backend) -> Option<&'static str> {
    (backend == Backend::Postgresql
        && statement.starts_with(&["ALTER", "TYPE"])
        && statement.has_sequence(&["ADD", "VALUE"]).is_some())
    .then_some("the value ALTER TYPE … ADD VALUE adds cannot be used before it is committed")
}

/// How an offline phase runs on one database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OfflineMode {
    /// Every migration and its history row commit together, or none does:
    /// a failure rolls back and needs no restore.
    OneTransaction,
    /// Each migration commits on its own (MariaDB always: its DDL commits
    /// implicitly); a failure after the first restores the backup.
    PerMigration {
        /// The first statement that forces it, as `file:line: why`; `None`
        /// on MariaDB.
        because: Option<String>,
    },
}

impl OfflineMode {
    /// The mode of a phase made of `migrations` (each a file name and its
    /// statements), on `backend` at `server_major`.
    pub fn of<'a>(
        migrations: impl IntoIterator<Item = (&'a str, &'a [Statement])>,
        backend: Backend,
        server_major: Option<u32>,
    ) -> Self {
        if backend == Backend::Mariadb {
            return OfflineMode::PerMigration { because: None };
        }
        for (file, statements) in migrations {
            for s in statements {
                if let Some(why) = outside_transaction(s, backend, server_major)
                    .or_else(|| needs_a_commit_before_use(s, backend))
                {
                    return OfflineMode::PerMigration {
                        because: Some(format!("{file}:{}: {why}", s.line)),
                    };
                }
            }
        }
        OfflineMode::OneTransaction
    }

    /// The mode for people: what a failure in the phase costs.
    pub fn describe(&self) -> String {
        match self {
            OfflineMode::OneTransaction => {
                "one transaction (a failure rolls back: no restore)".into()
            }
            OfflineMode::PerMigration { because: None } => {
                "one transaction per migration (DDL commits implicitly: a failure restores the backup)"
                    .into()
            }
            OfflineMode::PerMigration {
                because: Some(because),
            } => format!(
                "one transaction per migration, because {because} (a failure restores the backup)"
            ),
        }
    }
}

/// The major version of a server version such as `15.4` or `9.6.24`.
pub fn major_of(version: &str) -> Option<u32> {
    version.split('.').next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::super::split_statements;
    use super::*;

    fn mode(sql: &str, backend: Backend, server: Option<u32>) -> OfflineMode {
        let statements = split_statements(sql, backend).unwrap();
        OfflineMode::of([("0007_x.sql", statements.as_slice())], backend, server)
    }

    #[test]
    fn recognises_what_cannot_run_in_a_transaction() {
        use Backend::*;
        let one = OfflineMode::OneTransaction;
        assert_eq!(
            mode(
                "CREATE TABLE a (id int);\nCREATE INDEX a_id ON a (id);",
                Postgresql,
                None
            ),
            one
        );
        let per = |sql, backend, server| match mode(sql, backend, server) {
            OfflineMode::PerMigration { because } => because.unwrap_or_default(),
            OfflineMode::OneTransaction => panic!("{sql}: one transaction"),
        };
        assert!(
            per(
                "CREATE TABLE a (id int);\nCREATE INDEX CONCURRENTLY a_id ON a (id);",
                Postgresql,
                Some(16)
            )
            .starts_with("0007_x.sql:2: … CONCURRENTLY")
        );
        assert!(per("VACUUM ANALYZE events;", Postgresql, Some(16)).contains("VACUUM"));
        assert!(per("VACUUM;", Sqlite, None).contains("VACUUM"));
        assert!(
            per("ALTER SYSTEM SET work_mem = '8MB';", Postgresql, Some(16))
                .contains("ALTER SYSTEM")
        );
        // ADD VALUE runs in a transaction from PostgreSQL 12 on.
        let add_value = "ALTER TYPE level ADD VALUE 'trace';";
        assert!(per(add_value, Postgresql, Some(11)).contains("before PostgreSQL 12"));
        assert!(per(add_value, Postgresql, None).contains("before PostgreSQL 12"));
        // … and on 12 its value cannot be used before a commit: the phase
        // still goes one migration at a time.
        assert!(per(add_value, Postgresql, Some(12)).contains("before it is committed"));
        assert!(
            outside_transaction(
                &split_statements(add_value, Postgresql).unwrap()[0],
                Postgresql,
                Some(12)
            )
            .is_none()
        );
        // A word inside a string is not a statement.
        assert_eq!(
            mode(
                "INSERT INTO notes VALUES ('VACUUM CONCURRENTLY');",
                Postgresql,
                Some(16)
            ),
            one
        );
        assert_eq!(
            mode("VACUUM;", Mariadb, None),
            OfflineMode::PerMigration { because: None }
        );
    }

    #[test]
    fn reads_the_major_version() {
        assert_eq!(major_of("15.4"), Some(15));
        assert_eq!(major_of("9.6.24"), Some(9));
        assert_eq!(major_of(""), None);
    }
}
