//! Fault injection, a test aid: `HOP_FAULT=ACTION@POINT[,…]` makes
//! hop-install die or fail at a named point, so tests can prove that every
//! crash and every failure ends at `from` or `to`.
//!
//! * `kill@install_rpms.mid` — SIGKILL this process (and the `rpm` it is
//!   running) in the middle of installing RPMs;
//! * `fail@health_gate.begin` — make the health gate fail;
//! * `pause@install_rpms.begin` — sleep 3 s there (to deliver a signal
//!   during a known step);
//! * `kill@install_rpms.mid:4.2.0` — only in the hop to 4.2.0 (a chain).
//!
//! `HOP_FAULT_DELAY_MS` sets how long after the rpm transaction starts
//! `kill@install_rpms.mid` strikes (default 40).
//!
//! Points are `<step>.begin` (journaled as started, nothing done yet),
//! `<step>.mid` (part done) and `<step>.end` (done, not yet journaled),
//! for every step name in the journal, plus `rollback.<part>` during a
//! rollback. It is compiled in always: it costs one environment lookup per
//! point, and testing the shipped binary beats testing a special build. It
//! is documented for support staff only and does nothing unless set.

use std::sync::Mutex;
use std::time::Duration;

pub const ENV: &str = "HOP_FAULT";

/// The `to` version of the operation running, for `:VERSION` qualifiers.
static HOP_TO: Mutex<String> = Mutex::new(String::new());

/// Tells the hook which hop is running.
pub fn set_hop(to: &str) {
    if let Ok(mut current) = HOP_TO.lock() {
        *current = to.to_owned();
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Kill,
    Fail,
    Pause,
}

/// What `HOP_FAULT` asks for at `point`.
pub fn armed(point: &str) -> Option<Action> {
    let spec = std::env::var(ENV).ok()?;
    spec.split(',').find_map(|item| {
        let (action, at) = item.trim().split_once('@')?;
        let (at, only_to) = match at.split_once(':') {
            Some((p, v)) => (p, Some(v)),
            None => (at, None),
        };
        if at != point {
            return None;
        }
        if let Some(v) = only_to
            && HOP_TO.lock().map(|c| c.as_str() != v).unwrap_or(true)
        {
            return None;
        }
        match action {
            "kill" => Some(Action::Kill),
            "fail" => Some(Action::Fail),
            "pause" => Some(Action::Pause),
            _ => None,
        }
    })
}

/// `HOP_FAULT_DELAY_MS`, if set.
pub fn delay_ms() -> Option<u64> {
    std::env::var("HOP_FAULT_DELAY_MS").ok()?.parse().ok()
}

/// Acts on `point`: dies, fails, or (usually) does nothing.
pub fn hit(point: &str) -> Result<(), String> {
    match armed(point) {
        None => Ok(()),
        Some(Action::Fail) => Err(format!("injected failure at {point} ({ENV})")),
        Some(Action::Pause) => {
            std::thread::sleep(Duration::from_secs(3));
            Ok(())
        }
        Some(Action::Kill) => kill_self(None),
    }
}

/// SIGKILLs this process (and first the process group `child_group`), as a
/// power cut would.
pub fn kill_self(child_group: Option<u32>) -> ! {
    use nix::sys::signal::{Signal, kill, killpg};
    use nix::unistd::Pid;
    if let Some(group) = child_group {
        let _ = killpg(Pid::from_raw(group as i32), Signal::SIGKILL);
    }
    let _ = kill(Pid::this(), Signal::SIGKILL);
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}
