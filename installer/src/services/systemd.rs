//! systemd, through `systemctl` and `journalctl` (docs/decisions.md says
//! why not D-Bus). Units are reached as the host runs them: hop runs on the
//! host, at root `/`, as customers run it.
//!
//! * status: `systemctl show` of ActiveState, SubState, MainPID, LoadState;
//! * start: `reset-failed` first (a unit that failed, or hit its start
//!   limit, during the upgrade must start again in a rollback), then
//!   `start`; a failure carries the unit's last journal lines;
//! * stop: `systemctl stop`, waiting as long as the longer of the
//!   package's stop timeout and the unit's own `TimeoutStopSec` (systemd
//!   sends SIGKILL at the latter itself);
//! * drain: `systemctl kill --signal=SIGUSR2 --kill-who=main`;
//! * after an RPM transaction that changed unit files: `daemon-reload`.

use std::time::Duration;

use anyhow::{Result, bail};

use super::{ServiceManager, ServiceState};
use crate::procfs::{self, Process};
use crate::runner::{Command, Runner};

pub struct Systemd {
    runner: Runner,
    /// `systemctl` (a test gives one that behaves as an older systemd).
    systemctl: String,
}

/// How many journal lines a failure shows.
const JOURNAL_LINES: &str = "15";

impl Systemd {
    pub fn new(runner: Runner) -> Self {
        Self::with_systemctl(runner, "systemctl")
    }

    /// The manager through another `systemctl` program.
    pub fn with_systemctl(runner: Runner, systemctl: &str) -> Self {
        Self {
            runner,
            systemctl: systemctl.to_owned(),
        }
    }

    fn ctl(&self, args: &[&str]) -> Command {
        Command::new(&self.systemctl)
            .arg("--no-ask-password")
            .args(args.iter().copied())
            .timeout(Duration::from_secs(120))
    }

    /// `name` as a unit name (`rest-service` → `rest-service.service`).
    fn unit(name: &str) -> String {
        if name.contains('.') {
            name.to_owned()
        } else {
            format!("{name}.service")
        }
    }

    /// One property of a unit. `systemctl show -p NAME` prints
    /// `NAME=value` on every systemd hop supports (`--value` needs 230;
    /// EL7 has 219), so the line is read rather than asked for bare.
    fn property(&self, name: &str, property: &str) -> Result<String> {
        let out = self
            .runner
            .check(&self.ctl(&["show", "-p", property, &Self::unit(name)]))?;
        Ok(value_of(&out, property))
    }

    /// The unit's `TimeoutStopSec`.
    pub fn stop_timeout_of(&self, name: &str) -> Option<Duration> {
        parse_timespan(&self.property(name, "TimeoutStopUSec").ok()?)
    }
}

/// The value of `key` in `systemctl show` output (`KEY=value` lines).
fn value_of(text: &str, key: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or("")
        .trim()
        .to_owned()
}

/// A time span as `systemctl show` prints it: microseconds (some
/// versions), or systemd's own format (`1min 30s`, `500ms`); `infinity`
/// is no limit of the unit's own.
fn parse_timespan(text: &str) -> Option<Duration> {
    if let Ok(usec) = text.parse::<u64>() {
        return Some(Duration::from_micros(usec));
    }
    if text.is_empty() || text == "infinity" {
        return None;
    }
    humantime::parse_duration(text).ok()
}

/// Where a unit's control group lists its processes: the unified
/// hierarchy (EL9), or the named systemd one beside the v1 controllers
/// (EL7, EL8).
fn cgroup_procs_files(control_group: &str) -> Vec<String> {
    if !control_group.starts_with('/') || control_group.split('/').any(|p| p == "..") {
        return Vec::new();
    }
    [
        "/sys/fs/cgroup",
        "/sys/fs/cgroup/systemd",
        "/sys/fs/cgroup/unified",
    ]
    .iter()
    .map(|base| format!("{base}{control_group}/cgroup.procs"))
    .collect()
}

/// Reads `systemctl show -p ActiveState,SubState,MainPID` output.
pub fn parse_show(text: &str) -> ServiceState {
    let value = |key: &str| value_of(text, key);
    let pid = value("MainPID").parse::<u32>().ok().filter(|p| *p > 0);
    match value("ActiveState").as_str() {
        "active" | "reloading" => ServiceState::Running { pid },
        "activating" => ServiceState::Starting,
        "deactivating" => ServiceState::Stopping { pid },
        "inactive" => ServiceState::Stopped,
        "failed" => ServiceState::Failed(format!("failed ({})", value("SubState"))),
        other => ServiceState::Unknown(other.to_owned()),
    }
}

impl ServiceManager for Systemd {
    fn status(&self, name: &str) -> Result<ServiceState> {
        let out = self.runner.check(&self.ctl(&[
            "show",
            "-p",
            "ActiveState,SubState,MainPID,LoadState",
            &Self::unit(name),
        ]))?;
        if out.contains("LoadState=not-found") {
            return Ok(ServiceState::Unknown(format!(
                "systemd has no unit {}",
                Self::unit(name)
            )));
        }
        Ok(parse_show(&out))
    }

    fn start(&self, name: &str) -> Result<()> {
        let unit = Self::unit(name);
        let _ = self.runner.run(&self.ctl(&["reset-failed", &unit]));
        let out = self.runner.run(&self.ctl(&["start", &unit]))?;
        if !out.success() {
            bail!(
                "systemctl start {unit}: {}\n{}",
                out.text.trim(),
                self.diagnose(name)
            );
        }
        Ok(())
    }

    fn stop(&self, name: &str, timeout: Duration) -> Result<()> {
        let wait = self
            .stop_timeout_of(name)
            .map_or(timeout, |unit| unit.max(timeout))
            .saturating_add(Duration::from_secs(5));
        match self
            .runner
            .run(&self.ctl(&["stop", &Self::unit(name)]).timeout(wait))
        {
            Ok(o) if o.success() => Ok(()),
            Ok(o) => bail!("systemctl stop {}: {}", Self::unit(name), o.text.trim()),
            // A timeout: the caller looks at the state and kills.
            Err(_) => Ok(()),
        }
    }

    fn signal(&self, name: &str, signal: &str) -> Result<()> {
        self.runner
            .check(&self.ctl(&[
                "kill",
                &format!("--signal={signal}"),
                // `--kill-whom` is 252's spelling; 219 (EL7) knows only
                // this one, which every later systemd still takes.
                "--kill-who=main",
                &Self::unit(name),
            ]))
            .map(drop)
    }

    fn kill(&self, name: &str) -> Result<()> {
        self.runner
            .check(&self.ctl(&["kill", "--signal=SIGKILL", &Self::unit(name)]))
            .map(drop)
    }

    fn leftovers(&self, name: &str, main: Option<&Process>) -> Vec<Process> {
        let mut all = main.map(procfs::tree_and_group).unwrap_or_default();
        if let Ok(group) = self.property(name, "ControlGroup") {
            for file in cgroup_procs_files(&group) {
                all.extend(procfs::in_cgroup(&file));
            }
        }
        all.sort();
        all.dedup();
        all
    }

    fn reload_units(&self) -> Result<()> {
        self.runner.check(&self.ctl(&["daemon-reload"])).map(drop)
    }

    fn diagnose(&self, name: &str) -> String {
        let unit = Self::unit(name);
        let journal = self.runner.run(
            &Command::new("journalctl")
                .args([
                    "-u",
                    &unit,
                    "-n",
                    JOURNAL_LINES,
                    "--no-pager",
                    "-o",
                    "short-iso",
                ])
                .timeout(Duration::from_secs(30)),
        );
        match journal {
            Ok(o) if !o.text.trim().is_empty() => {
                format!(
                    "last lines of `journalctl -u {unit}`:\n{}",
                    o.text.trim_end()
                )
            }
            _ => format!("(`journalctl -u {unit}` shows nothing)"),
        }
    }

    fn own_stop_timeout(&self, name: &str) -> Option<Duration> {
        self.stop_timeout_of(name)
    }

    fn is_ready(&self, name: &str) -> Result<bool> {
        Ok(matches!(self.status(name)?, ServiceState::Running { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_systemctl_show() {
        assert_eq!(
            parse_show("ActiveState=active\nSubState=running\nMainPID=812\n"),
            ServiceState::Running { pid: Some(812) }
        );
        assert_eq!(
            parse_show("ActiveState=inactive\nSubState=dead\nMainPID=0\n"),
            ServiceState::Stopped
        );
        assert!(matches!(
            parse_show("ActiveState=failed\nSubState=failed\n"),
            ServiceState::Failed(_)
        ));
        assert_eq!(
            parse_show("ActiveState=deactivating\nSubState=stop-sigterm\nMainPID=812\n"),
            ServiceState::Stopping { pid: Some(812) }
        );
        assert_eq!(
            value_of("TimeoutStopUSec=30000000\n", "TimeoutStopUSec"),
            "30000000"
        );
        assert_eq!(value_of("TimeoutStopUSecX=1\n", "TimeoutStopUSec"), "");
        assert_eq!(parse_timespan("30000000"), Some(Duration::from_secs(30)));
        assert_eq!(parse_timespan("1min 30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_timespan("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_timespan("infinity"), None);
        assert_eq!(
            cgroup_procs_files("/system.slice/rest-service.service")[0],
            "/sys/fs/cgroup/system.slice/rest-service.service/cgroup.procs"
        );
        assert!(cgroup_procs_files("/../etc").is_empty());
        assert_eq!(Systemd::unit("rest-service"), "rest-service.service");
        assert_eq!(Systemd::unit("x.socket"), "x.socket");
    }
}
