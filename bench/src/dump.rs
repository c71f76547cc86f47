//! Backup and restore of a PostgreSQL database of at least 1 GiB: hop's
//! own (`pg_dump -Fc`, checked with `pg_restore --list` and flushed; the
//! restore replayed by psql in one transaction, so a rollback is all or
//! nothing) against plain `pg_dump -Fc` / `pg_restore` of the same
//! database in the same run, and the directory format with two parallel
//! jobs (`-Fd -j 2`) for the decision of which hop should use.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use hop_artifact::migration::Backend;
use hop_exec::Direct;
use hop_migrate::backup;
use hop_migrate::url::DatabaseUrl;
use hop_testdata::db::TestDatabase;

use crate::measure::shell;

const GIB: i64 = 1 << 30;

fn seconds(f: impl FnOnce() -> Result<()>) -> Result<f64> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed().as_secs_f64())
}

pub fn run(work: &Path) -> Result<String> {
    let db = TestDatabase::create(Backend::Postgresql, &work.join("db"))?;
    let url = DatabaseUrl::parse(&db.url, Path::new("/"))?;
    db.execute(
        "CREATE TABLE big (id bigint PRIMARY KEY, body text NOT NULL, at timestamptz NOT NULL)",
    )?;
    let mut next = 1i64;
    while db.query_i64("SELECT pg_database_size(current_database())")? < GIB {
        let last = next + 2_000_000 - 1;
        db.execute(&format!(
            "INSERT INTO big SELECT g, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) \
             || md5((g * 31)::text), now() FROM generate_series({next}, {last}) g"
        ))?;
        next = last + 1;
    }
    let size = db.query_i64("SELECT pg_database_size(current_database())")?;
    let dir = work.join("dumps");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let (fc, fd) = (dir.join("plain.dump"), dir.join("plain.dir"));
    let hop_dump = dir.join("hop.dump");
    let u = &db.url;

    let plain_dump = shell(&format!("pg_dump -Fc --dbname='{u}' -f {}", fc.display()))?;
    let hop_backup = seconds(|| {
        backup::backup(&url, &hop_dump, &Direct).context("hop's backup")?;
        Ok(())
    })?;
    let dir_dump = shell(&format!(
        "pg_dump -Fd -j 2 --dbname='{u}' -f {}",
        fd.display()
    ))?;
    let plain_restore = shell(&format!(
        "pg_restore --clean --if-exists --dbname='{u}' {}",
        fc.display()
    ))?;
    let dir_restore = shell(&format!(
        "pg_restore -j 2 --clean --if-exists --dbname='{u}' {}",
        fd.display()
    ))?;
    let hop_restore = seconds(|| {
        backup::restore(&url, &hop_dump, &Direct).context("hop's restore")?;
        Ok(())
    })?;
    let rows = db.query_i64("SELECT count(*) FROM big")?;
    anyhow::ensure!(
        rows == next - 1,
        "the restore lost rows: {rows} of {}",
        next - 1
    );
    println!(
        "dump {:.1} GiB: hop {hop_backup:.1}s vs pg_dump -Fc {plain_dump:.1}s ({:.2}×), -Fd -j2 {dir_dump:.1}s; \
         restore: hop {hop_restore:.1}s vs pg_restore {plain_restore:.1}s ({:.2}×), -j2 {dir_restore:.1}s",
        size as f64 / GIB as f64,
        hop_backup / plain_dump,
        hop_restore / plain_restore
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(format!(
        "## Backup and restore of a {:.1} GiB PostgreSQL database\n\n\
         | | hop | `pg_dump -Fc` / `pg_restore` | ratio | `-Fd -j 2` |\n|---|---|---|---|---|\n\
         | backup | {hop_backup:.1}s | {plain_dump:.1}s | {:.2}× | {dir_dump:.1}s |\n\
         | restore | {hop_restore:.1}s | {plain_restore:.1}s | {:.2}× | {dir_restore:.1}s |\n\n\
         hop's backup is `pg_dump -Fc` plus `pg_restore --list` (the dump is readable) and an \
         fsync (it survives a power cut); its restore replays the dump through psql in one \
         transaction, so a rollback is all or nothing. A parallel restore (`-j`) cannot run in \
         one transaction, which is why hop keeps the custom format (docs/decisions.md).\n",
        size as f64 / GIB as f64,
        hop_backup / plain_dump,
        hop_restore / plain_restore,
    ))
}
