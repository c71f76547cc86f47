//! Backups: written private, restored exactly, restorable twice.

use hop_artifact::migration::{Backend, Phase};
use hop_migrate::{Quiet, backup};

use crate::*;
use hop_migrate::tools::Direct;

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
