//! The crash matrix: at every step boundary of `apply` (and inside the rpm
//! transaction, inside migrations, inside a rollback) the installer is
//! SIGKILLed, as by a power cut; then `resume` — or `rollback` — must leave
//! the host wholly at 4.1.1 or exactly at 4.0.1, services healthy. Once the
//! hop has committed, `rollback` refuses without `--yes` (saying what would
//! be lost) and changes nothing. The outcomes are written to
//! target/tmp/matrices/crash.txt, which `make test` prints.

mod common;

use common::*;
use hop_artifact::migration::Backend;

/// Every point this matrix strikes is one hop has: a renamed step fails
/// here instead of silently disarming its crash.
#[test]
fn every_point_of_the_matrix_is_one_hop_has() {
    for (spec, _) in POINTS {
        for item in spec.split(',') {
            let (_, point) = item.split_once('@').unwrap();
            assert!(
                hop_installer::fault::Point::named(point).is_some(),
                "{point} is no fault point of hop's"
            );
        }
    }
}

/// Where to crash, and where `resume` must then end.
const POINTS: [(&str, &str); 18] = [
    ("kill@stage.mid", "4.0.1"),
    ("kill@backup.mid", "4.0.1"),
    ("kill@backup.end", "4.0.1"),
    ("kill@online_migrations.mid", "4.0.1"),
    ("kill@online_migrations.end", "4.0.1"),
    ("kill@stop_services.mid", "4.0.1"),
    ("kill@install_rpms.mid", "4.0.1"),
    ("kill@install_rpms.end", "4.0.1"),
    ("kill@deploy_configs.mid", "4.0.1"),
    ("kill@offline_migrations.mid", "4.0.1"),
    ("kill@offline_migrations.end", "4.0.1"),
    ("kill@start_services.mid", "4.1.1"),
    ("kill@health_gate.begin", "4.1.1"),
    ("kill@commit.mid", "4.1.1"),
    ("kill@commit.end", "4.1.1"),
    ("kill@post_migrations.mid", "4.1.1"),
    ("kill@cleanup.begin", "4.1.1"),
    // A crash in the middle of a rollback (after a failed health gate).
    ("fail@health_gate.begin,kill@rollback.mid", "4.0.1"),
];

fn crash_then(index: usize, recover: &str, backend: Backend) {
    let (fault, resume_ends_at) = POINTS[index];
    let host = sandbox(&format!("crash{index}-{recover}"), backend);
    let initial = host.snapshot();

    let killed = apply_with_fault(&host, fault);
    assert_eq!(
        killed.code, -1,
        "{fault}: hop-install was not killed\n{}",
        killed.stderr
    );
    hop(&host, &["status"])
        .assert_code(3)
        .assert_stdout("UNFINISHED");

    let committed = fault.contains("@post_migrations.") || fault.contains("@cleanup.");
    let run = if recover == "rollback" && committed {
        let before = host.snapshot();
        hop(&host, &["rollback"])
            .assert_code(2)
            .assert_stderr("every change made to the database since then is lost")
            .assert_stderr("rollback --root");
        assert_eq!(
            host.snapshot(),
            before,
            "a refused rollback changed the host"
        );
        hop(&host, &["rollback", "--yes"])
    } else {
        hop(&host, &[recover])
    };
    let ended_at = assert_consistent(&host, &initial);
    let expected = if recover == "rollback" {
        "4.0.1"
    } else {
        resume_ends_at
    };
    assert_eq!(
        ended_at, expected,
        "{fault} then {recover}\n{}\n{}",
        run.stdout, run.stderr
    );
    let expected_code = if recover == "resume" && expected == "4.0.1" {
        1
    } else {
        0
    };
    run.assert_code(expected_code);
    record(
        "crash",
        &format!(
            "{backend:<10} {fault:<45} {recover:<8} → {ended_at} (exit {})",
            run.code
        ),
    );
}

macro_rules! crash_matrix {
    ($($name:ident = $index:expr),* $(,)?) => {$(
        mod $name {
            use super::*;
            #[test] fn resume_sqlite() { crash_then($index, "resume", Backend::Sqlite) }
            #[test] fn rollback_sqlite() { crash_then($index, "rollback", Backend::Sqlite) }
            #[test] fn resume_postgresql() { crash_then($index, "resume", Backend::Postgresql) }
            #[test] fn rollback_postgresql() { crash_then($index, "rollback", Backend::Postgresql) }
        }
    )*};
}

crash_matrix!(
    stage_mid = 0,
    backup_mid = 1,
    backup_end = 2,
    online_migrations_mid = 3,
    online_migrations_end = 4,
    stop_services_mid = 5,
    install_rpms_mid = 6,
    install_rpms_end = 7,
    deploy_configs_mid = 8,
    offline_migrations_mid = 9,
    offline_migrations_end = 10,
    start_services_mid = 11,
    health_gate_begin = 12,
    commit_mid = 13,
    commit_end = 14,
    post_migrations_mid = 15,
    cleanup_begin = 16,
    rollback_mid = 17,
);

/// The rpm transaction killed at ten different moments, each rolled back.
#[test]
fn kills_anywhere_inside_the_rpm_transaction_roll_back_cleanly() {
    for delay in [5, 15, 25, 35, 50, 65, 80, 100, 130, 170] {
        let host = sandbox(&format!("rpm-kill-{delay}"), Backend::Sqlite);
        let initial = host.snapshot();
        let delay_ms = delay.to_string();
        let killed = hop_env(
            &host,
            &["apply", &package("4.0.1", "4.1.1")],
            &[
                ("HOP_FAULT", "kill@install_rpms.mid"),
                ("HOP_FAULT_DELAY_MS", delay_ms.as_str()),
            ],
        );
        assert_eq!(killed.code, -1, "{}", killed.stderr);
        hop(&host, &["rollback"]).assert_code(0);
        assert_eq!(assert_consistent(&host, &initial), "4.0.1");
        record(
            "crash",
            &format!(
                "sqlite     kill@install_rpms.mid after {delay:>3}ms          rollback → 4.0.1 (exit 0)"
            ),
        );
    }
}
