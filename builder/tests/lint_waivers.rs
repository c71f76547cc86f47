//! A waived finding of the online-migration linter ships, and the package
//! says so: `hop.yaml` lists the waiver and `inspect` shows it; the same
//! migration without its waiver is refused with the safe pattern to use.

mod common;

use common::{fixtures, hop_build};

/// Builds the 4.0.1 → 4.1.1 hop with one more online migration whose
/// PostgreSQL variant is `sql` (a DO block is PostgreSQL's); (the build's
/// run, the package).
fn build_with(name: &str, sql: &str) -> (common::Run, std::path::PathBuf) {
    let f = fixtures();
    let dir = f.scratch(&format!("{name}-migrations")).unwrap();
    hop_testdata::product::write_migrations("4.1.1", &dir).unwrap();
    let name_sql = "0013_grant_reporting.sql";
    std::fs::write(dir.join(name_sql), "-- hop: phase=online\nSELECT 1;\n").unwrap();
    std::fs::create_dir_all(dir.join("postgresql")).unwrap();
    std::fs::write(dir.join("postgresql").join(name_sql), sql).unwrap();
    let yaml = std::fs::read_to_string(f.manifest("4.0.1", "4.1.1"))
        .unwrap()
        .replacen(
            "migrations: release/4.1.1/migrations/",
            &format!("migrations: {}", dir.display()),
            1,
        );
    let manifest = f.dir().join("manifests").join(format!("{name}.yaml"));
    std::fs::write(&manifest, yaml).unwrap();
    let out = f.scratch(&format!("{name}-out")).unwrap().join("out.hop");
    let run = hop_build(&[
        "build",
        manifest.to_str().unwrap(),
        "--key",
        f.vendor_key().secret.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    (run, out)
}

const DO_BLOCK: &str = "DO $$ BEGIN EXECUTE 'GRANT SELECT ON events TO PUBLIC'; END $$;\n";

#[test]
fn a_waived_finding_ships_listed_in_the_package() {
    let sql = format!(
        "-- hop: phase=online\n-- hop: allow opaque-statement because it only grants read access\n{DO_BLOCK}"
    );
    let (run, package) = build_with("waived", &sql);
    run.assert_code(0);
    hop_build(&["inspect", package.to_str().unwrap()])
        .assert_code(0)
        .assert_stdout("waived lint findings (1):")
        .assert_stdout(
            "migrations/postgresql/0013_grant_reporting.sql:2  opaque-statement  because it only grants read access",
        );
    let json = hop_build(&["inspect", package.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json.text()).unwrap();
    assert_eq!(v["manifest"]["waivers"][0]["rule"], "opaque-statement");
    assert_eq!(v["manifest"]["waivers"][0]["line"], 2);
}

#[test]
fn the_same_statement_without_a_waiver_is_refused_with_what_to_do() {
    let (run, package) = build_with("unwaived", &format!("-- hop: phase=online\n{DO_BLOCK}"));
    run.assert_code(2)
        .assert_stderr("0013_grant_reporting.sql:2: online migration is not safe")
        .assert_stderr("[opaque-statement]")
        .assert_stderr("instead: write the statements out");
    assert!(!package.exists());
    // A waiver with no reason is refused too.
    let sql = format!("-- hop: phase=online\n-- hop: allow opaque-statement\n{DO_BLOCK}");
    build_with("no-reason", &sql)
        .0
        .assert_code(2)
        .assert_stderr("a waiver needs a rule and a reason");
}
