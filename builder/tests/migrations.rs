//! What `hop-build build` makes of a history's migrations: the online
//! linter's refusals and what it lets through, how the offline phase runs
//! on each database, a migration tool's table the migrations use, and a
//! variant with a phase of its own.

mod common;

use std::path::Path;

use common::Case;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn refuses_non_additive_online_migrations_naming_file_line_and_rule() {
    let cases: [(&str, &str, &str); 6] = [
        (
            "lint-drop",
            "ALTER TABLE events\n    DROP COLUMN message;",
            "[drop]",
        ),
        (
            "lint-rename",
            "ALTER TABLE deployments RENAME TO deps;",
            "[rename]",
        ),
        (
            "lint-type",
            "ALTER TABLE deployments ALTER COLUMN name TYPE VARCHAR(20);",
            "[changing-column-type] on postgresql",
        ),
        (
            "lint-not-null",
            "ALTER TABLE deployments ALTER COLUMN name SET NOT NULL;",
            "[set-not-null]",
        ),
        ("lint-truncate", "TRUNCATE events;", "[truncate]"),
        (
            "lint-index",
            "CREATE INDEX events_message ON events (message);",
            "[require-concurrent-index-creation] on postgresql",
        ),
    ];
    for (name, sql, rule) in cases {
        let line = if name == "lint-drop" { ":3:" } else { ":2:" };
        Case::new(name)
            .with_migrations(|d| {
                write(
                    d,
                    "0008_change.sql",
                    &format!("-- hop: phase=online\n{sql}\n"),
                )
            })
            .refused_with(&["0008_change.sql", line, rule, "; instead: "]);
    }
}

#[test]
fn accepts_the_same_statements_offline_and_concurrent_indexes_online() {
    let (code, stderr, written) = Case::new("offline-ok")
        .with_migrations(|d| {
            write(
                d,
                "0016_change.sql",
                "-- hop: phase=offline\nALTER TABLE events DROP COLUMN text;\n",
            );
            std::fs::create_dir_all(d.join("postgresql")).unwrap();
            write(
                d,
                "0017_index.sql",
                "-- hop: phase=online\nCREATE INDEX e ON events (id);\n",
            );
            write(
                &d.join("postgresql"),
                "0017_index.sql",
                "-- hop: phase=online\nCREATE INDEX CONCURRENTLY e ON events (id);\n",
            );
        })
        .build();
    assert_eq!(code, 0, "{stderr}");
    assert!(written);
}

/// A widening of a varchar the history declared is no rewrite: the build
/// takes it online (squawk would refuse it).
#[test]
fn accepts_widening_a_varchar_online() {
    let (code, stderr, written) = Case::new("widen-ok")
        .with_migrations(|d| {
            write(d, "0016_widen.sql", "-- hop: phase=online\nSELECT 1;\n");
            write(
                &d.join("postgresql"),
                "0016_widen.sql",
                "-- hop: phase=online\nALTER TABLE deployments ALTER COLUMN name TYPE VARCHAR(500);\n",
            );
        })
        .build();
    assert_eq!(code, 0, "{stderr}");
    assert!(written);
}

/// An offline phase that cannot run in one transaction on PostgreSQL (a
/// CONCURRENTLY index) is said at build time and by inspect, with what a
/// failure then costs; SQLite's still is one.
#[test]
fn says_when_the_offline_phase_cannot_be_one_transaction() {
    let case = Case::new("offline-per-migration").with_migrations(|d| {
        write(
            d,
            "0016_index.sql",
            "-- hop: phase=offline\nCREATE INDEX e ON events (id);\n",
        );
        write(
            &d.join("postgresql"),
            "0016_index.sql",
            "-- hop: phase=offline\nCREATE INDEX CONCURRENTLY e ON events (id);\n",
        );
    });
    let (code, stderr, written) = case.build();
    assert_eq!(code, 0, "{stderr}");
    assert!(written);
    assert!(
        stderr.contains("note: the offline phase on postgresql runs one transaction per migration, because 0016_index.sql:2: … CONCURRENTLY cannot run in a transaction"),
        "{stderr}"
    );
    assert!(!stderr.contains("offline phase on sqlite"), "{stderr}");
    let inspect = common::hop_build(&["inspect", case.output().to_str().unwrap()]);
    inspect
        .assert_code(0)
        .assert_stdout(
            "offline phase on postgresql: one transaction per migration, because 0016_index.sql:2",
        )
        .assert_stdout(
            "offline phase on sqlite: one transaction (a failure rolls back: no restore)",
        );
    // Without it, the phase is one transaction on PostgreSQL too.
    let (code, stderr, _) = Case::new("offline-one").build();
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("offline phase"), "{stderr}");
}

/// Migrations that alter golang-migrate's `schema_migrations` (made by
/// that tool before 0001) build once the manifest says they use it.
#[test]
fn migrations_that_alter_a_tools_table_build_when_the_manifest_says_so() {
    let migrations = |d: &Path| {
        write(
            d,
            "0016_tool.sql",
            "-- hop: phase=offline\nALTER TABLE schema_migrations ADD COLUMN applied_by VARCHAR(100);\n",
        )
    };
    Case::new("tool-table-unsaid")
        .with_migrations(migrations)
        .refused_with(&["0016_tool.sql", "schema_migrations"]);
    let case = Case::new("tool-table-said").with_migrations(migrations);
    let yaml = format!("{}adoption: {{golang_migrate: true}}\n", case.yaml);
    let case = Case { yaml, ..case };
    let (code, stderr, written) = case.build();
    assert_eq!(code, 0, "{stderr}");
    assert!(written);
    common::hop_build(&["inspect", case.output().to_str().unwrap()])
        .assert_code(0)
        .assert_stdout("tool tables: schema_migrations (made where missing, kept where it is)");
}

/// A variant may run in another phase: the hop then rolls on the
/// databases where it is online, and inspect says which.
#[test]
fn a_variant_with_its_own_phase_makes_the_hop_rolling_where_it_is_online() {
    let case = Case::new("per-database-phase").with_migrations(|d| {
        hop_testdata::product::write_rolling_migrations("4.1.1", d).unwrap();
        write(
            d,
            "0016_severity.sql",
            "-- hop: phase=online\nALTER TABLE events ADD COLUMN severity VARCHAR(10);\n",
        );
        write(
            &d.join("mariadb"),
            "0016_severity.sql",
            "-- hop: phase=offline\nALTER TABLE events ADD COLUMN severity VARCHAR(10) FIRST;\n",
        );
    });
    let (code, stderr, written) = case.build();
    assert_eq!(code, 0, "{stderr}");
    assert!(written);
    common::hop_build(&["inspect", case.output().to_str().unwrap()])
        .assert_code(0)
        .assert_stdout("0016_severity.sql")
        .assert_stdout("mariadb variant (offline)")
        .assert_stdout("rolling: on postgresql, sqlite only (not on mariadb, where 0016_severity.sql is offline");
    // Online everywhere: it rolls everywhere.
    let everywhere = Case::new("one-phase-everywhere").with_migrations(|d| {
        hop_testdata::product::write_rolling_migrations("4.1.1", d).unwrap();
    });
    let (code, stderr, _) = everywhere.build();
    assert_eq!(code, 0, "{stderr}");
    common::hop_build(&["inspect", everywhere.output().to_str().unwrap()])
        .assert_code(0)
        .assert_stdout("rolling: yes");
}
