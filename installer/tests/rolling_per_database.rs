//! A migration may run in another phase on one database than on another:
//! online on PostgreSQL and SQLite, offline on MariaDB (whose variant
//! copies the table). The hop then rolls where it is online: `expand`
//! runs on a PostgreSQL host, and is refused on a MariaDB one naming the
//! migration, the host unchanged.

mod common;

use common::*;
use hop_artifact::migration::Backend;

/// The cluster edition's 4.0.1 → 4.1.1 hop with one more migration,
/// 0016, online everywhere but MariaDB.
fn per_database_phase() -> String {
    static PACKAGE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PACKAGE
        .get_or_init(|| {
            let f = fixtures();
            let dir = f.scratch("variant-per-database-phase").unwrap();
            let m = dir.join("migrations");
            hop_testdata::product::write_rolling_migrations("4.1.1", &m).unwrap();
            let file = "0016_events_severity.sql";
            std::fs::write(
                m.join(file),
                "-- hop: phase=online\nALTER TABLE events ADD COLUMN severity VARCHAR(10);\n",
            )
            .unwrap();
            std::fs::create_dir_all(m.join("mariadb")).unwrap();
            std::fs::write(
                m.join("mariadb").join(file),
                "-- hop: phase=offline\nALTER TABLE events ADD COLUMN severity VARCHAR(10) NOT NULL DEFAULT 'info' FIRST;\n",
            )
            .unwrap();
            let rolling = f.dir().join("manifests/rolling");
            let text =
                std::fs::read_to_string(rolling.join("manager-4.0.1-to-4.1.1.yaml")).unwrap();
            let text = replace(
                text,
                "migrations: ../release/4.1.1/migrations-rolling/",
                &format!("migrations: {}", m.display()),
            );
            let manifest = rolling.join("variant-per-database-phase.yaml");
            std::fs::write(&manifest, text).unwrap();
            let out = dir.join("per-database-phase.hop");
            f.build(&manifest, &f.vendor_key(), &out).unwrap();
            out.display().to_string()
        })
        .clone()
}

#[test]
fn a_hop_offline_on_mariadb_only_rolls_on_postgresql_and_is_refused_on_mariadb() {
    let pkg = per_database_phase();
    let pg = sandbox("per-db-phase-pg", Backend::Postgresql);
    hop(&pg, &["expand", &pkg]).assert_code(0);
    assert_eq!(
        pg.query_i64(
            "SELECT COUNT(*) FROM information_schema.columns WHERE column_name = 'severity'"
        )
        .unwrap(),
        1,
        "expand did not apply 0016 online"
    );

    let maria = sandbox("per-db-phase-maria", Backend::Mariadb);
    assert_refused(
        &maria,
        &["expand", &pkg],
        &[
            "cannot be applied node by node",
            "offline migrations on mariadb (0016_events_severity.sql)",
        ],
    );
    // The whole-host apply takes it there, offline.
    hop(&maria, &["apply", &pkg]).assert_code(0);
    assert_runs_release(&maria, "4.1.1");
}
