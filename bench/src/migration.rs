//! A 100k-row batched post migration, in rows per second, on SQLite and
//! PostgreSQL.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use hop_artifact::migration::{Backend, Phase};
use hop_migrate::{Migrator, Options, Quiet, Script};
use hop_testdata::db::TestDatabase;

use crate::measure::MigrationRow;

const ROWS: u64 = 100_000;

pub fn run(work: &Path) -> Result<Vec<MigrationRow>> {
    let mut rows = Vec::new();
    for (backend, name) in [
        (Backend::Sqlite, "SQLite"),
        (Backend::Postgresql, "PostgreSQL"),
    ] {
        let db = TestDatabase::create(backend, &work.join("db"))?;
        let fill = match backend {
            Backend::Postgresql => format!(
                "INSERT INTO items (id, migrated) SELECT g, 0 FROM generate_series(1, {ROWS}) g;"
            ),
            _ => format!(
                "INSERT INTO items (id, migrated) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS}) SELECT i, 0 FROM n;"
            ),
        };
        let scripts = vec![
            Script::parse(
                "0001_create_items.sql",
                &format!("-- hop: phase=offline\nCREATE TABLE items (id INTEGER PRIMARY KEY, migrated INTEGER NOT NULL);\nCREATE INDEX items_migrated ON items (migrated);\n{fill}\n"),
            )
            .map_err(anyhow::Error::msg)?,
            Script::parse(
                "0002_backfill_items.sql",
                "-- hop: phase=post batch\nUPDATE items SET migrated = 1 WHERE id IN (SELECT id FROM items WHERE migrated = 0 ORDER BY id LIMIT 1000);\n",
            )
            .map_err(anyhow::Error::msg)?,
        ];
        let mut m = Migrator::connect(&db.database_url(), Options::default())?;
        m.apply(&scripts, Phase::Offline, "bench", &mut Quiet)?;
        let start = Instant::now();
        m.apply(&scripts, Phase::Post, "bench", &mut Quiet)?;
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "{name}: {ROWS} rows in {seconds:.2}s ({:.0} rows/s)",
            ROWS as f64 / seconds
        );
        rows.push(MigrationRow {
            database: name,
            rows: ROWS,
            seconds,
        });
    }
    Ok(rows)
}
