//! The service manager behind one small trait: supervisord (tests, the
//! demo, some hosts) and systemd (most hosts).

mod supervisord;
mod systemd;

use std::time::{Duration, Instant};

use anyhow::Result;

use crate::host::{Host, ServiceManagerKind};
use crate::runner::Runner;

pub use supervisord::Supervisord;
pub use systemd::Systemd;

/// What the service manager says about a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceState {
    Running {
        pid: Option<u32>,
    },
    Starting,
    Stopped,
    /// Exited, crashed or given up on; the text says how.
    Failed(String),
    Unknown(String),
}

impl ServiceState {
    pub fn is_running(&self) -> bool {
        matches!(self, ServiceState::Running { .. } | ServiceState::Starting)
    }
}

/// The operations hop needs from a service manager.
pub trait ServiceManager {
    /// Whether the service runs, and since when.
    fn status(&self, name: &str) -> Result<ServiceState>;
    /// Starts the service (a running one is left alone).
    fn start(&self, name: &str) -> Result<()>;
    /// Asks the service to stop gracefully (the manager escalates after its
    /// own timeout); returns once it is down or `timeout` passed.
    fn stop(&self, name: &str, timeout: Duration) -> Result<()>;
    /// Sends a signal such as `SIGUSR2` to the service's processes.
    fn signal(&self, name: &str, signal: &str) -> Result<()>;
    /// Kills the service's processes outright.
    fn kill(&self, name: &str) -> Result<()>;
    /// Makes the manager read changed unit files (after an RPM transaction).
    fn reload_units(&self) -> Result<()> {
        Ok(())
    }
    /// What the manager knows about a service that failed (its last log
    /// lines), for the error message.
    fn diagnose(&self, _name: &str) -> String {
        String::new()
    }
    /// How long the manager itself waits for the service to stop before it
    /// kills it (systemd's `TimeoutStopSec`), when it has such a setting.
    fn own_stop_timeout(&self, _name: &str) -> Option<Duration> {
        None
    }
    /// Whether the manager says the service reported itself ready
    /// (systemd's `Type=notify`).
    fn is_ready(&self, _name: &str) -> Result<bool> {
        anyhow::bail!("readiness by notify needs systemd; this host runs another service manager")
    }
}

/// The host's service manager.
pub fn for_host(host: &Host, runner: &Runner) -> Result<Box<dyn ServiceManager>> {
    Ok(match host.config.services.manager {
        ServiceManagerKind::Supervisord => Box::new(Supervisord::new(host, runner.clone())?),
        ServiceManagerKind::Systemd => Box::new(Systemd::new(runner.clone())),
    })
}

/// Drains (optional), stops gracefully within `stop_timeout`, then kills:
/// returns how the service went down.
pub fn stop_gracefully(
    manager: &dyn ServiceManager,
    name: &str,
    drain: Option<(&str, Duration)>,
    stop_timeout: Duration,
) -> Result<&'static str> {
    if let Some((signal, timeout)) = drain
        && let ServiceState::Running { pid } = manager.status(name)?
    {
        manager.signal(name, signal)?;
        if wait_until_gone(manager, name, pid, timeout)? {
            // The drained process is gone; if the manager brought the
            // service back on its own, that new instance is stopped too.
            manager.stop(name, stop_timeout)?;
            return Ok("drained");
        }
    }
    // The manager's stop returns once the service is down, or when the
    // timeout passes; only then is the state looked at again.
    let started = Instant::now();
    manager.stop(name, stop_timeout)?;
    if started.elapsed() < stop_timeout || !manager.status(name)?.is_running() {
        return Ok("stopped");
    }
    manager.kill(name)?;
    manager.stop(name, Duration::from_secs(5))?;
    if wait_until_down(manager, name, Duration::from_secs(5))? {
        Ok("killed after the stop timeout")
    } else {
        anyhow::bail!("{name} is still running after SIGKILL")
    }
}

/// Polls until the process `pid` of the service is gone (the service is
/// down, or runs as another process); false if `timeout` passed.
fn wait_until_gone(
    manager: &dyn ServiceManager,
    name: &str,
    pid: Option<u32>,
    timeout: Duration,
) -> Result<bool> {
    let deadline = deadline_after(timeout);
    loop {
        match manager.status(name)? {
            ServiceState::Running { pid: now } if pid.is_some() && now != pid => return Ok(true),
            state if !state.is_running() => return Ok(true),
            _ => {}
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls until the service is not running; false if `timeout` passed.
pub fn wait_until_down(
    manager: &dyn ServiceManager,
    name: &str,
    timeout: Duration,
) -> Result<bool> {
    let deadline = deadline_after(timeout);
    loop {
        if !manager.status(name)?.is_running() {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `now + timeout`, saturating far in the future instead of overflowing.
pub fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(hop_artifact::duration_text::MAX))
        .unwrap_or(now)
}
