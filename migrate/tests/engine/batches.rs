//! Batched post migrations: interrupted, continued, every row once.

use hop_artifact::migration::{Backend, Phase};
use hop_migrate::{MigrateError, Observer, Quiet, Script};

use crate::*;
use hop_migrate::status::State;

on_every_backend!(
    a_batched_post_migration_interrupted_midway_continues_and_migrates_every_row_once,
);

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
    apply_ok(&db, &scripts);
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
