//! Failures, interrupts and concurrency: an injected failure at every step
//! before commit rolls back to an unchanged 4.0.1 host with exit 1; after
//! commit hop only goes forward (exit 3, `resume` finishes; a cleanup
//! failure is a warning); Ctrl-C (even twice) rolls back before commit and
//! keeps every write made after it; a second operation is refused while
//! one runs or is unfinished.

mod common;

use common::*;
use hop_artifact::migration::Backend;
use hop_testdata::sandbox::Sandbox;

const STEPS: [&str; 12] = HOST_STEPS;

/// The matrix's steps are hop's steps, in order: a renamed or added step
/// fails here instead of silently going untested.
#[test]
fn the_matrix_covers_every_step_hop_has() {
    use hop_installer::fault::{At, Point};
    let hops: Vec<String> = Point::all()
        .into_iter()
        .filter(|p| matches!(p, Point::Step(_, At::Begin)))
        .map(|p| p.name().trim_end_matches(".begin").to_owned())
        .collect();
    assert_eq!(hops, STEPS);
}

fn fails_at(fault: &str, backend: Backend) {
    let host = sandbox(&format!("fail-{}", fault.replace(['@', '.'], "-")), backend);
    let initial = host.snapshot();
    let run = apply_with_fault(&host, fault);
    run.assert_stderr("injected failure");
    let outcome = if fault.contains("@post_migrations.") {
        // Committed: forward only. The post migrations wait for `resume`.
        run.assert_code(3)
            .assert_stderr("is committed")
            .assert_stderr("hop-install resume");
        hop(&host, &["status"])
            .assert_code(3)
            .assert_stdout("UNFINISHED")
            .assert_stdout("resume finishes it to 4.1.1: it is committed");
        let resumed = hop(&host, &["resume"]);
        resumed.assert_code(0);
        assert_eq!(assert_consistent(&host, &initial), "4.1.1");
        "exit 3, resume → 4.1.1"
    } else if fault.contains("@cleanup.") {
        run.assert_code(0)
            .assert_stderr("the upgrade itself is complete");
        assert_eq!(assert_consistent(&host, &initial), "4.1.1");
        "exit 0 (warning), 4.1.1"
    } else {
        run.assert_code(1).assert_stderr("the host was rolled back");
        assert_eq!(assert_consistent(&host, &initial), "4.0.1");
        "exit 1, 4.0.1"
    };
    record("failure", &format!("{backend:<10} {fault:<32} → {outcome}"));
}

macro_rules! failure_matrix {
    ($($name:ident = $index:expr),* $(,)?) => {$(
        mod $name {
            use super::*;
            #[test] fn begin_sqlite() { fails_at(&format!("fail@{}.begin", STEPS[$index]), Backend::Sqlite) }
            #[test] fn begin_postgresql() { fails_at(&format!("fail@{}.begin", STEPS[$index]), Backend::Postgresql) }
        }
    )*};
}

failure_matrix!(
    stage = 0,
    backup = 1,
    online_migrations = 2,
    stop_services = 3,
    install_rpms = 4,
    deploy_configs = 5,
    offline_migrations = 6,
    start_services = 7,
    health_gate = 8,
    commit = 9,
    post_migrations = 10,
    cleanup = 11,
);

/// Failures in the middle of a step, after part of it took effect: rolled
/// back before commit, finished forward after.
#[test]
fn failures_midway_through_steps_roll_back_before_commit_only() {
    for step in [
        "stage",
        "backup",
        "stop_services",
        "install_rpms",
        "deploy_configs",
        "offline_migrations",
        "start_services",
        "commit",
        "post_migrations",
    ] {
        fails_at(&format!("fail@{step}.mid"), Backend::Sqlite);
    }
}

#[test]
fn ctrl_c_during_apply_stops_at_a_safe_point_and_rolls_back() {
    let host = sandbox("sigint", Backend::Sqlite);
    let initial = host.snapshot();
    let child = interrupted_in_install_rpms(&host, "");
    let run = finish(child);
    run.assert_code(1)
        .assert_stderr("interrupted; stopping at the next safe point")
        .assert_stderr("interrupted by the operator before \"deploy configs\"");
    assert_eq!(assert_consistent(&host, &initial), "4.0.1");
}

#[test]
fn a_second_ctrl_c_during_the_rollback_does_not_leave_a_half_state() {
    let host = sandbox("sigint-twice", Backend::Postgresql);
    let initial = host.snapshot();
    let child = interrupted_in_install_rpms(&host, ",pause@rollback.stopped");
    wait_for_journal(&host, "\"phase\": \"rolling_back\"");
    interrupt(&child);
    let run = finish(child);
    run.assert_code(1).assert_stderr("still finishing safely");
    assert_eq!(assert_consistent(&host, &initial), "4.0.1");
}

#[test]
fn a_second_apply_while_one_runs_is_refused_and_changes_nothing() {
    let host = sandbox("concurrent", Backend::Sqlite);
    let first = spawn_apply(&host, "pause@backup.begin");
    wait_for_step(&host, "backup");
    assert_refused(
        &host,
        &["apply", &package("4.0.1", "4.1.1")],
        &["another operation is running on this host"],
    );
    finish(first).assert_code(0);
    assert_eq!(host.service_versions()[0].1.as_deref(), Some("4.1.1"));
}

#[test]
fn apply_and_check_refuse_while_an_operation_is_unfinished() {
    let host = killed_host("unfinished", Backend::Sqlite, "deploy_configs.mid");
    let status = hop(&host, &["status"]);
    status
        .assert_code(3)
        .assert_stdout("UNFINISHED: manager 4.0.1 → 4.1.1")
        .assert_stdout("next: hop-install resume");
    let before = host.snapshot();
    hop(&host, &["apply", &package("4.0.1", "4.1.1")])
        .assert_code(2)
        .assert_stderr("did not finish; run `hop-install resume` or `hop-install rollback` first");
    let check = hop(&host, &["check", &package("4.0.1", "4.1.1")]);
    check.assert_code(2);
    let failures: Vec<&str> = check
        .stdout
        .lines()
        .filter(|l| l.contains("FAILURE"))
        .collect();
    assert_eq!(failures.len(), 1, "{}", check.stdout);
    assert!(
        failures[0].starts_with("unfinished operation"),
        "{}",
        check.stdout
    );
    assert_eq!(host.snapshot(), before);
    hop(&host, &["resume"]).assert_code(1);
    hop(&host, &["resume"])
        .assert_code(0)
        .assert_stdout("nothing to resume");
}

/// An `apply` paused as it starts installing RPMs (and at `more` pauses),
/// then sent Ctrl-C.
fn interrupted_in_install_rpms(host: &Sandbox, more: &str) -> std::process::Child {
    let child = spawn_apply(host, &format!("pause@install_rpms.begin{more}"));
    wait_for_step(host, "install_rpms");
    interrupt(&child);
    child
}
