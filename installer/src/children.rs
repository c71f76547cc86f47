//! The process groups an operation's tools run in, recorded beside its
//! journal (`operations/<id>/children.json`) while they run.
//!
//! Every tool runs in a process group of its own and gets SIGKILL when
//! hop-install dies (see `runner`), but a process that left the group's
//! leader behind — a hook's background job, a scriptlet's daemon — would
//! outlive a killed hop-install and go on changing the host while `resume`
//! acts. So before `resume` or `rollback` touch anything, they end every
//! group the ledger still names ([`end_leftovers`]).
//!
//! A group is recognised by its leader's start time, so a process id the
//! kernel has since given to someone else is never signalled. (A group's id
//! is not reused while any member lives, so a group whose leader is gone
//! but whose members remain is still ours — within one boot: a ledger
//! written before a reboot names nothing that still runs.)

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use crate::atomic;

/// One recorded process group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// The group id: the leader's pid.
    pub pgid: i32,
    /// The leader's start time (clock ticks since boot, /proc/PID/stat).
    pub started: u64,
    /// The boot it was recorded in (absent in ledgers of older hops).
    #[serde(default)]
    pub boot: Option<String>,
}

/// The ledger of one operation.
pub struct Ledger {
    path: PathBuf,
    groups: Mutex<Vec<Group>>,
}

impl Ledger {
    pub fn path_in(op_dir: &Path) -> PathBuf {
        op_dir.join("children.json")
    }

    /// The ledger of the operation in `op_dir` (existing entries kept).
    pub fn open(op_dir: &Path) -> Self {
        let path = Self::path_in(op_dir);
        let groups = read(&path).unwrap_or_default();
        Self {
            path,
            groups: Mutex::new(groups),
        }
    }

    fn save(&self, groups: &[Group]) -> Result<()> {
        atomic::write(&self.path, &serde_json::to_vec(groups)?, 0o600)
            .with_context(|| format!("recording child processes in {}", self.path.display()))
    }

    /// Records a group that just started (its leader is `pid`).
    pub fn started(&self, pid: u32) -> Result<()> {
        let Ok(pgid) = i32::try_from(pid) else {
            return Ok(());
        };
        let Some(started) = start_time(pgid) else {
            return Ok(()); // Already gone.
        };
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        groups.push(Group {
            pgid,
            started,
            boot: crate::procfs::boot_id(),
        });
        self.save(&groups)
    }

    /// Forgets a group whose leader was waited for.
    pub fn finished(&self, pid: u32) -> Result<()> {
        let mut groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        let before = groups.len();
        groups.retain(|g| i64::from(g.pgid) != i64::from(pid));
        if groups.len() == before {
            return Ok(());
        }
        self.save(&groups)
    }
}

fn read(path: &Path) -> Option<Vec<Group>> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// The start time of process `pid` (field 22 of /proc/PID/stat).
pub fn start_time(pid: i32) -> Option<u64> {
    crate::procfs::start_time(u32::try_from(pid).ok()?)
}

/// Whether any process of group `pgid` is alive.
fn group_alive(pgid: i32) -> bool {
    killpg(Pid::from_raw(pgid), None).is_ok()
}

/// Whether the live group `g.pgid` is the one recorded.
pub fn is_ours(g: &Group) -> bool {
    if g.boot.is_some() && g.boot != crate::procfs::boot_id() {
        // Recorded before a reboot: the number now names someone else.
        return false;
    }
    match start_time(g.pgid) {
        Some(t) => t == g.started,
        // The leader is gone; members keep the group id from reuse.
        None => group_alive(g.pgid),
    }
}

/// Kills every group the ledger of `op_dir` names that still runs, waits
/// for them to go, and empties the ledger; returns the groups ended.
pub fn end_leftovers(op_dir: &Path) -> Result<Vec<i32>> {
    let path = Ledger::path_in(op_dir);
    let Some(groups) = read(&path) else {
        return Ok(Vec::new());
    };
    let mut ended = Vec::new();
    for g in &groups {
        if g.pgid > 1 && is_ours(g) {
            let _ = killpg(Pid::from_raw(g.pgid), Signal::SIGKILL);
            ended.push(g.pgid);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    for pgid in &ended {
        while group_alive(*pgid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if group_alive(*pgid) {
            anyhow::bail!(
                "process group {pgid}, left by the interrupted operation, survives SIGKILL"
            );
        }
    }
    atomic::write(&path, b"[]", 0o600)?;
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_processs_start_time() {
        let me = std::process::id() as i32;
        assert!(start_time(me).is_some());
        let now = Group {
            pgid: me,
            started: start_time(me).unwrap(),
            boot: crate::procfs::boot_id(),
        };
        assert!(is_ours(&now));
        assert!(!is_ours(&Group {
            started: now.started + 1,
            ..now.clone()
        }));
        // The same number and start time, recorded in an earlier boot.
        assert!(!is_ours(&Group {
            boot: Some("00000000-0000-0000-0000-000000000000".into()),
            ..now
        }));
    }
}
