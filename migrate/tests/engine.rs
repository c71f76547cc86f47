//! The migration engine against real databases: PostgreSQL and MariaDB on
//! this machine, SQLite files. Each behaviour runs on all three; each test
//! makes its own database and drops it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use hop_artifact::migration::{Backend, Phase};
use hop_migrate::engine::State;
use hop_migrate::tools::Direct;
use hop_migrate::{MigrateError, Migrator, Observer, Options, Quiet, Script, backup};
use hop_testdata::db::TestDatabase;

const HOP: &str = "4.0.1→4.1.1";

fn scratch() -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("engine-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn database(backend: Backend) -> TestDatabase {
    TestDatabase::create(backend, &scratch()).unwrap()
}

fn options() -> Options {
    Options {
        lock_timeout: Duration::from_secs(1),
        lock_wait: Duration::from_secs(1),
        create_sqlite: false,
    }
}

fn migrator(db: &TestDatabase) -> Migrator {
    Migrator::connect(&db.database_url(), options()).unwrap()
}

fn script(version: u32, name: &str, phase: &str, sql: &str) -> Script {
    Script::parse(
        &format!("{version:04}_{name}.sql"),
        &format!("-- hop: phase={phase}\n{sql}\n"),
    )
    .unwrap()
}

/// Five offline migrations; the third can be made to fail after its first
/// statement took effect.
fn five(third_fails: bool) -> Vec<Script> {
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

fn history_len(db: &TestDatabase) -> i64 {
    db.query_i64("SELECT COUNT(*) FROM hop_schema_history")
        .unwrap()
}

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

on_every_backend!(
    fresh_apply_then_reapply_is_a_no_op,
    refuses_a_changed_a_missing_and_a_dirty_migration_naming_the_file,
    a_failing_migration_in_the_middle_leaves_the_database_as_before_it,
    two_migrators_never_both_apply,
    a_batched_post_migration_interrupted_midway_continues_and_migrates_every_row_once,
    refuses_a_server_older_than_the_minimum,
    backup_then_damage_then_restore_gives_the_same_database,
    a_migration_does_not_queue_forever_behind_a_lock,
    phases_apply_separately_and_report_pending_applied_remaining,
);

fn fresh_apply_then_reapply_is_a_no_op(backend: Backend) {
    let db = database(backend);
    let scripts = five(false);
    let report = migrator(&db)
        .apply(&scripts, Phase::Offline, HOP, &mut Quiet)
        .unwrap();
    assert_eq!(
        (report.pending, report.applied.len(), report.remaining),
        (5, 5, 0)
    );
    assert_eq!(history_len(&db), 5);
    assert_eq!(db.query_i64("SELECT COUNT(*) FROM a").unwrap(), 2);
    let history = migrator(&db).history().unwrap();
    assert!(
        history
            .iter()
            .all(|r| r.success && r.hop == HOP && r.checksum.len() == 64)
    );
    assert_eq!(history[2].file_name(), "0003_create_c.sql");

    let before = db.snapshot().unwrap();
    let again = migrator(&db)
        .apply(&scripts, Phase::Offline, HOP, &mut Quiet)
        .unwrap();
    assert_eq!((again.pending, again.applied.len()), (0, 0));
    assert_eq!(
        db.snapshot().unwrap(),
        before,
        "re-applying changed the database"
    );
}

fn refuses_a_changed_a_missing_and_a_dirty_migration_naming_the_file(backend: Backend) {
    let db = database(backend);
    let scripts = five(false);
    migrator(&db)
        .apply(&scripts[..3], Phase::Offline, HOP, &mut Quiet)
        .unwrap();

    let mut changed = scripts.clone();
    changed[1] = script(2, "fill_a", "offline", "INSERT INTO a VALUES (3, 'three');");
    let err = migrator(&db)
        .apply(&changed, Phase::Offline, HOP, &mut Quiet)
        .unwrap_err();
    assert!(
        matches!(err, MigrateError::ChecksumMismatch { .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("0002_fill_a.sql changed since it was applied"),
        "{err}"
    );

    let missing: Vec<Script> = scripts.iter().filter(|s| s.version != 3).cloned().collect();
    let err = migrator(&db)
        .apply(&missing, Phase::Offline, HOP, &mut Quiet)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("0003_create_c.sql was applied to this database"),
        "{err}"
    );

    db.execute(
        "INSERT INTO hop_schema_history (version, description, phase, checksum, hop, applied_at, \
         duration_ms, success, batches, rows_affected, error) VALUES \
         (4, 'create_d', 'offline', 'x', 'h', '2026-01-01T00:00:00Z', 0, false, 0, 0, 'boom')",
    )
    .unwrap();
    let before = db.snapshot().unwrap();
    let err = migrator(&db)
        .apply(&scripts, Phase::Offline, HOP, &mut Quiet)
        .unwrap_err();
    assert!(matches!(err, MigrateError::Dirty { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("0004_create_d.sql failed on 2026-01-01T00:00:00Z"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("restore the database from the backup"),
        "{err}"
    );
    assert_eq!(
        db.snapshot().unwrap(),
        before,
        "a refusal changed the database"
    );
}

fn a_failing_migration_in_the_middle_leaves_the_database_as_before_it(backend: Backend) {
    let db = database(backend);
    let scripts = five(true);
    migrator(&db)
        .apply(&scripts[..2], Phase::Offline, HOP, &mut Quiet)
        .unwrap();
    let before = db.snapshot().unwrap();
    let dump = scratch().join(format!("middle-{backend}.dump"));
    backup::backup(&db.database_url(), &dump, &Direct).unwrap();

    let err = migrator(&db)
        .apply(&scripts, Phase::Offline, HOP, &mut Quiet)
        .unwrap_err();
    let MigrateError::Failed {
        file, line, dirty, ..
    } = &err
    else {
        panic!("expected a failed migration, got {err}");
    };
    assert_eq!((file.as_str(), *line), ("0003_create_c.sql", 3), "{err}");
    let applied = db
        .query_i64("SELECT COUNT(*) FROM hop_schema_history WHERE success")
        .unwrap();
    assert_eq!(applied, 2);
    if backend == Backend::Mariadb {
        // DDL commits implicitly: the failure is recorded dirty and says so.
        assert!(*dirty && err.needs_restore(), "{err}");
        assert!(
            err.to_string().contains("restore it from the backup"),
            "{err}"
        );
        assert_ne!(db.snapshot().unwrap(), before);
        let refused = migrator(&db)
            .apply(&scripts, Phase::Offline, HOP, &mut Quiet)
            .unwrap_err();
        assert!(matches!(refused, MigrateError::Dirty { .. }), "{refused}");
        backup::restore(&db.database_url(), &dump, &Direct).unwrap();
    } else {
        assert!(!dirty, "{err}");
        assert!(err.to_string().contains("rolled back"), "{err}");
    }
    assert_eq!(
        db.snapshot().unwrap(),
        before,
        "the database is not as it was before 0003"
    );
}

fn two_migrators_never_both_apply(backend: Backend) {
    let db = database(backend);
    let scripts = five(false);
    let mut first = migrator(&db);
    first.lock().unwrap();
    let started = Instant::now();
    let err = migrator(&db)
        .apply(&scripts, Phase::Offline, HOP, &mut Quiet)
        .unwrap_err();
    assert!(matches!(err, MigrateError::Locked { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("another migrator holds the migration lock"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "waited {:?}",
        started.elapsed()
    );
    first.unlock().unwrap();

    // Two at once, for real: whoever gets the lock applies; the other
    // waits and finds nothing left, or gives up clearly.
    let url = db.database_url();
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let url = url.clone();
            let scripts = scripts.clone();
            std::thread::spawn(move || {
                let opts = Options {
                    lock_wait: Duration::from_secs(20),
                    ..options()
                };
                Migrator::connect(&url, opts)?.apply(&scripts, Phase::Offline, HOP, &mut Quiet)
            })
        })
        .collect();
    let results: Vec<_> = runs.into_iter().map(|t| t.join().unwrap()).collect();
    let applied: usize = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|r| r.applied.len())
        .sum();
    for r in &results {
        if let Err(e) = r {
            assert!(matches!(e, MigrateError::Locked { .. }), "{e}");
        }
    }
    assert_eq!(applied, 5, "{results:?}");
    assert_eq!(history_len(&db), 5);
    assert_eq!(db.query_i64("SELECT COUNT(*) FROM a").unwrap(), 2);
}

/// Stops the run after a number of batches, as an interruption would.
struct StopAfter(u64);
impl Observer for StopAfter {
    fn batch_done(&mut self, _: &Script, batches: u64, _: u64) -> Result<(), String> {
        if batches >= self.0 {
            Err("interrupted".into())
        } else {
            Ok(())
        }
    }
}

fn a_batched_post_migration_interrupted_midway_continues_and_migrates_every_row_once(
    backend: Backend,
) {
    let db = database(backend);
    let fill = match backend {
        Backend::Postgresql => {
            "INSERT INTO items (id, migrated) SELECT g, 0 FROM generate_series(1, 100000) g;"
        }
        Backend::Mariadb => "INSERT INTO items (id, migrated) SELECT seq, 0 FROM seq_1_to_100000;",
        Backend::Sqlite => {
            "INSERT INTO items (id, migrated) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) SELECT i, 0 FROM n;"
        }
    };
    let batch = match backend {
        Backend::Mariadb => {
            "UPDATE items SET migrated = migrated + 1 WHERE migrated = 0 ORDER BY id LIMIT 1000;"
        }
        _ => {
            "UPDATE items SET migrated = migrated + 1 WHERE id IN (SELECT id FROM items WHERE migrated = 0 ORDER BY id LIMIT 1000);"
        }
    };
    let scripts = vec![
        script(
            1,
            "create_items",
            "offline",
            &format!(
                "CREATE TABLE items (id INTEGER PRIMARY KEY, migrated INTEGER NOT NULL);\nCREATE INDEX items_migrated ON items (migrated);\n{fill}"
            ),
        ),
        script(2, "backfill_items", "post batch", batch),
    ];
    migrator(&db)
        .apply(&scripts, Phase::Offline, HOP, &mut Quiet)
        .unwrap();
    assert_eq!(db.query_i64("SELECT COUNT(*) FROM items").unwrap(), 100_000);

    let err = migrator(&db)
        .apply(&scripts, Phase::Post, HOP, &mut StopAfter(37))
        .unwrap_err();
    assert!(matches!(err, MigrateError::Stopped { .. }), "{err}");
    assert_eq!(
        db.query_i64("SELECT COUNT(*) FROM items WHERE migrated = 1")
            .unwrap(),
        37_000
    );
    let status = migrator(&db).status(&scripts).unwrap();
    assert_eq!(
        status.entries[1].state,
        State::InProgress {
            batches: 37,
            rows: 37_000
        }
    );

    let report = migrator(&db)
        .apply(&scripts, Phase::Post, HOP, &mut Quiet)
        .unwrap();
    assert_eq!(report.applied.len(), 1);
    assert_eq!(
        db.query_i64("SELECT COUNT(*) FROM items WHERE migrated = 1")
            .unwrap(),
        100_000
    );
    assert_eq!(
        db.query_i64("SELECT COUNT(*) FROM items WHERE migrated <> 1")
            .unwrap(),
        0
    );
    assert_eq!(
        db.query_i64("SELECT batches FROM hop_schema_history WHERE version = 2")
            .unwrap(),
        101
    );
    assert_eq!(
        db.query_i64("SELECT rows_affected FROM hop_schema_history WHERE version = 2")
            .unwrap(),
        100_000
    );
}

fn refuses_a_server_older_than_the_minimum(backend: Backend) {
    let db = database(backend);
    let mut m = migrator(&db);
    let facts = m.check_compatibility(Some("3")).unwrap();
    assert!(!facts.version.is_empty());
    let err = m.check_compatibility(Some("99")).unwrap_err();
    assert!(matches!(err, MigrateError::Incompatible(_)), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("{} is older than 99", facts.version)),
        "{err}"
    );
}

fn backup_then_damage_then_restore_gives_the_same_database(backend: Backend) {
    let db = database(backend);
    migrator(&db)
        .apply(&five(false), Phase::Offline, HOP, &mut Quiet)
        .unwrap();
    db.execute("INSERT INTO a VALUES (3, 'three', 'x')")
        .unwrap();
    let before = db.snapshot().unwrap();
    let dump = scratch().join(format!("restore-{backend}.dump"));
    let written = backup::backup(&db.database_url(), &dump, &Direct).unwrap();
    assert!(written.bytes > 0);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&dump).unwrap().permissions().mode() & 0o777,
        0o600
    );

    db.execute("DELETE FROM a WHERE id = 1").unwrap();
    db.execute("UPDATE a SET name = 'damaged'").unwrap();
    db.execute("DROP TABLE d").unwrap();
    db.execute("CREATE TABLE intruder (x INTEGER)").unwrap();
    if backend == Backend::Postgresql {
        db.execute("CREATE SCHEMA extra; CREATE TABLE extra.t (x int)")
            .unwrap();
    }
    assert_ne!(db.snapshot().unwrap(), before);

    backup::restore(&db.database_url(), &dump, &Direct).unwrap();
    assert_eq!(db.snapshot().unwrap(), before, "the restore is not exact");
    // A restore that is run again (after an interruption) changes nothing.
    backup::restore(&db.database_url(), &dump, &Direct).unwrap();
    assert_eq!(db.snapshot().unwrap(), before);
}

fn a_migration_does_not_queue_forever_behind_a_lock(backend: Backend) {
    let db = database(backend);
    let scripts = vec![
        script(
            1,
            "create_a",
            "offline",
            "CREATE TABLE a (id INTEGER PRIMARY KEY);",
        ),
        script(
            2,
            "alter_a",
            "online",
            "ALTER TABLE a ADD COLUMN b INTEGER;",
        ),
    ];
    migrator(&db)
        .apply(&scripts, Phase::Offline, HOP, &mut Quiet)
        .unwrap();
    // A long transaction holds a lock on `a`, as a service's long query would.
    let holder = hold_lock_on_a(&db);
    let started = Instant::now();
    let err = migrator(&db)
        .apply(&scripts, Phase::Online, HOP, &mut Quiet)
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "waited {:?}",
        started.elapsed()
    );
    assert!(matches!(err, MigrateError::Failed { .. }), "{err}");
    assert!(err.to_string().contains("0002_alter_a.sql"), "{err}");
    drop(holder);
}

/// Keeps a transaction open that has touched table `a`.
fn hold_lock_on_a(db: &TestDatabase) -> Box<dyn std::any::Any> {
    match db.backend {
        Backend::Postgresql => {
            let mut c = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
            c.batch_execute("BEGIN; SELECT * FROM a;").unwrap();
            Box::new(c)
        }
        Backend::Mariadb => {
            use mysql::prelude::Queryable;
            let mut c = mysql::Conn::new(mysql::Opts::from_url(&db.url).unwrap()).unwrap();
            c.query_drop("START TRANSACTION").unwrap();
            c.query_drop("SELECT * FROM a").unwrap();
            Box::new(c)
        }
        Backend::Sqlite => {
            let c = rusqlite::Connection::open(db.sqlite_file()).unwrap();
            c.execute_batch("BEGIN IMMEDIATE; INSERT INTO a VALUES (1);")
                .unwrap();
            Box::new(c)
        }
    }
}

fn phases_apply_separately_and_report_pending_applied_remaining(backend: Backend) {
    let db = database(backend);
    let scripts = vec![
        script(
            1,
            "create_a",
            "offline",
            "CREATE TABLE a (id INTEGER PRIMARY KEY);",
        ),
        script(2, "add_b", "online", "ALTER TABLE a ADD COLUMN b INTEGER;"),
        script(3, "add_c", "online", "ALTER TABLE a ADD COLUMN c INTEGER;"),
        script(4, "fill_b", "post", "UPDATE a SET b = 1;"),
    ];
    let mut m = migrator(&db);
    let status = m.status(&scripts).unwrap();
    assert_eq!(status.counts(Phase::Online), (2, 0));
    assert_eq!(
        history_len_or_zero(&db),
        0,
        "reading the status created the history"
    );
    let offline = m.apply(&scripts, Phase::Offline, HOP, &mut Quiet).unwrap();
    assert_eq!(
        (offline.pending, offline.applied.len(), offline.remaining),
        (1, 1, 0)
    );
    let online = m.apply(&scripts, Phase::Online, HOP, &mut Quiet).unwrap();
    assert_eq!(
        online.applied.iter().map(|a| a.version).collect::<Vec<_>>(),
        [2, 3]
    );
    let status = m.status(&scripts).unwrap();
    assert_eq!(status.counts(Phase::Post), (1, 0));
    assert_eq!(status.counts(Phase::Online), (0, 2));
    m.apply(&scripts, Phase::Post, HOP, &mut Quiet).unwrap();
    assert_eq!(m.status(&scripts).unwrap().pending().count(), 0);
}

fn history_len_or_zero(db: &TestDatabase) -> i64 {
    db.query_i64("SELECT COUNT(*) FROM hop_schema_history")
        .unwrap_or(0)
}

#[test]
fn refuses_a_pending_migration_older_than_an_earlier_hops() {
    let db = database(Backend::Sqlite);
    let scripts = five(false);
    let first = [scripts[0].clone(), scripts[2].clone()];
    let err = migrator(&db).apply(&first, Phase::Offline, "4.0.0→4.0.1", &mut Quiet);
    assert!(err.is_ok());
    let err = migrator(&db)
        .apply(&scripts, Phase::Offline, HOP, &mut Quiet)
        .unwrap_err();
    assert!(matches!(err, MigrateError::OutOfOrder { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("0002_fill_a.sql is older than 0003_create_c.sql"),
        "{err}"
    );
}
