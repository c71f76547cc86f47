//! supervisord through `supervisorctl -c <conf>` (the conf names the
//! control socket).

use std::time::Duration;

use anyhow::{Result, bail};

use super::{ServiceManager, ServiceState};
use crate::host::Host;
use crate::runner::{Cmd, Runner};

pub struct Supervisord {
    conf: String,
    runner: Runner,
}

impl Supervisord {
    pub fn new(host: &Host, runner: Runner) -> Self {
        let conf = host
            .config
            .services
            .supervisord_conf
            .as_deref()
            .map_or_else(
                || "/etc/supervisord.conf".into(),
                |c| host.path(c).display().to_string(),
            );
        Self { conf, runner }
    }

    fn ctl(&self, args: &[&str]) -> Cmd {
        Cmd::new("supervisorctl")
            .args(["-c", self.conf.as_str()])
            .args(args.iter().copied())
            .timeout(Duration::from_secs(60))
    }
}

/// Parses a `supervisorctl status NAME` line.
pub fn parse_status(line: &str) -> ServiceState {
    let mut words = line.split_whitespace();
    let _name = words.next();
    let state = words.next().unwrap_or("");
    match state {
        "RUNNING" => {
            let pid = line
                .split("pid ")
                .nth(1)
                .and_then(|r| r.split(',').next())
                .and_then(|p| p.trim().parse().ok());
            ServiceState::Running { pid }
        }
        "STARTING" => ServiceState::Starting,
        "STOPPED" | "STOPPING" => ServiceState::Stopped,
        "EXITED" | "FATAL" | "BACKOFF" => ServiceState::Failed(line.trim().to_owned()),
        _ => ServiceState::Unknown(line.trim().to_owned()),
    }
}

impl ServiceManager for Supervisord {
    fn status(&self, name: &str) -> Result<ServiceState> {
        let out = self.runner.run(&self.ctl(&["status", name]))?;
        let text = out.text.trim();
        if text.contains("no such process") || text.contains("ERROR (no such") {
            return Ok(ServiceState::Unknown(format!(
                "supervisord has no program {name}"
            )));
        }
        if text.contains("refused connection")
            || text.contains("no such file")
            || text.contains("SHUTDOWN_STATE")
        {
            bail!("supervisord is not reachable through {}: {text}", self.conf);
        }
        Ok(parse_status(text.lines().next().unwrap_or("")))
    }

    fn start(&self, name: &str) -> Result<()> {
        let out = self.runner.run(&self.ctl(&["start", name]))?;
        if out.success() || out.text.contains("already started") {
            return Ok(());
        }
        bail!("supervisorctl start {name}: {}", out.text.trim())
    }

    fn stop(&self, name: &str, timeout: Duration) -> Result<()> {
        // supervisorctl returns once the process is down (supervisord sends
        // SIGKILL after the program's stopwaitsecs); past `timeout` the
        // caller kills it itself.
        match self.runner.run(&self.ctl(&["stop", name]).timeout(timeout)) {
            Ok(o) if o.success() || o.text.contains("not running") => Ok(()),
            Ok(o) => bail!("supervisorctl stop {name}: {}", o.text.trim()),
            Err(_) => Ok(()),
        }
    }

    fn signal(&self, name: &str, signal: &str) -> Result<()> {
        let sig = signal.trim_start_matches("SIG");
        let out = self.runner.run(&self.ctl(&["signal", sig, name]))?;
        if out.success() {
            Ok(())
        } else {
            bail!("supervisorctl signal {sig} {name}: {}", out.text.trim())
        }
    }

    fn kill(&self, name: &str) -> Result<()> {
        if let ServiceState::Running { pid: Some(pid) } = self.status(name)? {
            self.runner
                .check(&Cmd::new("kill").args(["-KILL".to_owned(), pid.to_string()]))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_supervisorctl_status_lines() {
        assert_eq!(
            parse_status("rest-service                     RUNNING   pid 4242, uptime 0:01:02"),
            ServiceState::Running { pid: Some(4242) }
        );
        assert_eq!(
            parse_status("mgmtworker STOPPED   Nov 21 10:00 AM"),
            ServiceState::Stopped
        );
        assert!(matches!(
            parse_status("x FATAL Exited too quickly"),
            ServiceState::Failed(_)
        ));
        assert_eq!(parse_status("x STARTING"), ServiceState::Starting);
    }
}
