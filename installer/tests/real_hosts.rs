//! Hosts hop did not install, as customers have them: the product's RPMs
//! (with scriptlets, a `%config(noreplace)` file, systemd units, files
//! owned by the service user, a dependency on manager-common) installed by
//! the system `rpm` from files that are not on the host, and no rpm_cache.
//! hop upgrades them and, when something fails after the RPMs changed,
//! puts back exactly what was there: `rpm -qa`, `rpm -V`, and the content,
//! mode and owner of every file the components own.

mod common;

use common::*;
use hop_artifact::migration::Backend;
use hop_testdata::fixtures::run_ok;
use hop_testdata::rpms::RpmSpec;
use hop_testdata::sandbox::{Sandbox, SandboxOptions};

/// Edits the `%config(noreplace)` file as an admin would.
fn edit_common_yaml(host: &Sandbox) {
    let path = host.root.join("etc/manager/common.yaml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("log_level: debug   # the admin's edit\n");
    std::fs::write(&path, text).unwrap();
}

/// The package with a post_install hook that fails.
fn failing_hook_package() -> String {
    let dir = fixtures().dir().join("scratch/variant-failing-hook");
    variant(
        "failing-hook",
        |d| std::fs::write(d.join("post.sh"), "#!/bin/sh\necho no >&2\nexit 3\n").unwrap(),
        |m| {
            format!(
                "{m}scripts:\n  post_install: {}\n",
                dir.join("post.sh").display()
            )
        },
    )
}

#[test]
fn a_host_without_rpm_files_passes_check_and_upgrades() {
    let host = sandbox("no-rpm-files", Backend::Sqlite);
    assert!(!host.root.join("var/cache/manager/rpms").exists());
    let check = hop(&host, &["check", &package("4.0.1", "4.1.1")]);
    check
        .assert_code(0)
        .assert_stdout("a rollback puts back what hop captures from the host");
    hop(&host, &["apply", &package("4.0.1", "4.1.1")])
        .assert_code(0)
        .assert_stderr("capturing 4 installed RPM(s) from the host");
    assert_runs_release(&host, "4.1.1");
    host.rpm_verify().unwrap();
}

/// A failure after the RPMs changed puts back exactly what was there.
fn rolls_back_exactly(name: &str, pkg: &str, fault: &str, expect: &str) {
    let host = sandbox(name, Backend::Sqlite);
    edit_common_yaml(&host);
    let before = host.snapshot();
    let verified_before = host.rpm_verify();
    assert!(
        verified_before
            .as_ref()
            .is_err_and(|t| t.contains("/etc/manager/common.yaml")),
        "the edit should show in rpm -V: {verified_before:?}"
    );
    let run = hop_env(&host, &["apply", pkg], &[("HOP_FAULT", fault)]);
    run.assert_code(1)
        .assert_stderr(expect)
        .assert_stderr("has local edits: rpm kept it")
        .assert_stderr("the host was rolled back");
    let after = host.snapshot();
    assert_eq!(after.rpms, before.rpms, "rpm -qa differs");
    assert_eq!(after.owned, before.owned, "the components' files differ");
    assert_eq!(after, before);
    assert_eq!(host.rpm_verify(), verified_before, "rpm -V differs");
    assert!(
        !host.root.join("etc/manager/common.yaml.rpmnew").exists(),
        "the upgrade's .rpmnew was left behind"
    );
    record(
        "failure",
        &format!("sqlite     no RPM files: {name:<24} → exit 1, 4.0.1 exactly"),
    );
}

#[test]
fn without_rpm_files_a_failing_offline_migration_rolls_back_exactly() {
    let pkg = variant_with_migration(
        "capture-offline",
        "0012_rename_events_message.sql",
        "-- hop: phase=offline\nALTER TABLE events RENAME COLUMN message TO text;\nINSERT INTO deployments (id, name, created_at) VALUES (1, 'duplicate', '2026-01-01');\n",
    );
    rolls_back_exactly(
        "capture-offline",
        &pkg,
        "",
        "\"apply offline migrations\" failed",
    );
}

#[test]
fn without_rpm_files_a_service_that_never_gets_healthy_rolls_back_exactly() {
    rolls_back_exactly(
        "capture-unhealthy",
        &never_healthy_package("never-healthy"),
        "",
        "rest-service is not healthy",
    );
}

#[test]
fn without_rpm_files_a_failing_post_install_hook_rolls_back_exactly() {
    rolls_back_exactly(
        "capture-hook",
        &failing_hook_package(),
        "",
        "the post_install hook failed",
    );
}

#[test]
fn files_changed_on_the_host_are_named_by_the_preflight() {
    let host = sandbox("changed-files", Backend::Sqlite);
    edit_common_yaml(&host);
    let check = hop(&host, &["check", &package("4.0.1", "4.1.1")]);
    check.assert_code(1);
    assert!(
        check
            .stdout
            .lines()
            .any(|l| l.starts_with("installed files")
                && l.contains("WARNING")
                && l.contains("/etc/manager/common.yaml edited here: kept")),
        "{}",
        check.stdout
    );
    let program = host.root.join("usr/lib/manager/rest-service/server.py");
    let mut text = std::fs::read_to_string(&program).unwrap();
    text.push_str("# a hot fix\n");
    std::fs::write(&program, text).unwrap();
    std::fs::remove_file(host.root.join("usr/share/doc/manager/cli/VERSION")).unwrap();
    let tree = host.tree_digest();
    let check = hop(&host, &["check", &package("4.0.1", "4.1.1")]);
    check.assert_code(2);
    let line = check
        .stdout
        .lines()
        .find(|l| l.starts_with("installed files"))
        .unwrap_or_default();
    for expected in [
        "FAILURE",
        "/usr/lib/manager/rest-service/server.py",
        "/usr/share/doc/manager/cli/VERSION",
        "missing",
        "rpm -V",
    ] {
        assert!(line.contains(expected), "{expected:?} not in {line}");
    }
    hop(&host, &["apply", &package("4.0.1", "4.1.1")]).assert_code(2);
    assert_same_tree(&tree, &host.tree_digest());
}

#[test]
fn a_cached_rpm_of_another_build_is_refused_and_named() {
    let host = sandbox_with(
        "cache-impostor",
        &SandboxOptions {
            rpm_cache: true,
            ..SandboxOptions::sqlite()
        },
    );
    let cache = host.root.join("var/cache/manager/rpms");
    // Same NEVRA, other content.
    let impostor = RpmSpec::new("rest-service", "4.0.1")
        .file(
            "/usr/lib/manager/rest-service/server.py",
            "print('other')\n",
            0o755,
        )
        .build(&fixtures().scratch("impostor").unwrap())
        .unwrap();
    let name = "rest-service-4.0.1-1.noarch.rpm";
    std::fs::copy(&impostor, cache.join(name)).unwrap();
    let tree = host.tree_digest();
    let check = hop(&host, &["check", &package("4.0.1", "4.1.1")]);
    check.assert_code(2);
    let line = check.line("components");
    assert!(
        line.contains(&format!("/var/cache/manager/rpms/{name}"))
            && line.contains("its header is not the installed package's"),
        "{line}"
    );
    hop(&host, &["apply", &package("4.0.1", "4.1.1")])
        .assert_code(2)
        .assert_stderr(name);
    assert_same_tree(&tree, &host.tree_digest());

    // A cache others may write is not trusted at all.
    std::fs::remove_file(cache.join(name)).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    hop(&host, &["check", &package("4.0.1", "4.1.1")])
        .assert_code(2)
        .assert_stdout("is writable by others (mode 777)");
}

#[test]
fn a_verified_rpm_cache_is_used_for_the_rollback() {
    let host = sandbox_with(
        "cache-used",
        &SandboxOptions {
            rpm_cache: true,
            ..SandboxOptions::sqlite()
        },
    );
    let before = host.snapshot();
    hop(&host, &["check", &package("4.0.1", "4.1.1")])
        .assert_code(0)
        .assert_stdout("a rollback reinstalls their original RPM files");
    let run = hop(&host, &["apply", &never_healthy_package("never-healthy")]);
    run.assert_code(1);
    assert!(!run.stderr.contains("capturing"), "{}", run.stderr);
    assert_eq!(host.snapshot().owned, before.owned);
    assert_eq!(host.snapshot(), before);
}

#[test]
fn a_package_from_outside_that_needs_the_old_version_is_named() {
    let host = sandbox("outside-requirer", Backend::Sqlite);
    let plugin = RpmSpec::new("acme-manager-plugin", "2.3")
        .file("/usr/lib/acme/plugin.py", "# acme\n", 0o644)
        .requires("rest-service", "4.0.1-1")
        .build(&fixtures().scratch("acme").unwrap())
        .unwrap();
    run_ok(
        std::process::Command::new("rpm")
            .arg("--root")
            .arg(&host.root)
            .arg("-i")
            .arg(&plugin),
    );
    let check = hop(&host, &["check", &package("4.0.1", "4.1.1")]);
    check.assert_code(2);
    let line = check.line("rpm transaction");
    assert!(
        line.contains("acme-manager-plugin-2.3-1.noarch, installed from outside the product, requires rest-service = 4.0.1-1"),
        "{line}"
    );
}
