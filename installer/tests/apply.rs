//! `hop-install apply` end to end, on sandbox hosts with real supervisord,
//! real rpm and real databases: the upgrade, the refusals that change
//! nothing, and the failures that roll back to an unchanged 4.0.1 host.

mod common;

use common::*;
use hop_artifact::migration::Backend;
use hop_testdata::sandbox::Sandbox;

on_sqlite_and_postgresql!(
    applies_4_0_1_to_4_1_1,
    a_failing_online_migration_rolls_back,
    a_failing_offline_migration_rolls_back,
    an_rpm_transaction_failure_rolls_back,
    a_service_that_never_becomes_healthy_rolls_back,
);

fn applies_4_0_1_to_4_1_1(backend: Backend) {
    let host = sandbox("apply", backend);
    let run = hop(&host, &["apply", &package("4.0.1", "4.1.1")]);
    run.assert_code(0)
        .assert_stdout("manager 4.0.1 → 4.1.1: upgraded")
        .assert_stdout("downtime: ");

    assert_runs_release(&host, "4.1.1");
    let by_hop = |phase: &str| {
        host.query_i64(&format!(
            "SELECT COUNT(*) FROM hop_schema_history WHERE hop = '4.0.1→4.1.1' AND phase = '{phase}' AND success"
        ))
        .unwrap()
    };
    assert_eq!(
        (by_hop("online"), by_hop("offline"), by_hop("post")),
        (2, 1, 1)
    );
    // Grenade-style: what was there before is still there, migrated.
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM deployments").unwrap(),
        40
    );
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM events").unwrap(), 120);
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM deployments WHERE status = 'active'")
            .unwrap(),
        40
    );
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM events WHERE text LIKE 'event %'")
            .unwrap(),
        120
    );

    let status = hop(&host, &["status"]);
    status
        .assert_code(0)
        .assert_stdout("manager 4.1.1")
        .assert_stdout("unfinished operation: none");
    hop(&host, &["history"])
        .assert_code(0)
        .assert_stdout("upgraded");
    hop(&host, &["db", "status"])
        .assert_code(0)
        .assert_stdout("0 pending");
}

/// Asserts a failed apply rolled the host back to exactly `before`.
fn assert_rolled_back(
    host: &Sandbox,
    run: &Run,
    before: &hop_testdata::sandbox::HostSnapshot,
    step: &str,
) {
    run.assert_code(1)
        .assert_stderr(step)
        .assert_stderr("rolled back");
    assert_eq!(
        &host.snapshot(),
        before,
        "the host is not as it was before the upgrade"
    );
    hop(host, &["status"])
        .assert_code(0)
        .assert_stdout("manager 4.0.1")
        .assert_stdout("unfinished operation: none");
}

fn a_failing_online_migration_rolls_back(backend: Backend) {
    a_failing_migration_rolls_back(
        backend,
        "online",
        "0011_index_deployments_name.sql",
        // Fine on an empty database (hop-build tries it there), refused on
        // this host's rows.
        "INSERT INTO deployments (id, name, created_at) VALUES (1, 'duplicate', '2026-01-01');\n",
    );
}

fn a_failing_offline_migration_rolls_back(backend: Backend) {
    a_failing_migration_rolls_back(
        backend,
        "offline",
        "0012_rename_events_message.sql",
        "ALTER TABLE events RENAME COLUMN message TO text;\nINSERT INTO deployments (id, name, created_at) VALUES (1, 'duplicate', '2026-01-01');\n",
    );
}

/// The package with `file`, a migration of `phase`, rewritten to `sql`
/// (which fails on this host's rows) rolls the host back.
fn a_failing_migration_rolls_back(backend: Backend, phase: &str, file: &str, sql: &str) {
    let host = sandbox(&format!("{phase}-fails"), backend);
    let pkg = variant_with_migration(
        &format!("{phase}-fails-{backend}"),
        file,
        &format!("-- hop: phase={phase}\n{sql}"),
    );
    let before = host.snapshot();
    let run = hop(&host, &["apply", &pkg]);
    assert_rolled_back(
        &host,
        &run,
        &before,
        &format!("\"apply {phase} migrations\" failed"),
    );
    run.assert_stderr(file);
}

fn an_rpm_transaction_failure_rolls_back(backend: Backend) {
    let host = sandbox("rpm-fails", backend);
    // A directory where the host has a config file: a file conflict on
    // disk, which `rpm --test` does not look for.
    let pkg = with_mgmtworker_file(
        &format!("rpm-fails-{backend}"),
        ("/etc/manager/rest.yaml/extra.conf", "x\n", 0o644),
    );
    let before = host.snapshot();
    let run = hop(&host, &["apply", &pkg]);
    assert_rolled_back(&host, &run, &before, "\"install RPMs\" failed");
}

fn a_service_that_never_becomes_healthy_rolls_back(backend: Backend) {
    let host = sandbox("unhealthy", backend);
    let pkg = never_healthy_package(&format!("unhealthy-{backend}"));
    let before = host.snapshot();
    let run = hop(&host, &["apply", &pkg]);
    assert_rolled_back(&host, &run, &before, "\"health gate\" failed");
    run.assert_stderr("rest-service is not healthy");
}

#[test]
fn refuses_a_package_for_another_source_version() {
    let host = sandbox("wrong-from", Backend::Sqlite);
    assert_refused(
        &host,
        &["apply", &package("4.1.1", "4.2.0")],
        &[
            "this host runs 4.0.1; this package upgrades 4.1.1 → 4.2.0: bring the host to 4.1.1 first",
            "`hop-install upgrade --to 4.2.0 PACKAGES…` runs every hop in order",
        ],
    );
}

#[test]
fn refuses_a_package_path_that_is_not_there_and_says_so() {
    let host = sandbox("no-such-package", Backend::Sqlite);
    let missing = host.root.join("tmp/manager-4.0.1-to-4.1.1.hop");
    assert_refused(
        &host,
        &["apply", missing.to_str().unwrap()],
        &[
            "cannot open",
            "No such file",
            "give the path of a .hop package",
        ],
    );
    let run = hop(&host, &["apply", missing.to_str().unwrap()]);
    assert!(!run.stderr.contains("free space"), "{}", run.stderr);
}

#[test]
fn refuses_a_package_for_another_product() {
    let host = sandbox("wrong-product", Backend::Sqlite);
    let pkg = variant(
        "other-product",
        |_| {},
        |m| replace(m, "product: manager", "product: inventory"),
    );
    assert_refused(
        &host,
        &["apply", &pkg],
        &["this package is for inventory, this host runs manager"],
    );
}

#[test]
fn refuses_a_package_signed_by_an_untrusted_key() {
    let host = sandbox("untrusted", Backend::Sqlite);
    let pkg = variant_of(
        "untrusted",
        ("4.0.1", "4.1.1"),
        |_| {},
        |m| m,
        &fixtures().key("intruder"),
    );
    assert_refused(&host, &["apply", &pkg], &["not trusted"]);
}

#[test]
fn refuses_when_the_preflight_fails() {
    let host = sandbox("preflight-fails", Backend::Sqlite);
    let conf = host.root.join("etc/supervisord.conf");
    let stopped = std::process::Command::new("supervisorctl")
        .arg("-c")
        .arg(&conf)
        .args(["stop", "mgmtworker"])
        .output()
        .unwrap();
    assert!(stopped.status.success());
    assert_refused(
        &host,
        &["apply", &package("4.0.1", "4.1.1")],
        &[
            "the preflight failed; nothing was changed",
            "mgmtworker is not running",
        ],
    );
    hop(&host, &["check", &package("4.0.1", "4.1.1")])
        .assert_code(2)
        .assert_stdout("FAILURE");
}

#[test]
fn refuses_an_rpm_file_conflict_found_by_rpm_test() {
    let host = sandbox("file-conflict", Backend::Sqlite);
    let pkg = with_mgmtworker_file(
        "file-conflict",
        (
            "/usr/bin/manager-cli",
            "#!/bin/sh\necho not the cli\n",
            0o755,
        ),
    );
    assert_refused(
        &host,
        &["apply", &pkg],
        &[
            "rpm transaction: rpm -U --test fails",
            "/usr/bin/manager-cli",
        ],
    );
}

#[test]
fn keeps_a_user_edited_config_and_writes_hopnew() {
    let host = sandbox("edited-config", Backend::Sqlite);
    let rest = host.root.join("etc/manager/rest.yaml");
    let edited = format!(
        "{}# tuned by the customer\n",
        std::fs::read_to_string(&rest).unwrap()
    );
    std::fs::write(&rest, &edited).unwrap();
    let run = hop(&host, &["apply", &package("4.0.1", "4.1.1")]);
    run.assert_code(0)
        .assert_stdout("config /etc/manager/rest.yaml: kept local edits — the new version is /etc/manager/rest.yaml.hopnew")
        .assert_stderr("has local edits");
    assert_eq!(std::fs::read_to_string(&rest).unwrap(), edited);
    let new = std::fs::read(host.root.join("etc/manager/rest.yaml.hopnew")).unwrap();
    assert_eq!(
        new,
        std::fs::read(fixtures().release().join("4.1.1/configs/rest.yaml")).unwrap()
    );
    // The unedited one was replaced.
    let worker = std::fs::read(host.root.join("etc/manager/mgmtworker.yaml")).unwrap();
    assert_eq!(
        worker,
        std::fs::read(fixtures().release().join("4.1.1/configs/mgmtworker.yaml")).unwrap()
    );
}

#[test]
fn dry_run_shows_the_plan_and_changes_nothing() {
    let host = sandbox("dry-run", Backend::Sqlite);
    let before = host.snapshot();
    let run = hop(&host, &["apply", &package("4.0.1", "4.1.1"), "--dry-run"]);
    run.assert_code(0)
        .assert_stdout("dry run: nothing was changed")
        .assert_stdout("rest-service-4.0.1-1.noarch → rest-service-4.1.1-1.noarch")
        .assert_stdout("0012_rename_events_message.sql")
        .assert_stdout("/etc/manager/rest.yaml: replace");
    let json = hop(
        &host,
        &["apply", &package("4.0.1", "4.1.1"), "--dry-run", "--json"],
    );
    json.assert_code(0);
    let plan: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let steps = plan["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 12);
    let rpms = steps.iter().find(|s| s["step"] == "install_rpms").unwrap();
    assert!(
        rpms["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "install_rpm"
                && a["installed"] == "rest-service-4.0.1-1.noarch"
                && a["to"] == "rest-service-4.1.1-1.noarch"),
        "{plan:#}"
    );
    assert_eq!(host.snapshot(), before);
    assert!(!host.root.join("var/lib/hop/state.json").exists());
}

#[test]
fn check_prints_the_preflight_table() {
    let host = sandbox("check", Backend::Postgresql);
    let before = host.snapshot();
    let run = hop(&host, &["check", &package("4.0.1", "4.1.1")]);
    run.assert_code(0)
        .assert_stdout("CHECK")
        .assert_stdout("installed version")
        .assert_stdout("rpm -U --test passes");
    assert!(!run.stdout.contains("FAILURE"), "{}", run.stdout);
    let json = hop(&host, &["check", &package("4.1.1", "4.2.0"), "--json"]);
    json.assert_code(2);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["result"], "FAILURE");
    assert!(
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["check"] == "installed version" && c["result"] == "FAILURE")
    );
    assert_eq!(host.snapshot(), before);
}

#[test]
fn the_json_report_has_every_step_and_the_downtime() {
    let host = sandbox("json-report", Backend::Sqlite);
    let run = hop(&host, &["apply", &package("4.0.1", "4.1.1"), "--json"]);
    run.assert_code(0);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["outcome"], "upgraded");
    assert_eq!(v["steps"].as_array().unwrap().len(), 12);
    let downtime = v["downtime_ms"].as_u64().unwrap();
    let total = v["total_ms"].as_u64().unwrap();
    assert!(
        downtime > 0 && downtime < total,
        "downtime {downtime} of {total}"
    );
    assert_eq!(v["migrations"]["online"], 2);
}

/// The 4.0.1 → 4.1.1 package whose mgmtworker RPM also ships `file`
/// (path, content, mode).
fn with_mgmtworker_file(name: &str, (path, content, mode): (&str, &str, u16)) -> String {
    let dir = fixtures().dir().join(format!("scratch/variant-{name}"));
    variant(
        name,
        |d| {
            hop_testdata::product::component_rpm("mgmtworker", "4.1.1")
                .unwrap()
                .file(path, content, mode)
                .build(d)
                .unwrap();
        },
        |m| {
            replace(
                m,
                "release/rpms/mgmtworker-4.1.1-1.noarch.rpm",
                &dir.join("mgmtworker-4.1.1-1.noarch.rpm")
                    .display()
                    .to_string(),
            )
        },
    )
}
