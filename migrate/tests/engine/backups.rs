//! Backups: written private, restored exactly, restorable twice.

use hop_artifact::migration::{Backend, Phase};
use hop_migrate::{Quiet, backup};

use crate::*;
use hop_exec::Direct;

on_every_backend!(backup_then_damage_then_restore_gives_the_same_database,);

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

on_every_backend!(a_damaged_dump_is_refused_before_anything_is_restored,);

/// A dump is checked again right before a restore: a truncated one (the
/// disk filled, a crash while copying) is refused and the database is
/// left as it is, rather than half-replayed.
fn a_damaged_dump_is_refused_before_anything_is_restored(backend: Backend) {
    let db = database(backend);
    migrator(&db)
        .apply(&five(false), Phase::Offline, HOP, &mut Quiet)
        .unwrap();
    let dump = scratch().join(format!("damaged-{backend}.dump"));
    backup::backup(&db.database_url(), &dump, &Direct).unwrap();
    let bytes = std::fs::read(&dump).unwrap();
    std::fs::write(&dump, &bytes[..bytes.len() * 2 / 3]).unwrap();
    db.execute("INSERT INTO a VALUES (7, 'after the dump', 'x')")
        .unwrap();
    let now = db.snapshot().unwrap();
    let err = backup::restore(&db.database_url(), &dump, &Direct).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("incomplete") || text.contains("not readable") || text.contains("damaged"),
        "{text}"
    );
    assert_eq!(db.snapshot().unwrap(), now, "a damaged dump was restored");
}
