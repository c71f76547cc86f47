//! A failed offline phase costs no restore where the database can roll DDL
//! back: on PostgreSQL and SQLite the phase's migrations run in one
//! transaction, so when the last of them fails the first are undone with
//! it, and the rollback leaves the database alone (the journal says why);
//! the host ends exactly as it was. MariaDB commits each migration's DDL:
//! there the rollback restores the dump, and ends as exactly.

mod common;

use common::*;
use hop_artifact::migration::Backend;

/// The 4.0.1 → 4.1.1 hop with every migration of it offline (no online
/// ones, no PostgreSQL-only index variant) and a last offline migration,
/// 0013, a unique index: it builds on an empty database and fails on a
/// customer's duplicates, the most common failure of an upgrade.
fn failing_offline_phase() -> String {
    // Built once: the tests run in parallel and a variant's directory is
    // made anew by each build.
    static PACKAGE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PACKAGE.get_or_init(build_failing_offline_phase).clone()
}

fn build_failing_offline_phase() -> String {
    let migrations = fixtures()
        .dir()
        .join("scratch/variant-offline-fails/migrations");
    variant(
        "offline-fails",
        |dir| {
            let m = dir.join("migrations");
            hop_testdata::product::write_migrations("4.1.1", &m).unwrap();
            for file in [
                "0010_4.1.0_add_deployments_status.sql",
                "0011_index_deployments_name.sql",
            ] {
                let text = std::fs::read_to_string(m.join(file)).unwrap();
                std::fs::write(m.join(file), text.replace("phase=online", "phase=offline"))
                    .unwrap();
                let _ = std::fs::remove_file(m.join("postgresql").join(file));
                let _ = std::fs::remove_file(m.join("mariadb").join(file));
            }
            std::fs::write(
                m.join("0013_copy_events.sql"),
                "-- hop: phase=offline\nCREATE UNIQUE INDEX events_text_unique ON events (text);\n",
            )
            .unwrap();
        },
        |m| {
            replace(
                m,
                "migrations: release/4.1.1/migrations/",
                &format!("migrations: {}", migrations.display()),
            )
        },
    )
}

fn journal_rollback(host: &hop_testdata::sandbox::Sandbox) -> serde_json::Value {
    let ops = host.root.join("var/lib/hop/operations");
    let dir = std::fs::read_dir(&ops)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|d| d.join("journal.json").is_file())
        .unwrap();
    let journal: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("journal.json")).unwrap()).unwrap();
    journal["rollback"].clone()
}

fn a_failed_offline_phase(backend: Backend) {
    let host = sandbox(&format!("cheap-{backend}"), backend);
    let pkg = failing_offline_phase();
    // The rehearsal (on a copy without the duplicates: there it passes)
    // predicts both rollbacks: a failed offline phase costs a restore on
    // MariaDB only.
    let rehearsal = hop(&host, &["rehearse", &pkg]);
    rehearsal.assert_code(0);
    match backend {
        Backend::Mariadb => rehearsal.assert_stdout("after a failure in the offline phase too"),
        _ => rehearsal.assert_stdout("after a failure in the offline phase: it rolls back in its own transaction, no restore"),
    };
    for id in [900_001, 900_002] {
        host.sql(&format!(
            "INSERT INTO events (id, deployment_id, message) VALUES ({id}, 1, 'twice')"
        ))
        .unwrap();
    }
    let initial = host.snapshot();
    let run = hop(&host, &["apply", &pkg]);
    run.assert_code(1)
        .assert_stderr("0013_copy_events.sql")
        .assert_stderr("the host was rolled back");
    let rollback = journal_rollback(&host);
    let restored = rollback["plan"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u == "restore_database");
    match backend {
        Backend::Mariadb => {
            assert!(restored, "{rollback:#}\n{}", run.stderr);
            assert!(!run.stderr.contains("it is not restored"), "{}", run.stderr);
        }
        _ => {
            assert!(!restored, "{rollback:#}");
            assert!(
                rollback["no_restore"]
                    .as_str()
                    .is_some_and(|w| w.contains("one transaction")),
                "{rollback:#}"
            );
            run.assert_stderr("none of them is applied")
                .assert_stderr("it is not restored");
        }
    }
    assert_consistent(&host, &initial);
    assert_eq!(host.snapshot(), initial, "the host is not as it was");
}

#[test]
fn a_failed_offline_phase_on_sqlite_needs_no_restore() {
    a_failed_offline_phase(Backend::Sqlite);
}

#[test]
fn a_failed_offline_phase_on_postgresql_needs_no_restore() {
    a_failed_offline_phase(Backend::Postgresql);
}

#[test]
fn a_failed_offline_phase_on_mariadb_is_restored() {
    a_failed_offline_phase(Backend::Mariadb);
}

/// How long each part of the last rollback took, from the operation log.
fn rollback_parts(host: &hop_testdata::sandbox::Sandbox) -> Vec<(String, f64)> {
    let logs = host.root.join("var/lib/hop/logs");
    let log = std::fs::read_dir(&logs)
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .find(|text| text.contains("== rollback done"))
        .expect("no log of a rollback");
    hop_testdata::oplog::rollback_parts(&log).unwrap()
}

/// A million rows: a restore would take seconds; the rollback of the
/// failed phase leaves them alone and costs what the services cost.
#[test]
fn a_million_rows_roll_back_without_a_restore_in_under_a_second() {
    let host = sandbox("cheap-million", Backend::Postgresql);
    host.sql(
        "INSERT INTO events (id, deployment_id, message) \
         SELECT g, 1, 'event ' || g FROM generate_series(1000001, 2000000) g",
    )
    .unwrap();
    for id in [900_001, 900_002] {
        host.sql(&format!(
            "INSERT INTO events (id, deployment_id, message) VALUES ({id}, 1, 'twice')"
        ))
        .unwrap();
    }
    assert!(host.query_i64("SELECT count(*) FROM events").unwrap() >= 1_000_000);
    let before = host.database_snapshot().unwrap();
    let run = hop(&host, &["apply", &failing_offline_phase()]);
    run.assert_code(1)
        .assert_stderr("0013_copy_events.sql")
        .assert_stderr("it is not restored");
    let rollback = journal_rollback(&host);
    assert!(
        !rollback["plan"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u == "restore_database"),
        "{rollback:#}"
    );
    assert!(rollback["no_restore"].is_string(), "{rollback:#}");
    assert!(
        host.database_snapshot().unwrap() == before,
        "the database dump differs from the one before the apply"
    );
    // Everything but stopping, starting and gating the services.
    let parts = rollback_parts(&host);
    eprintln!("the rollback's parts (seconds): {parts:?}");
    let beyond = hop_testdata::oplog::beyond_services(&parts);
    assert!(
        beyond < 1.0,
        "the rollback took {beyond:.2}s beyond the services: {parts:?}"
    );
}
