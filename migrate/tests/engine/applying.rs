//! Applying: fresh and again, refusing a history that does not fit, a
//! failure in the middle, phases one at a time, order.

use hop_artifact::migration::{Backend, Phase};
use hop_migrate::{MigrateError, Quiet, Script, backup};

use crate::*;
use hop_exec::Direct;

on_every_backend!(
    fresh_apply_then_reapply_is_a_no_op,
    refuses_a_changed_a_missing_and_a_dirty_migration_naming_the_file,
    a_failing_migration_in_the_middle_leaves_the_database_as_before_it,
    phases_apply_separately_and_report_pending_applied_remaining,
    the_offline_phase_commits_whole_or_not_at_all,
);

/// On PostgreSQL and SQLite the offline phase is one transaction: when its
/// third migration fails, the first two are not applied either and the
/// database is exactly as before the phase (no restore needed). MariaDB
/// commits each migration's DDL: the first two stay, and the failure says
/// to restore.
fn the_offline_phase_commits_whole_or_not_at_all(backend: Backend) {
    let db = database(backend);
    apply_ok(&db, &[]); // hop's history table, empty
    let before = db.snapshot().unwrap();
    let err = apply_err(&db, &five(true));
    let applied = db
        .query_i64("SELECT COUNT(*) FROM hop_schema_history WHERE success")
        .unwrap_or(0);
    if backend == Backend::Mariadb {
        assert_eq!(applied, 2, "{err}");
        assert!(err.needs_restore(), "{err}");
    } else {
        assert_eq!(applied, 0, "{err}");
        assert!(!err.needs_restore(), "{err}");
        assert_says(&err, "none of them is applied");
        assert_eq!(
            db.snapshot().unwrap(),
            before,
            "the phase left something behind"
        );
        // And run again once fixed, all five apply, in one transaction.
        let report = apply_ok(&db, &five(false));
        assert_eq!(report.applied.len(), 5);
        assert!(report.one_transaction);
    }
}

fn fresh_apply_then_reapply_is_a_no_op(backend: Backend) {
    let db = database(backend);
    let scripts = five(false);
    let report = apply_ok(&db, &scripts);
    assert_eq!(
        (report.pending, report.applied.len(), report.remaining),
        (5, 5, 0)
    );
    // MariaDB's DDL commits implicitly: its phase is never one transaction.
    assert_eq!(report.one_transaction, backend != Backend::Mariadb);
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
    let again = apply_ok(&db, &scripts);
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
    apply_ok(&db, &scripts[..3]);

    let mut changed = scripts.clone();
    changed[1] = script(2, "fill_a", "offline", "INSERT INTO a VALUES (3, 'three');");
    let err = apply_err(&db, &changed);
    assert!(
        matches!(err, MigrateError::ChecksumMismatch { .. }),
        "{err}"
    );
    assert_says(&err, "0002_fill_a.sql changed since it was applied");

    let missing: Vec<Script> = scripts.iter().filter(|s| s.version != 3).cloned().collect();
    let err = apply_err(&db, &missing);
    assert_says(&err, "0003_create_c.sql was applied to this database");

    db.execute(
        "INSERT INTO hop_schema_history (version, description, phase, checksum, hop, applied_at, \
         duration_ms, success, batches, rows_affected, error) VALUES \
         (4, 'create_d', 'offline', 'x', 'h', '2026-01-01T00:00:00Z', 0, false, 0, 0, 'boom')",
    )
    .unwrap();
    let before = db.snapshot().unwrap();
    let err = apply_err(&db, &scripts);
    assert!(matches!(err, MigrateError::Dirty { .. }), "{err}");
    assert_says(&err, "0004_create_d.sql failed on 2026-01-01T00:00:00Z");
    assert_says(&err, "restore the database from the backup");
    assert_eq!(
        db.snapshot().unwrap(),
        before,
        "a refusal changed the database"
    );
}

fn a_failing_migration_in_the_middle_leaves_the_database_as_before_it(backend: Backend) {
    let db = database(backend);
    let scripts = five(true);
    apply_ok(&db, &scripts[..2]);
    let before = db.snapshot().unwrap();
    let dump = scratch().join(format!("middle-{backend}.dump"));
    backup::backup(&db.database_url(), &dump, &Direct).unwrap();

    let err = apply_err(&db, &scripts);
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
        assert_says(&err, "restore it from the backup");
        assert_ne!(db.snapshot().unwrap(), before);
        let refused = apply_err(&db, &scripts);
        assert!(matches!(refused, MigrateError::Dirty { .. }), "{refused}");
        backup::restore(&db.database_url(), &dump, &Direct).unwrap();
    } else {
        assert!(!dirty, "{err}");
        assert_says(&err, "rolled back");
    }
    assert_eq!(
        db.snapshot().unwrap(),
        before,
        "the database is not as it was before 0003"
    );
}

fn phases_apply_separately_and_report_pending_applied_remaining(backend: Backend) {
    let db = database(backend);
    let scripts = vec![
        create_a(),
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
    let err = apply_err(&db, &scripts);
    assert!(matches!(err, MigrateError::OutOfOrder { .. }), "{err}");
    assert_says(&err, "0002_fill_a.sql is older than 0003_create_c.sql");
}

/// A value `ALTER TYPE … ADD VALUE` adds cannot be used before it is
/// committed: an offline phase that adds one and a later migration that
/// uses it runs one migration per transaction (as the builder says), and
/// applies.
#[test]
fn an_enum_value_added_offline_can_be_used_by_the_next_migration() {
    let db = database(Backend::Postgresql);
    let scripts = [
        script(
            1,
            "mood",
            "offline",
            "CREATE TYPE mood AS ENUM ('ok'); CREATE TABLE t (m mood);",
        ),
        script(
            2,
            "add_happy",
            "offline",
            "ALTER TYPE mood ADD VALUE 'happy';",
        ),
        script(3, "use_happy", "offline", "INSERT INTO t VALUES ('happy');"),
    ];
    let report = apply_ok(&db, &scripts);
    assert_eq!(report.applied.len(), 3);
    assert_eq!(
        db.query_i64("SELECT COUNT(*) FROM t WHERE m = 'happy'")
            .unwrap(),
        1
    );
}
