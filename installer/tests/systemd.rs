//! A manager host booted with a real systemd (a container, see
//! `hop_testdata::container`), the product installed with its own `rpm`,
//! its units enabled and running, and `hop-install` run inside at root `/`
//! as a customer runs it: one hop (a changed unit file takes effect, which
//! proves the daemon-reload), a chain, status and history; a service that
//! never gets healthy and a unit that fails to start roll back, the
//! latter with its journal in the error; and SIGKILL at five points
//! leaves a host `resume` brings to `from` or `to`, units active.

mod common;

use std::path::Path;

use common::*;
use hop_artifact::migration::Backend;
use hop_testdata::container::Container;

/// A systemd host at 4.0.1 on `backend`.
fn systemd_host(name: &str, backend: Backend) -> Container {
    let f = fixtures();
    // Built before the boot, so the container sees them at /fixtures.
    for (from, to) in [("4.0.1", "4.1.1"), ("4.1.1", "4.2.0"), ("4.2.0", "4.3.0")] {
        f.package(from, to);
    }
    let mut host = Container::boot(name, Path::new(HOP_INSTALL), f.dir())
        .unwrap_or_else(|e| panic!("cannot boot the systemd host {name}: {e:#}"));
    host.install_product("4.0.1", backend, &f.vendor_key().public)
        .unwrap_or_else(|e| panic!("cannot install the product on {name}: {e:#}"));
    host
}

/// The path of a fixture file as the container sees it.
fn inside(path: &Path) -> String {
    let rel = path.strip_prefix(fixtures().dir()).expect("a fixture path");
    format!("/fixtures/{}", rel.display())
}

fn pkg(from: &str, to: &str) -> String {
    inside(&fixtures().package(from, to))
}

/// `hop-install ARGS` inside the container, at root `/`.
fn hop_in(host: &Container, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut all = vec!["/usr/local/bin/hop-install"];
    all.extend_from_slice(args);
    let mut cmd = host.command(&all);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::from(cmd.output().expect("running hop-install in the container"))
}

/// Every service reports `version` — from its program and from the unit
/// file that started it — and both units are active.
fn assert_runs(host: &Container, version: &str) {
    for (name, program, unit) in host.service_reports() {
        assert_eq!(program.as_deref(), Some(version), "{name}'s /version");
        assert_eq!(
            unit.as_deref(),
            Some(version),
            "{name} was started by another unit file"
        );
    }
    assert_eq!(host.unit_states(), ["active", "active"]);
    let expected: Vec<String> = ["cli", "manager-common", "mgmtworker", "rest-service"]
        .iter()
        .map(|c| format!("{c}-{version}-1"))
        .collect();
    assert_eq!(host.rpms(), expected);
}

#[test]
fn one_hop_and_a_chain_on_a_systemd_host_at_root() {
    let host = systemd_host("chain", Backend::Postgresql);
    assert_runs(&host, "4.0.1");
    hop_in(&host, &["check", &pkg("4.0.1", "4.1.1")], &[])
        .assert_code(0)
        .assert_stdout("rest-service, mgmtworker running and healthy");
    let run = hop_in(&host, &["apply", &pkg("4.0.1", "4.1.1")], &[]);
    run.assert_code(0)
        .assert_stdout("manager 4.0.1 → 4.1.1: upgraded");
    assert_runs(&host, "4.1.1");
    // hop's state is where a customer's is.
    assert!(host.path("/var/lib/hop/state.json").is_file());
    let dir = inside(&fixtures().dir().join("packages"));
    hop_in(&host, &["upgrade", "--to", "4.3.0", &dir], &[]).assert_code(0);
    assert_runs(&host, "4.3.0");
    hop_in(&host, &["status"], &[])
        .assert_code(0)
        .assert_stdout("manager 4.3.0 on / (from hop's record)")
        .assert_stdout("service rest-service: RUNNING");
    let history = hop_in(&host, &["history"], &[]);
    history.assert_code(0);
    assert_eq!(
        history.stdout.matches("upgraded").count(),
        3,
        "{}",
        history.stdout
    );
}

#[test]
fn a_sqlite_host_upgrades_with_systemd() {
    let host = systemd_host("sqlite", Backend::Sqlite);
    hop_in(&host, &["apply", &pkg("4.0.1", "4.1.1")], &[]).assert_code(0);
    assert_runs(&host, "4.1.1");
}

#[test]
fn a_service_that_never_gets_healthy_rolls_back_to_the_old_units() {
    let host = systemd_host("unhealthy", Backend::Postgresql);
    let variant = never_healthy_package("systemd-unhealthy");
    hop_in(&host, &["apply", &inside(Path::new(&variant))], &[])
        .assert_code(1)
        .assert_stderr("rest-service is not healthy")
        .assert_stderr("last lines of `journalctl -u rest-service.service`")
        .assert_stderr("the host was rolled back");
    assert_runs(&host, "4.0.1");
}

#[test]
fn a_unit_that_fails_to_start_shows_its_journal_and_rolls_back() {
    let host = systemd_host("start-fails", Backend::Sqlite);
    // mgmtworker is Type=notify: a bad port makes it exit before READY=1,
    // so `systemctl start` itself fails.
    let variant = variant_with_config(
        "systemd-start-fails",
        "mgmtworker.yaml",
        "port: not-a-port\n",
        (
            "health: {tcp: \"127.0.0.1:8102\", timeout: 60s, settle: 2s}",
            "health: {notify: true, timeout: 20s, settle: 2s}",
        ),
    );
    hop_in(&host, &["apply", &inside(Path::new(&variant))], &[])
        .assert_code(1)
        .assert_stderr("systemctl start mgmtworker.service")
        .assert_stderr("last lines of `journalctl -u mgmtworker.service`")
        .assert_stderr("invalid literal for int()")
        .assert_stderr("the host was rolled back");
    assert_runs(&host, "4.0.1");
}

/// SIGKILL of hop-install at a point, then `resume`.
fn killed_then_resumed(name: &str, fault: &str, ends_at: &str) {
    let host = systemd_host(name, Backend::Postgresql);
    let killed = hop_in(
        &host,
        &["apply", &pkg("4.0.1", "4.1.1")],
        &[("HOP_FAULT", fault)],
    );
    assert_eq!(killed.code, -1, "{fault}: not killed\n{}", killed.stderr);
    hop_in(&host, &["status"], &[])
        .assert_code(3)
        .assert_stdout("UNFINISHED");
    let resumed = hop_in(&host, &["resume"], &[]);
    resumed.assert_code(if ends_at == "4.0.1" { 1 } else { 0 });
    assert_runs(&host, ends_at);
    hop_in(&host, &["status"], &[])
        .assert_code(0)
        .assert_stdout("unfinished operation: none");
    record(
        "crash",
        &format!(
            "systemd    {fault:<45} resume   → {ends_at} (exit {})",
            resumed.code
        ),
    );
}

/// Each named test kills `apply` at a point, resumes, and checks the
/// version the host ends at.
macro_rules! killed_then_resumed {
    ($($name:ident ($host:literal): $point:literal => $ends_at:literal),* $(,)?) => {$(
        #[test]
        fn $name() {
            killed_then_resumed($host, $point, $ends_at);
        }
    )*};
}

killed_then_resumed!(
    killed_during_stop_then_resumed("kill-stop"): "kill@stop_services.mid" => "4.0.1",
    killed_inside_the_rpm_transaction_then_resumed("kill-rpm"): "kill@install_rpms.mid" => "4.0.1",
    killed_after_configs_then_resumed("kill-configs"): "kill@deploy_configs.end" => "4.0.1",
    killed_during_offline_migrations_then_resumed("kill-offline"): "kill@offline_migrations.mid" => "4.0.1",
    killed_during_start_then_resumed("kill-start"): "kill@start_services.mid" => "4.1.1",
);
