//! One migrator at a time, and no migration queued forever behind a lock.

use std::time::{Duration, Instant};

use hop_artifact::migration::{Backend, Phase};
use hop_migrate::{MigrateError, Options, Quiet};

use crate::*;

on_every_backend!(
    two_migrators_never_both_apply,
    a_migration_does_not_queue_forever_behind_a_lock,
);

fn two_migrators_never_both_apply(backend: Backend) {
    let db = database(backend);
    let scripts = five(false);
    let mut first = migrator(&db);
    first.lock().unwrap();
    let started = Instant::now();
    let err = apply_err(&db, &scripts);
    assert!(matches!(err, MigrateError::Locked { .. }), "{err}");
    assert_says(&err, "another migrator holds the migration lock");
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
fn a_migration_does_not_queue_forever_behind_a_lock(backend: Backend) {
    let db = database(backend);
    let scripts = vec![
        create_a(),
        script(
            2,
            "alter_a",
            "online",
            "ALTER TABLE a ADD COLUMN b INTEGER;",
        ),
    ];
    apply_ok(&db, &scripts);
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
    assert_says(&err, "0002_alter_a.sql");
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

/// The SQLite lock file lives beside the database, in a directory the
/// product's user may write: a link planted at its name is refused, never
/// followed (hop runs as root).
#[test]
fn a_link_at_the_sqlite_lock_is_refused_not_followed() {
    let db = database(Backend::Sqlite);
    let file = db.sqlite_file();
    let mut lock = file.clone().into_os_string();
    lock.push(".hop-lock");
    let victim = scratch().join("victim-of-the-lock");
    let _ = std::fs::remove_file(&victim);
    std::os::unix::fs::symlink(&victim, &lock).unwrap();
    let err = migrator(&db)
        .apply(&five(false), Phase::Offline, HOP, &mut Quiet)
        .unwrap_err();
    assert_says(&err, "hop-lock");
    assert!(
        !victim.exists(),
        "root created a file where the link pointed"
    );
    std::fs::remove_file(&lock).unwrap();
}
