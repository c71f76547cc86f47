//! `stop_gracefully` against a service manager that runs real processes:
//! a stop ends with every process of the service gone, or is an error.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Result;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::*;

/// A manager of one shell process (in its own group, as supervisord
/// starts programs): `stop` sends SIGTERM and waits at most its timeout,
/// as supervisord's XML-RPC call does; the state says STOPPING while a
/// stopped-for process lives on.
struct Fake {
    child: Mutex<Child>,
    stop_asked: Mutex<bool>,
    /// A process that no signal ends (stands for one in uninterruptible
    /// sleep): the manager never says it is down.
    unkillable: bool,
}

impl Fake {
    fn new(script: &str) -> Self {
        let child = Command::new("/bin/sh")
            .args(["-c", script])
            .process_group(0)
            .spawn()
            .expect("sh");
        // Let the shell install its traps.
        std::thread::sleep(Duration::from_millis(150));
        Self {
            child: Mutex::new(child),
            stop_asked: Mutex::new(false),
            unkillable: false,
        }
    }

    fn pid(&self) -> u32 {
        self.child.lock().unwrap().id()
    }

    fn main_alive(&self) -> bool {
        matches!(self.child.lock().unwrap().try_wait(), Ok(None))
    }

    fn signal_main(&self, signal: Signal) {
        let _ = kill(Pid::from_raw(self.pid() as i32), signal);
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        let pgid = Pid::from_raw(self.pid() as i32);
        let _ = nix::sys::signal::killpg(pgid, Signal::SIGKILL);
        let _ = self.child.lock().unwrap().wait();
    }
}

impl ServiceManager for Fake {
    fn status(&self, _: &str) -> Result<ServiceState> {
        let pid = Some(self.pid());
        let asked = *self.stop_asked.lock().unwrap();
        Ok(match (self.unkillable || self.main_alive(), asked) {
            (true, false) => ServiceState::Running { pid },
            (true, true) => ServiceState::Stopping { pid },
            (false, _) => ServiceState::Stopped,
        })
    }
    fn start(&self, _: &str) -> Result<()> {
        Ok(())
    }
    fn stop(&self, _: &str, timeout: Duration) -> Result<()> {
        *self.stop_asked.lock().unwrap() = true;
        self.signal_main(Signal::SIGTERM);
        let deadline = Instant::now() + timeout;
        while self.main_alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }
    fn signal(&self, _: &str, _: &str) -> Result<()> {
        self.signal_main(Signal::SIGUSR2);
        Ok(())
    }
    fn kill(&self, _: &str) -> Result<()> {
        if !self.unkillable {
            self.signal_main(Signal::SIGKILL);
        }
        Ok(())
    }
}

const SHORT: Duration = Duration::from_millis(400);

#[test]
fn a_service_that_stops_on_sigterm_is_stopped() {
    let fake = Fake::new("trap 'exit 0' TERM; while :; do sleep 0.05; done");
    let how = stop_gracefully(&fake, "svc", None, Duration::from_secs(5)).unwrap();
    assert_eq!(how, "stopped");
    assert!(!fake.main_alive());
}

#[test]
fn a_service_that_ignores_sigterm_is_killed_and_gone_before_stop_returns() {
    let fake = Fake::new("trap '' TERM; while :; do sleep 0.05; done");
    let pid = fake.pid();
    let begun = Instant::now();
    let how = stop_gracefully(&fake, "svc", None, SHORT).unwrap();
    assert_eq!(how, "killed after the stop timeout");
    assert!(begun.elapsed() >= SHORT, "{:?}", begun.elapsed());
    assert!(!fake.main_alive(), "pid {pid} still runs");
}

#[test]
fn a_worker_left_in_the_group_after_the_main_process_exits_is_killed() {
    // The main process exits on SIGTERM; its worker ignores it and goes on.
    let fake = Fake::new("(trap '' TERM; while :; do sleep 0.05; done) & trap 'exit 0' TERM; wait");
    let main = Process::of(fake.pid()).unwrap();
    let worker = procfs::tree_and_group(&main)
        .into_iter()
        .find(|p| p.pid != main.pid)
        .expect("the worker");
    let how = stop_gracefully(&fake, "svc", None, SHORT).unwrap();
    assert_eq!(how, "killed after the stop timeout");
    assert!(
        !worker.alive(),
        "the worker {} outlived the stop",
        worker.pid
    );
}

#[test]
fn a_service_that_survives_sigkill_is_an_error_naming_it() {
    let mut fake = Fake::new("trap '' TERM; while :; do sleep 0.05; done");
    fake.unkillable = true;
    let err = stop_gracefully(&fake, "svc", None, SHORT).unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("svc is still running after SIGKILL"),
        "{text}"
    );
    assert!(text.contains("still stopping"), "{text}");
    assert!(text.contains("does not go on"), "{text}");
}

#[test]
fn a_drained_service_reports_drained() {
    let fake = Fake::new("trap 'exit 0' USR2 TERM; while :; do sleep 0.05; done");
    let how = stop_gracefully(&fake, "svc", Some(("SIGUSR2", SHORT)), SHORT).unwrap();
    assert_eq!(how, "drained");
}
