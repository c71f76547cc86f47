//! systemd through `systemctl`. Units are reached as the host runs them
//! (`--root` does not apply to a running service manager).

use std::time::Duration;

use anyhow::{Result, bail};

use super::{ServiceManager, ServiceState};
use crate::runner::{Cmd, Runner};

pub struct Systemd {
    runner: Runner,
}

impl Systemd {
    pub fn new(runner: Runner) -> Self {
        Self { runner }
    }

    fn ctl(&self, args: &[&str]) -> Cmd {
        Cmd::new("systemctl")
            .arg("--no-ask-password")
            .args(args.iter().copied())
            .timeout(Duration::from_secs(120))
    }
}

/// Reads `systemctl show -p ActiveState,SubState,MainPID` output.
pub fn parse_show(text: &str) -> ServiceState {
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    let pid = value("MainPID").parse::<u32>().ok().filter(|p| *p > 0);
    match value("ActiveState").as_str() {
        "active" | "reloading" => ServiceState::Running { pid },
        "activating" => ServiceState::Starting,
        "inactive" | "deactivating" => ServiceState::Stopped,
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
            name,
        ]))?;
        if out.contains("LoadState=not-found") {
            return Ok(ServiceState::Unknown(format!("systemd has no unit {name}")));
        }
        Ok(parse_show(&out))
    }

    fn start(&self, name: &str) -> Result<()> {
        self.runner.check(&self.ctl(&["start", name])).map(drop)
    }

    fn stop(&self, name: &str, timeout: Duration) -> Result<()> {
        match self.runner.run(
            &self
                .ctl(&["stop", name])
                .timeout(timeout.saturating_add(Duration::from_secs(5))),
        ) {
            Ok(o) if o.success() => Ok(()),
            Ok(o) => bail!("systemctl stop {name}: {}", o.text.trim()),
            Err(_) => Ok(()),
        }
    }

    fn signal(&self, name: &str, signal: &str) -> Result<()> {
        self.runner
            .check(&self.ctl(&[
                "kill",
                &format!("--signal={signal}"),
                "--kill-whom=main",
                name,
            ]))
            .map(drop)
    }

    fn kill(&self, name: &str) -> Result<()> {
        self.runner
            .check(&self.ctl(&["kill", "--signal=SIGKILL", name]))
            .map(drop)
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
    }
}
