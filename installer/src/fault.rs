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

use crate::journal::Step;
use crate::journal::Undo;

/// The environment variable that arms points.
pub const ENV: &str = "HOP_FAULT";

/// Where in a step a point is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// Journaled as started, nothing done yet.
    Begin,
    /// Part done.
    Mid,
    /// Done, not yet journaled.
    End,
}

/// A named point where `HOP_FAULT` can strike: one call form for every
/// place, and one list ([`Point::all`]) the crash and recovery matrices
/// iterate, so a renamed step cannot silently disarm its tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Point {
    /// `<step>.begin|mid|end`.
    Step(Step, At),
    /// `rollback.<undo>`: before that undo.
    BeforeUndo(Undo),
    /// `rollback.stopped`: the services of both versions are stopped.
    RollbackStopped,
    /// `rollback.mid`: the RPMs are back, the rest still to undo.
    RollbackMid,
    /// `journal.rolling_back`: the rollback's plan is about to be written.
    JournalRollingBack,
}

impl Point {
    /// The name `HOP_FAULT` gives it (`install_rpms.mid`).
    pub fn name(self) -> String {
        match self {
            Point::Step(step, at) => {
                let at = match at {
                    At::Begin => "begin",
                    At::Mid => "mid",
                    At::End => "end",
                };
                format!("{}.{at}", step.name())
            }
            Point::BeforeUndo(undo) => format!("rollback.{}", undo.name()),
            Point::RollbackStopped => "rollback.stopped".into(),
            Point::RollbackMid => "rollback.mid".into(),
            Point::JournalRollingBack => "journal.rolling_back".into(),
        }
    }

    /// Every point hop has.
    pub fn all() -> Vec<Point> {
        let steps = Step::ALL
            .into_iter()
            .flat_map(|s| [At::Begin, At::Mid, At::End].map(|at| Point::Step(s, at)));
        let undos = Undo::ALL.into_iter().map(Point::BeforeUndo);
        steps
            .chain(undos)
            .chain([
                Point::RollbackStopped,
                Point::RollbackMid,
                Point::JournalRollingBack,
            ])
            .collect()
    }

    /// The point a `HOP_FAULT` name means, if hop has it.
    pub fn named(name: &str) -> Option<Point> {
        Point::all().into_iter().find(|p| p.name() == name)
    }
}

/// The `to` version of the operation running, for `:VERSION` qualifiers.
static HOP_TO: Mutex<String> = Mutex::new(String::new());

/// Tells the hook which hop is running.
pub fn set_hop(to: &str) {
    if let Ok(mut current) = HOP_TO.lock() {
        *current = to.to_owned();
    }
}

/// What an armed point does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// SIGKILL this process, as a power cut would.
    Kill,
    /// Fail the step, as an error would.
    Fail,
    /// Sleep 3 s (to deliver a signal during a known step).
    Pause,
}

/// What `HOP_FAULT` asks for at `point`.
pub fn armed(point: Point) -> Option<Action> {
    let point = point.name();
    let spec = std::env::var(ENV).ok()?;
    spec.split(',').find_map(|item| {
        let (action, at) = item.trim().split_once('@')?;
        let (at, only_to) = match at.split_once(':') {
            Some((p, v)) => (p, Some(v)),
            None => (at, None),
        };
        if at != point.as_str() {
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
pub fn hit(point: Point) -> Result<(), String> {
    match armed(point) {
        None => Ok(()),
        Some(Action::Fail) => Err(format!("injected failure at {} ({ENV})", point.name())),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_point_has_a_name_of_its_own() {
        let names: Vec<String> = Point::all().into_iter().map(Point::name).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        assert_eq!(
            Point::named("install_rpms.mid"),
            Some(Point::Step(Step::InstallRpms, At::Mid))
        );
        assert_eq!(
            Point::named("rollback.restore_database"),
            Some(Point::BeforeUndo(Undo::RestoreDatabase))
        );
        assert_eq!(Point::named("install_rpm.mid"), None);
    }
}
