//! A product's migration history as real products have it — gaps in the
//! numbers, dots and dashes in descriptions, golang-migrate's
//! `.up.sql`/`.down.sql` pairs — builds; `--previous` holds a release to
//! the order its predecessor shipped; the expected schemas are recorded.

mod common;

use std::path::{Path, PathBuf};

use common::{Run, fixtures, hop_build};

/// Builds `manifest` (a path) into `name.hop` in a scratch directory.
fn build(name: &str, manifest: &Path, extra: &[&str]) -> (Run, PathBuf) {
    let out = fixtures()
        .scratch(&format!("history-{name}"))
        .unwrap()
        .join(format!("{name}.hop"));
    let key = fixtures().vendor_key().secret.display().to_string();
    let servers = hop_testdata::fixtures::schema_options(fixtures().dir()).servers;
    let mut args = vec![
        "build",
        manifest.to_str().unwrap(),
        "--key",
        &key,
        "-o",
        out.to_str().unwrap(),
    ];
    for server in &servers {
        args.extend(["--schema-db", server.as_str()]);
    }
    args.extend_from_slice(extra);
    (hop_build(&args), out)
}

/// The 4.1.1 → 4.2.0 manifest with its migrations in an editable copy.
fn next_hop_with(name: &str, edit: impl FnOnce(&Path)) -> PathBuf {
    let f = fixtures();
    let dir = f.scratch(&format!("history-{name}-migrations")).unwrap();
    hop_testdata::product::write_migrations("4.2.0", &dir).unwrap();
    edit(&dir);
    let text = std::fs::read_to_string(f.manifest("4.1.1", "4.2.0"))
        .unwrap()
        .replace(
            "migrations: release/4.2.0/migrations/",
            &format!("migrations: {}", dir.display()),
        );
    let manifest = f
        .dir()
        .join("manifests")
        .join(format!("history-{name}.yaml"));
    std::fs::write(&manifest, text).unwrap();
    manifest
}

#[test]
fn a_history_with_gaps_dots_and_up_down_pairs_builds_and_notes_the_down_files() {
    let f = fixtures();
    let (out, pkg) = build("gaps", &f.manifest("4.0.1", "4.1.1"), &[]);
    assert!(out.code == 0, "{}", out.text());
    assert!(
        out.text()
            .contains("note: ignored 2 down migration(s), which hop never runs")
            && out
                .text()
                .contains("0001_4.0.0_create_deployments.down.sql"),
        "{}",
        out.text()
    );
    let inspect = hop_build(&["inspect", pkg.to_str().unwrap(), "--json"]);
    let json: serde_json::Value = serde_json::from_str(&inspect.stdout).unwrap();
    let files: Vec<&str> = json["manifest"]["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "migrations/0001_4.0.0_create_deployments.up.sql",
            "migrations/0002_4.0.0_create_events.up.sql",
            "migrations/0005_index-events-deployment.sql",
            "migrations/0010_4.1.0_add_deployments_status.sql",
            "migrations/0011_index_deployments_name.sql",
            "migrations/0012_rename_events_message.sql",
            "migrations/0015_backfill_deployments_status.sql",
        ]
    );
    // The expected schemas, for every database the hop supports.
    let schemas = &json["manifest"]["expected_schemas"];
    for backend in ["postgresql", "mariadb", "sqlite"] {
        assert_eq!(
            schemas[backend]["from"].as_str(),
            Some(format!("schemas/{backend}-from.json").as_str()),
            "{json:#}"
        );
    }
    let text = hop_build(&["inspect", pkg.to_str().unwrap()]).stdout;
    assert!(text.contains("expected schemas:"), "{text}");
    assert!(text.contains("from_last_migration: 0005"), "{text}");
}

#[test]
fn previous_refuses_a_lower_numbered_new_migration_and_a_changed_shipped_one() {
    let f = fixtures();
    let (out, previous) = build("previous", &f.manifest("4.0.1", "4.1.1"), &[]);
    assert!(out.code == 0, "{}", out.text());
    let prev = previous.to_str().unwrap();

    let (ok, _) = build(
        "continues",
        &f.manifest("4.1.1", "4.2.0"),
        &["--previous", prev],
    );
    assert!(ok.code == 0, "{}", ok.text());

    let manifest = next_hop_with("lower", |d| {
        std::fs::write(
            d.join("0013_late_fix.sql"),
            "-- hop: phase=offline\nSELECT 1;\n",
        )
        .unwrap()
    });
    let (out, written) = build("lower", &manifest, &["--previous", prev]);
    assert_eq!(Some(out.code), Some(2), "{}", out.text());
    assert!(!written.exists());
    assert!(
        out.text().contains(
            "0013_late_fix.sql is numbered below 0015_backfill_deployments_status.sql, the last migration previous.hop shipped"
        ),
        "{}",
        out.text()
    );

    let manifest = next_hop_with("changed", |d| {
        let file = d.join("0012_rename_events_message.sql");
        let mut sql = std::fs::read_to_string(&file).unwrap();
        sql.push_str("-- a fix after the release\n");
        std::fs::write(file, sql).unwrap();
    });
    let (out, _) = build("changed", &manifest, &["--previous", prev]);
    assert_eq!(Some(out.code), Some(2), "{}", out.text());
    assert!(
        out.text()
            .contains("0012_rename_events_message.sql changed since previous.hop shipped it"),
        "{}",
        out.text()
    );
}
