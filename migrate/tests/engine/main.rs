//! The migration engine against real databases: PostgreSQL and MariaDB on
//! this machine, SQLite files. Each behaviour runs on all three; each test
//! makes its own database and drops it. One test binary, a module per
//! behaviour group.

mod applying;
mod backups;
mod batches;
mod checks;
mod compatibility;
mod locking;
mod schemas;

use std::path::PathBuf;
use std::time::Duration;

use hop_artifact::migration::{Backend, Phase};
use hop_migrate::{Migrator, Options, Quiet, Script};
use hop_testdata::db::TestDatabase;

pub const HOP: &str = "4.0.1→4.1.1";

pub fn scratch() -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("engine-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn database(backend: Backend) -> TestDatabase {
    TestDatabase::create(backend, &scratch()).unwrap()
}

pub fn options() -> Options {
    Options {
        lock_timeout: Duration::from_secs(1),
        lock_wait: Duration::from_secs(1),
        create_sqlite: false,
    }
}

pub fn migrator(db: &TestDatabase) -> Migrator {
    Migrator::connect(&db.database_url(), options()).unwrap()
}

pub fn script(version: u32, name: &str, phase: &str, sql: &str) -> Script {
    Script::parse(
        &format!("{version:04}_{name}.sql"),
        &format!("-- hop: phase={phase}\n{sql}\n"),
    )
    .unwrap()
}

/// 0001, offline: `CREATE TABLE a (id INTEGER PRIMARY KEY)`.
pub fn create_a() -> Script {
    script(
        1,
        "create_a",
        "offline",
        "CREATE TABLE a (id INTEGER PRIMARY KEY);",
    )
}

/// Five offline migrations; the third can be made to fail after its first
/// statement took effect.
pub fn five(third_fails: bool) -> Vec<Script> {
    let third = if third_fails {
        "CREATE TABLE c (id INTEGER PRIMARY KEY);\nINSERT INTO no_such_table VALUES (1);"
    } else {
        "CREATE TABLE c (id INTEGER PRIMARY KEY);\nINSERT INTO c VALUES (1);"
    };
    vec![
        script(
            1,
            "create_a",
            "offline",
            "CREATE TABLE a (id INTEGER PRIMARY KEY, name VARCHAR(50));",
        ),
        script(
            2,
            "fill_a",
            "offline",
            "INSERT INTO a VALUES (1, 'one');\nINSERT INTO a VALUES (2, 'two');",
        ),
        script(3, "create_c", "offline", third),
        script(
            4,
            "create_d",
            "offline",
            "CREATE TABLE d (id INTEGER PRIMARY KEY);",
        ),
        script(
            5,
            "add_a_note",
            "offline",
            "ALTER TABLE a ADD COLUMN note VARCHAR(20);",
        ),
    ]
}

/// Asserts that `err`'s message contains `text`.
pub fn assert_says(err: &impl std::fmt::Display, text: &str) {
    assert!(err.to_string().contains(text), "{text:?} not in: {err}");
}

/// Applies `scripts` (offline) with a fresh migrator.
pub fn apply_ok(db: &TestDatabase, scripts: &[Script]) -> hop_migrate::PhaseReport {
    migrator(db)
        .apply(scripts, Phase::Offline, HOP, &mut Quiet)
        .unwrap_or_else(|e| panic!("applying failed: {e}"))
}

/// Applies `scripts` (offline) with a fresh migrator, expecting a refusal.
pub fn apply_err(db: &TestDatabase, scripts: &[Script]) -> hop_migrate::MigrateError {
    match migrator(db).apply(scripts, Phase::Offline, HOP, &mut Quiet) {
        Ok(report) => panic!("applied, expected a refusal: {report:?}"),
        Err(e) => e,
    }
}

pub fn history_len(db: &TestDatabase) -> i64 {
    db.query_i64("SELECT COUNT(*) FROM hop_schema_history")
        .unwrap()
}

/// Generates one test per database for each named behaviour.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use super::*;
            #[test]
            fn postgresql() { super::$name(Backend::Postgresql) }
            #[test]
            fn mariadb() { super::$name(Backend::Mariadb) }
            #[test]
            fn sqlite() { super::$name(Backend::Sqlite) }
        }
    )*};
}
