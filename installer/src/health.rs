//! Health probes: an HTTP GET that answers 2xx, a TCP connect, or a command
//! that exits 0 — retried until the service's health timeout.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use hop_artifact::package_manifest::{HealthCheck, Probe};

use crate::runner::{Command, Runner};
use crate::services::ServiceManager;

const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
const INTERVAL: Duration = Duration::from_millis(20);

/// One attempt at `service`'s probe: `Ok(())` when healthy, else why not.
pub fn probe_once(
    probe: &Probe,
    runner: &Runner,
    manager: &dyn ServiceManager,
    service: &str,
) -> Result<(), String> {
    match probe {
        Probe::Notify(_) => match manager.is_ready(service) {
            Ok(true) => Ok(()),
            Ok(false) => Err(format!("{service} has not reported ready")),
            Err(e) => Err(format!("{e:#}")),
        },
        Probe::Http(url) => {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(ATTEMPT_TIMEOUT))
                .build()
                .into();
            match agent.get(url).call() {
                Ok(_) => Ok(()),
                Err(ureq::Error::StatusCode(code)) => Err(format!("{url} answered {code}")),
                Err(e) => Err(format!("{url}: {e}")),
            }
        }
        Probe::Tcp(addr) => {
            let addrs: Vec<_> = addr
                .to_socket_addrs()
                .map_err(|e| format!("{addr}: {e}"))?
                .collect();
            for a in &addrs {
                if TcpStream::connect_timeout(a, ATTEMPT_TIMEOUT).is_ok() {
                    return Ok(());
                }
            }
            Err(format!("nothing accepts connections on {addr}"))
        }
        Probe::Command(command) => {
            // The package's command gets PATH only, not hop's environment
            // (which may hold a database password).
            let cmd = Command {
                clear_env: true,
                cwd: Some("/".into()),
                ..Command::new("/bin/sh")
                    .args(["-c", command.as_str()])
                    .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
                    .timeout(ATTEMPT_TIMEOUT * 5)
            };
            match runner.run(&cmd) {
                Ok(o) if o.success() => Ok(()),
                Ok(o) => Err(format!(
                    "`{command}` exited {:?}: {}",
                    o.code,
                    o.text.trim()
                )),
                Err(e) => Err(e.to_string()),
            }
        }
    }
}

/// Retries the probe until healthy or the check's timeout; returns how long
/// it took.
pub fn wait_healthy(
    check: &HealthCheck,
    runner: &Runner,
    manager: &dyn ServiceManager,
    service: &str,
    cancelled: &dyn Fn() -> bool,
) -> Result<Duration> {
    let start = Instant::now();
    let mut last;
    loop {
        match probe_once(&check.probe, runner, manager, service) {
            Ok(()) => return Ok(start.elapsed()),
            Err(e) => last = e,
        }
        if start.elapsed() >= check.timeout {
            bail!(
                "not healthy within {}: {last}",
                humantime::format_duration(check.timeout)
            );
        }
        if cancelled() {
            bail!("interrupted while waiting for health: {last}");
        }
        std::thread::sleep(INTERVAL);
    }
}
