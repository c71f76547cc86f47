//! Processes as `/proc` shows them, recognised by more than their number.
//!
//! A process id is reused once its process is gone, so hop never signals a
//! number it read earlier without checking that the process is still the
//! same one: the pair (pid, start time in clock ticks since boot) names a
//! process for as long as the machine runs, and the boot id tells a record
//! made before a reboot (when nothing of ours can still run).

use std::collections::BTreeSet;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

/// One process, as it was when it was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Process {
    pub pid: u32,
    /// Start time in clock ticks since boot (field 22 of /proc/PID/stat).
    pub started: u64,
}

/// The fields of /proc/PID/stat hop reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    pub ppid: u32,
    pub pgid: u32,
    pub started: u64,
    /// The state letter: `Z` is a zombie (dead, not yet reaped).
    pub state: char,
}

/// Reads /proc/PID/stat.
pub fn stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

/// Parses a /proc/PID/stat line. The command name (field 2) may hold
/// spaces and parentheses, so fields are counted from the last `)`.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(Stat {
        state: fields.first()?.chars().next()?,
        ppid: fields.get(1)?.parse().ok()?,
        pgid: fields.get(2)?.parse().ok()?,
        started: fields.get(19)?.parse().ok()?,
    })
}

/// The start time of process `pid`.
pub fn start_time(pid: u32) -> Option<u64> {
    stat(pid).map(|s| s.started)
}

/// The machine's boot id: differs after every reboot.
pub fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_owned())
}

impl Process {
    /// The process `pid` as it is now, if it runs.
    pub fn of(pid: u32) -> Option<Self> {
        let s = stat(pid)?;
        (s.state != 'Z').then_some(Self {
            pid,
            started: s.started,
        })
    }

    /// Whether this very process still runs (a zombie does not).
    pub fn alive(&self) -> bool {
        stat(self.pid).is_some_and(|s| s.started == self.started && s.state != 'Z')
    }

    /// Sends SIGKILL, if it is still this process.
    pub fn kill(&self) {
        if self.alive()
            && let Ok(pid) = i32::try_from(self.pid)
        {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

/// Every live process of the machine with its stat.
fn all() -> Vec<(u32, Stat)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, stat(pid)?)))
        .filter(|(_, s)| s.state != 'Z')
        .collect()
}

/// `root` (when it runs), every process descended from it, and every
/// member of its process group: what a service manager's "the service"
/// means where it has no cgroup of its own (supervisord).
pub fn tree_and_group(root: &Process) -> Vec<Process> {
    if !root.alive() {
        return group_members(root);
    }
    let procs = all();
    let mut found: BTreeSet<u32> = BTreeSet::from([root.pid]);
    loop {
        let before = found.len();
        for (pid, s) in &procs {
            if found.contains(&s.ppid) || s.pgid == root.pid {
                found.insert(*pid);
            }
        }
        if found.len() == before {
            break;
        }
    }
    procs
        .iter()
        .filter(|(pid, s)| found.contains(pid) && s.started >= root.started)
        .map(|(pid, s)| Process {
            pid: *pid,
            started: s.started,
        })
        .collect()
}

/// The live members of the group `leader` led, started after it (a group
/// id is not reused while a member lives, so these are its own).
fn group_members(leader: &Process) -> Vec<Process> {
    all()
        .into_iter()
        .filter(|(_, s)| s.pgid == leader.pid && s.started >= leader.started)
        .map(|(pid, s)| Process {
            pid,
            started: s.started,
        })
        .collect()
}

/// The processes listed in a cgroup's `cgroup.procs` (systemd's units).
pub fn in_cgroup(procs_file: &str) -> Vec<Process> {
    std::fs::read_to_string(procs_file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .filter_map(Process::of)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_stat_line_whose_name_has_spaces_and_parentheses() {
        let line = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10";
        let s = parse_stat(line).unwrap();
        assert_eq!((s.state, s.ppid, s.pgid, s.started), ('S', 1, 4242, 98765));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn this_process_is_alive_and_a_reused_number_is_not_it() {
        let me = Process::of(std::process::id()).unwrap();
        assert!(me.alive());
        let other = Process {
            started: me.started + 1,
            ..me
        };
        assert!(!other.alive());
        assert!(boot_id().is_some_and(|b| b.len() > 8));
    }

    #[test]
    fn a_process_tree_includes_children_and_the_group() {
        use std::os::unix::process::CommandExt;
        let mut child = std::process::Command::new("/bin/sh")
            .args(["-c", "sleep 30 & sleep 30 & wait"])
            .process_group(0)
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        let root = Process::of(child.id()).unwrap();
        let tree = tree_and_group(&root);
        assert_eq!(tree.len(), 3, "{tree:?}");
        for p in &tree {
            p.kill();
        }
        let _ = child.wait();
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(tree_and_group(&root).iter().all(|p| !p.alive()));
    }
}
