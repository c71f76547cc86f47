//! Databases hop did not create: made by running the `from` version's
//! migration files with the database's own client (psql, mariadb, SQLite),
//! as the product's previous tool did, with that tool's history table
//! (golang-migrate, Flyway) or none. hop adopts each (baseline rows) and
//! applies only the later migrations; a column changed by hand is named
//! and refused; a database it cannot place is refused before any service
//! stops.

mod common;

use common::*;
use hop_artifact::migration::Backend;
use hop_testdata::sandbox::{MadeBy, Sandbox, SandboxOptions, ToolHistory};

fn made_by_tool(name: &str, backend: Backend, history: ToolHistory) -> Sandbox {
    sandbox_with(
        name,
        &SandboxOptions {
            backend,
            made_by: MadeBy::Tool(history),
            ..SandboxOptions::sqlite()
        },
    )
}

fn adopted(name: &str, backend: Backend, history: ToolHistory, because: &str) {
    let host = made_by_tool(name, backend, history);
    let rows = |h: &Sandbox| {
        (
            h.query_i64("SELECT COUNT(*) FROM deployments").unwrap(),
            h.query_i64("SELECT COUNT(*) FROM events").unwrap(),
        )
    };
    assert_eq!(rows(&host), (40, 120));
    let pkg = package("4.0.1", "4.1.1");
    let check = hop(&host, &["check", &pkg]);
    check.assert_code(0).assert_stdout(because);
    assert!(
        check
            .stdout
            .lines()
            .any(|l| l.starts_with("adoption") && l.contains("OK") && l.contains("up to 0005")),
        "{}",
        check.stdout
    );
    // The counts are what apply will run: the baseline is recorded, not run.
    let history = check.line("schema history");
    assert!(
        history.contains("pending (after the baseline up to 0005): 2 online, 1 offline, 1 post"),
        "{history}"
    );
    hop(&host, &["apply", &pkg])
        .assert_code(0)
        .assert_stderr("adopted the database")
        .assert_stdout("migrations applied: 2 online, 1 offline, 1 post")
        .assert_stdout("schema: matches 4.1.1's expected schema");
    assert_runs_release(&host, "4.1.1");
    let status = hop(&host, &["db", "status"]);
    status.assert_code(0);
    for (file, state) in [
        ("0001_4.0.0_create_deployments.up.sql", "baseline ("),
        ("0005_index-events-deployment.sql", "baseline ("),
        ("0010_4.1.0_add_deployments_status.sql", "applied "),
        ("0015_backfill_deployments_status.sql", "applied "),
    ] {
        let line = status
            .stdout
            .lines()
            .find(|l| l.starts_with(file))
            .unwrap_or_else(|| panic!("{file} not in\n{}", status.stdout));
        assert!(line.contains(state), "{line}");
    }
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM hop_schema_history WHERE hop LIKE 'baseline%'")
            .unwrap(),
        3
    );
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM hop_schema_history WHERE hop = '4.0.1→4.1.1'")
            .unwrap(),
        4
    );
    assert_eq!(rows(&host), (40, 120), "rows were lost");
    record(
        "adoption",
        &format!("{backend:<10} {name:<28} adopted ({because}) → 4.1.1"),
    );
}

#[test]
fn a_postgresql_database_with_golang_migrate_history_is_adopted() {
    adopted(
        "adopt-golang",
        Backend::Postgresql,
        ToolHistory::GolangMigrate,
        "golang-migrate's history says 0005",
    );
}

#[test]
fn a_mariadb_database_with_flyway_history_is_adopted() {
    adopted(
        "adopt-flyway",
        Backend::Mariadb,
        ToolHistory::Flyway,
        "Flyway's history says 0005",
    );
}

#[test]
fn a_sqlite_database_with_no_history_is_adopted_by_its_schema() {
    adopted(
        "adopt-schema",
        Backend::Sqlite,
        ToolHistory::None,
        "its schema matches 4.0.1's",
    );
}

/// The column changed by hand on each database.
fn alter(host: &Sandbox, backend: Backend) {
    let sql = match backend {
        Backend::Postgresql => "ALTER TABLE deployments ALTER COLUMN name TYPE VARCHAR(64)",
        Backend::Mariadb => "ALTER TABLE deployments MODIFY name VARCHAR(64) NULL",
        Backend::Sqlite => "ALTER TABLE deployments RENAME COLUMN name TO title",
    };
    host.sql(sql).unwrap();
}

fn drift_is_named_and_refused(name: &str, backend: Backend, history: ToolHistory) {
    let host = made_by_tool(name, backend, history);
    alter(&host, backend);
    let before = host.snapshot();
    let pkg = package("4.0.1", "4.1.1");
    let check = hop(&host, &["check", &pkg]);
    check.assert_code(2);
    let schema = check.line("schema");
    assert!(
        schema.contains("FAILURE") && schema.contains("column deployments.name: expected "),
        "{}",
        check.stdout
    );
    hop(&host, &["apply", &pkg])
        .assert_code(2)
        .assert_stderr("column deployments.name");
    assert_eq!(host.snapshot(), before, "a refused apply changed the host");
    let diff = hop(&host, &["db", "diff", &pkg]);
    diff.assert_code(2)
        .assert_stdout("FAILURE  column deployments.name: expected ");
    record(
        "adoption",
        &format!("{backend:<10} {name:<28} column changed by hand → refused"),
    );
}

#[test]
fn a_column_changed_by_hand_is_named_on_postgresql() {
    drift_is_named_and_refused("drift-pg", Backend::Postgresql, ToolHistory::GolangMigrate);
}

#[test]
fn a_column_changed_by_hand_is_named_on_mariadb() {
    drift_is_named_and_refused("drift-maria", Backend::Mariadb, ToolHistory::Flyway);
}

#[test]
fn a_database_hop_cannot_place_is_refused_before_any_service_stops() {
    let host = made_by_tool("no-way", Backend::Sqlite, ToolHistory::None);
    alter(&host, Backend::Sqlite);
    let before = host.snapshot();
    let pkg = package("4.0.1", "4.1.1");
    let check = hop(&host, &["check", &pkg]);
    check.assert_code(2);
    let line = check.line("adoption");
    assert!(
        line.contains("FAILURE")
            && line.contains("no migration history")
            && line.contains("hop-install db diff"),
        "{}",
        check.stdout
    );
    // Its rehearsal refuses it the same way, before copying anything.
    hop(&host, &["rehearse", &pkg])
        .assert_code(2)
        .assert_stderr("the database cannot be adopted")
        .assert_stderr("apply would refuse it the same way");
    assert_eq!(
        host.snapshot(),
        before,
        "a refused rehearsal changed the host"
    );
    let run = hop(&host, &["apply", &pkg]);
    run.assert_code(2).assert_stderr("cannot be adopted");
    assert!(!run.stderr.contains("stop services"), "{}", run.stderr);
    assert_eq!(host.snapshot(), before);
    assert!(
        !host.root.join("var/lib/hop/operations").exists()
            || std::fs::read_dir(host.root.join("var/lib/hop/operations"))
                .unwrap()
                .next()
                .is_none(),
        "an operation began"
    );
}

/// The 4.0.1 → 4.1.1 hop with one more offline migration that alters
/// golang-migrate's own table, as a product moved from that tool does;
/// the manifest says the migrations use it.
fn altering_golang_migrates_table() -> String {
    let migrations = fixtures()
        .dir()
        .join("scratch/variant-alters-schema-migrations/migrations");
    variant(
        "alters-schema-migrations",
        |dir| {
            let m = dir.join("migrations");
            hop_testdata::product::write_migrations("4.1.1", &m).unwrap();
            std::fs::write(
                m.join("0016_schema_migrations_applied_by.sql"),
                "-- hop: phase=offline\nALTER TABLE schema_migrations ADD COLUMN applied_by VARCHAR(100);\n",
            )
            .unwrap();
        },
        |m| {
            let m = replace(
                m,
                "migrations: release/4.1.1/migrations/",
                &format!("migrations: {}", migrations.display()),
            );
            format!("{m}adoption: {{golang_migrate: true}}\n")
        },
    )
}

/// A database golang-migrate made is adopted and its tool table kept,
/// rows and all, and altered; on a host hop made itself, the table is
/// made before the migrations.
#[test]
fn a_migration_altering_golang_migrates_table_builds_installs_and_adopts() {
    let pkg = altering_golang_migrates_table();
    let host = made_by_tool(
        "adopt-golang-alter",
        Backend::Postgresql,
        ToolHistory::GolangMigrate,
    );
    hop(&host, &["apply", &pkg])
        .assert_code(0)
        .assert_stderr("adopted the database")
        .assert_stdout("schema: matches 4.1.1's expected schema");
    assert_eq!(
        host.query_i64(
            "SELECT COUNT(*) FROM schema_migrations WHERE version = 5 AND NOT dirty AND applied_by IS NULL"
        )
        .unwrap(),
        1,
        "golang-migrate's row is not kept as it was"
    );
    assert_runs_release(&host, "4.1.1");

    let fresh = sandbox("golang-alter-fresh", Backend::Sqlite);
    hop(&fresh, &["apply", &pkg]).assert_code(0);
    assert_eq!(
        fresh
            .query_i64("SELECT COUNT(*) FROM schema_migrations WHERE applied_by IS NULL")
            .unwrap(),
        0
    );
}
