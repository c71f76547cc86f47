//! The systemd layer against a `systemctl` that behaves as systemd 219
//! (EL7) does (`testdata/systemctl-219`): every call hop makes is one
//! that version understands, and what it prints is read right. A real
//! EL7 systemd is out of reach here; the fake refuses what 219 refuses.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::systemd::Systemd;
use super::{ServiceManager, ServiceState, stop_gracefully};
use crate::log::Log;
use crate::runner::Runner;

/// A private copy of the fake with a unit `rest-service` it can run.
fn fake_systemd(name: &str) -> (PathBuf, Systemd) {
    let dir = std::env::temp_dir().join(format!("hop-systemctl-219-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("units")).unwrap();
    std::fs::write(dir.join("units/rest-service"), "").unwrap();
    // A link, not a copy: executing a file just written races with other
    // test threads' forks holding it open for writing (ETXTBSY). The fake
    // keeps its state beside the link (`dirname "$0"`).
    let program = dir.join("systemctl");
    std::os::unix::fs::symlink(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/services/testdata/systemctl-219"),
        &program,
    )
    .unwrap();
    let systemd = Systemd::with_systemctl(Runner::new(Log::new()), &program.to_string_lossy());
    (dir, systemd)
}

fn stop_all(dir: &Path) {
    if let Ok(pid) = std::fs::read_to_string(dir.join("rest-service.pid")) {
        let _ = std::process::Command::new("kill")
            .args(["-9", pid.trim()])
            .status();
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_fake_refuses_what_systemd_219_does_not_know() {
    let (dir, _) = fake_systemd("refuses");
    for args in [
        &["show", "--value", "-p", "MainPID", "rest-service.service"][..],
        &["kill", "--kill-whom=main", "rest-service.service"][..],
    ] {
        let out = std::process::Command::new(dir.join("systemctl"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("unrecognized option"));
    }
    stop_all(&dir);
}

#[test]
fn status_start_drain_and_stop_work_as_systemd_219_answers() {
    let (dir, systemd) = fake_systemd("cycle");
    assert!(matches!(
        systemd.status("ledger-api").unwrap(),
        ServiceState::Unknown(why) if why.contains("systemd has no unit ledger-api.service")
    ));
    assert_eq!(
        systemd.status("rest-service").unwrap(),
        ServiceState::Stopped
    );
    // 219 prints TimeoutStopUSec in its own format, not microseconds.
    assert_eq!(
        systemd.stop_timeout_of("rest-service"),
        Some(Duration::from_secs(90))
    );

    systemd.start("rest-service").unwrap();
    let ServiceState::Running { pid: Some(pid) } = systemd.status("rest-service").unwrap() else {
        panic!("not running after start");
    };
    // A drain signal reaches the main process (`--kill-who=main`).
    let how = stop_gracefully(
        &systemd,
        "rest-service",
        Some(("SIGUSR2", Duration::from_secs(5))),
        Duration::from_secs(5),
    )
    .unwrap();
    assert_eq!(how, "drained");
    assert!(!Path::new(&format!("/proc/{pid}")).exists() || zombie(pid));

    systemd.start("rest-service").unwrap();
    let how = stop_gracefully(&systemd, "rest-service", None, Duration::from_secs(5)).unwrap();
    assert_eq!(how, "stopped");
    assert_eq!(
        systemd.status("rest-service").unwrap(),
        ServiceState::Stopped
    );
    systemd.reload_units().unwrap();
    stop_all(&dir);
}

fn zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(true)
}
