//! Schemas and adoption: two databases made by the same migrations
//! describe themselves alike; a changed column is named; a database
//! another tool made is adopted with baseline rows.

use hop_artifact::migration::{Backend, Phase};
use hop_migrate::adopt::Foreign;
use hop_migrate::schema::compare;
use hop_migrate::{Quiet, history::TABLE};

use crate::*;

on_every_backend!(
    databases_made_alike_have_the_same_schema_and_a_changed_column_is_named,
    a_golang_migrate_database_is_found_and_adopted_with_baseline_rows,
);

fn databases_made_alike_have_the_same_schema_and_a_changed_column_is_named(backend: Backend) {
    let (one, two) = (database(backend), database(backend));
    for db in [&one, &two] {
        migrator(db)
            .apply(&five(false), Phase::Offline, HOP, &mut Quiet)
            .unwrap();
    }
    two.execute("CREATE INDEX a_by_name ON a (name)").unwrap();
    let expected = migrator(&one).schema().unwrap();
    assert!(expected.tables().any(|t| t == "a"), "{expected:?}");
    assert!(
        !expected.objects.keys().any(|k| k.contains(TABLE)),
        "{expected:?}"
    );
    assert!(
        expected.objects.contains_key("column a.name"),
        "{expected:?}"
    );
    let diff = compare(&expected, &migrator(&two).schema().unwrap());
    assert!(diff.iter().all(|d| !d.is_failure()), "{diff:?}");
    assert!(
        diff.iter().any(|d| d.object.contains("a_by_name")),
        "{diff:?}"
    );

    let alter = match backend {
        Backend::Postgresql => "ALTER TABLE a ALTER COLUMN name TYPE text",
        Backend::Mariadb => "ALTER TABLE a MODIFY name TEXT",
        Backend::Sqlite => "ALTER TABLE a RENAME COLUMN name TO label",
    };
    two.execute(alter).unwrap();
    let diff = compare(&expected, &migrator(&two).schema().unwrap());
    let named: Vec<String> = diff
        .iter()
        .filter(|d| d.is_failure())
        .map(|d| d.to_string())
        .collect();
    assert!(
        named
            .iter()
            .any(|d| d.starts_with("column a.name: expected ")),
        "{named:?}"
    );
}

fn a_golang_migrate_database_is_found_and_adopted_with_baseline_rows(backend: Backend) {
    let db = database(backend);
    // The product's previous tool: its own SQL and its own history table.
    db.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, name VARCHAR(50))")
        .unwrap();
    db.execute("INSERT INTO a VALUES (1, 'one')").unwrap();
    db.execute("CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, dirty BOOLEAN NOT NULL)")
        .unwrap();
    db.execute("INSERT INTO schema_migrations VALUES (2, FALSE)")
        .unwrap();
    let mut m = migrator(&db);
    assert_eq!(
        m.foreign_history(),
        Some(Foreign::GolangMigrate {
            version: 2,
            dirty: false
        })
    );
    assert_eq!(m.baseline(&five(false), 2, "golang-migrate").unwrap(), 2);
    let history = m.history().unwrap();
    assert_eq!(history.len(), 2);
    assert!(
        history
            .iter()
            .all(|r| r.success && r.hop == "baseline (golang-migrate)")
    );
    // The later migrations apply; the earlier ones are not run again.
    let report = m
        .apply(&five(false), Phase::Offline, HOP, &mut Quiet)
        .unwrap();
    assert_eq!(report.applied.len(), 3);
    assert_eq!(db.query_i64("SELECT COUNT(*) FROM a").unwrap(), 1);
}
