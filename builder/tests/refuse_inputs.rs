//! `hop-build build` refuses bad inputs before writing anything: exit 2,
//! every problem named with the manifest and field, and no output file.

mod common;

use std::path::Path;

use common::Case;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn the_unmodified_manifest_builds() {
    let (code, stderr, written) = Case::new("baseline").build();
    assert_eq!(code, 0, "{stderr}");
    assert!(written);
}

#[test]
fn refuses_an_rpm_whose_header_names_another_package() {
    Case::new("rpm-name")
        .replace(
            "rest-service-4.1.1-1.noarch.rpm",
            "mgmtworker-4.1.1-1.noarch.rpm",
        )
        .refused_with(&[
            "components[1].name",
            "is the RPM of \"mgmtworker\", not \"rest-service\"",
        ]);
}

#[test]
fn refuses_an_rpm_of_another_version() {
    Case::new("rpm-version")
        .replace(
            "rest-service-4.1.1-1.noarch.rpm",
            "rest-service-4.0.1-1.noarch.rpm",
        )
        .refused_with(&[
            "components[1].version",
            "carries version \"4.0.1\", not \"4.1.1\"",
        ]);
}

#[test]
fn refuses_duplicate_components_and_missing_or_bogus_rpms() {
    Case::new("rpm-duplicate")
        .replace("name: mgmtworker\n", "name: rest-service\n")
        .refused_with(&[
            "components[2].name",
            "component rest-service is listed twice",
        ]);
    Case::new("rpm-missing")
        .replace(
            "release/rpms/cli-4.1.1-1.noarch.rpm",
            "release/rpms/cli-9.9.9-1.noarch.rpm",
        )
        .refused_with(&[
            "components[3].rpm",
            "cli-9.9.9-1.noarch.rpm",
            "No such file",
        ]);
    Case::new("rpm-bogus")
        .replace(
            "release/rpms/cli-4.1.1-1.noarch.rpm",
            "release/4.1.1/configs/rest.yaml",
        )
        .refused_with(&["components[3].rpm", "is not a readable RPM"]);
}

#[test]
fn refuses_bad_configs() {
    Case::new("config-source")
        .replace(
            "source: release/4.1.1/configs/rest.yaml",
            "source: release/4.1.1/configs/nope.yaml",
        )
        .refused_with(&["configs[0].source", "nope.yaml"]);
    Case::new("config-relative-dest")
        .replace(
            "dest: /etc/manager/rest.yaml",
            "dest: etc/manager/rest.yaml",
        )
        .refused_with(&["configs[0].dest", "must be an absolute path"]);
    Case::new("config-climbing-dest")
        .replace(
            "dest: /etc/manager/rest.yaml",
            "dest: /etc/../../root/.ssh/authorized_keys",
        )
        .refused_with(&["configs[0].dest", "plain path"]);
    Case::new("config-duplicate-dest")
        .replace(
            "dest: /etc/manager/mgmtworker.yaml",
            "dest: /etc/manager/rest.yaml",
        )
        .refused_with(&["configs[1].dest", "is the destination of another config"]);
    Case::new("config-numeric-mode")
        .replace("mode: \"0640\"", "mode: 0640")
        .refused_with(&["configs[0].mode", "quoted octal string"]);
    Case::new("config-bad-mode")
        .replace("mode: \"0640\"", "mode: \"0980\"")
        .refused_with(&["configs[0].mode", "octal digits"]);
}

#[test]
fn refuses_from_not_older_than_to() {
    Case::new("versions")
        .replace("to: 4.1.1", "to: 4.0.1")
        .refused_with(&["to: 4.0.1 is not newer than from (4.0.1)"]);
    Case::new("versions-rpm-order")
        .replace("from: 4.0.1", "from: 4.10.0")
        .refused_with(&["4.1.1 is not newer than from (4.10.0)"]);
}

#[test]
fn refuses_badly_named_or_numbered_migrations() {
    Case::new("mig-name")
        .with_migrations(|d| write(d, "8_late.sql", "-- hop: phase=offline\nSELECT 1;\n"))
        .refused_with(&["migrations:", "8_late.sql", "at least four digits"]);
    Case::new("mig-description")
        .with_migrations(|d| write(d, "0040_a b.sql", "-- hop: phase=offline\nSELECT 1;\n"))
        .refused_with(&["0040_a b.sql", "letters, digits, _, . and -"]);
    Case::new("mig-duplicate")
        .with_migrations(|d| write(d, "0012_another.sql", "-- hop: phase=offline\nSELECT 1;\n"))
        .refused_with(&["share the number 0012"]);
}

#[test]
fn refuses_migrations_without_a_valid_phase_line() {
    Case::new("mig-no-phase")
        .with_migrations(|d| write(d, "0008_x.sql", "CREATE TABLE x (a int);\n"))
        .refused_with(&["0008_x.sql:1", "missing phase line"]);
    Case::new("mig-bad-phase")
        .with_migrations(|d| {
            write(
                d,
                "0008_x.sql",
                "-- hop: phase=sometime\nCREATE TABLE x (a int);\n",
            )
        })
        .refused_with(&["0008_x.sql:1", "unknown phase \"sometime\""]);
}

#[test]
fn refuses_mismatched_variants_and_bad_batches() {
    Case::new("variant-orphan")
        .with_migrations(|d| {
            write(
                &d.join("postgresql"),
                "0012_orphan.sql",
                "-- hop: phase=offline\nSELECT 1;\n",
            )
        })
        .refused_with(&["0012_orphan.sql", "needs a portable file of the same name"]);
    Case::new("variant-batch")
        .with_migrations(|d| {
            write(
                &d.join("mariadb"),
                "0015_backfill_deployments_status.sql",
                "-- hop: phase=post\nUPDATE deployments SET status = 'done' WHERE status IS NULL;\n",
            )
        })
        .refused_with(&[
            "mariadb/0015_backfill_deployments_status.sql:1",
            "says `batch`",
        ]);
    Case::new("batch-two")
        .with_migrations(|d| write(d, "0008_b.sql", "-- hop: phase=post batch\nUPDATE events SET id = id;\nUPDATE events SET id = id;\n"))
        .refused_with(&["0008_b.sql", "a batch migration is one UPDATE, DELETE or INSERT"]);
    Case::new("tx-control")
        .with_migrations(|d| {
            write(
                d,
                "0008_t.sql",
                "-- hop: phase=offline\nBEGIN;\nCREATE TABLE t (a int);\nCOMMIT;\n",
            )
        })
        .refused_with(&["0008_t.sql:2", "transaction control (BEGIN)"]);
}

#[test]
fn refuses_bad_services() {
    Case::new("svc-duplicate")
        .replace("- name: mgmtworker", "- name: rest-service")
        .refused_with(&["services[1].name", "listed twice"]);
    Case::new("svc-two-probes")
        .replace(
            "health: {tcp: \"127.0.0.1:8102\",",
            "health: {tcp: \"127.0.0.1:8102\", http: \"http://127.0.0.1:8102/\",",
        )
        .refused_with(&[
            "services[1].health",
            "exactly one of http, tcp, command or notify: true (found http and tcp)",
        ]);
    Case::new("svc-duration")
        .replace("stop_timeout: 30s", "stop_timeout: thirty")
        .refused_with(&["services[0].stop_timeout", "not a duration"]);
    Case::new("svc-url")
        .replace("http://127.0.0.1:8101/readyz", "127.0.0.1:8101/readyz")
        .refused_with(&["services[0].health.http", "not an http:// URL"]);
    Case::new("svc-drain")
        .replace("signal: SIGUSR2", "signal: SIGKILL")
        .refused_with(&["services[1].drain.signal", "SIGKILL"]);
    // `after` names services listed before: a later one (or a cycle)
    // could never start.
    Case::new("svc-after-later")
        .replace(
            "- name: rest-service\n",
            "- name: rest-service\n    after: [mgmtworker]\n",
        )
        .refused_with(&[
            "services[0].after[0]",
            "mgmtworker is not a service listed before rest-service",
        ]);
}

#[test]
fn reports_every_problem_at_once() {
    let (code, stderr, written) = Case::new("many")
        .replace(
            "rest-service-4.1.1-1.noarch.rpm",
            "rest-service-4.0.1-1.noarch.rpm",
        )
        .replace(
            "dest: /etc/manager/rest.yaml",
            "dest: etc/manager/rest.yaml",
        )
        .replace("stop_timeout: 30s", "stop_timeout: soon")
        .build();
    assert_eq!(code, 2);
    assert!(!written);
    assert!(stderr.contains("3 problem(s)"), "{stderr}");
    for field in [
        "components[1].version",
        "configs[0].dest",
        "services[0].stop_timeout",
    ] {
        assert!(stderr.contains(field), "{field} missing from:\n{stderr}");
    }
}

#[test]
fn refuses_unknown_fields_with_their_location() {
    Case::new("typo")
        .replace("preserve_local_edits: true", "preserve_local_edit: true")
        .refused_with(&["preserve_local_edit"]);
}
