//! The service manager behind one small trait: supervisord (tests, the
//! demo, some hosts) and systemd (most hosts).

mod supervisord;
mod systemd;
#[cfg(test)]
mod systemd_219_tests;
#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use anyhow::Result;

use crate::host::{Host, ServiceManagerKind};
use crate::procfs::{self, Process};
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
    /// Asked to stop, and not down yet (supervisord's STOPPING, systemd's
    /// deactivating): its processes may still serve and write.
    Stopping {
        pid: Option<u32>,
    },
    Stopped,
    /// Exited, crashed or given up on; the text says how.
    Failed(String),
    Unknown(String),
}

impl ServiceState {
    /// Whether any of it may still run: running, starting or stopping.
    pub fn is_running(&self) -> bool {
        matches!(
            self,
            ServiceState::Running { .. } | ServiceState::Starting | ServiceState::Stopping { .. }
        )
    }

    /// The main process id the manager names, if any.
    pub fn pid(&self) -> Option<u32> {
        match self {
            ServiceState::Running { pid } | ServiceState::Stopping { pid } => *pid,
            _ => None,
        }
    }
}

/// The operations hop needs from a service manager.
pub trait ServiceManager: Send + Sync {
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
    /// Every process of the service still alive, given its main process
    /// as it was before the stop: by default that process, its children
    /// and its process group (a manager with cgroups adds the unit's).
    fn leftovers(&self, _name: &str, main: Option<&Process>) -> Vec<Process> {
        main.map(procfs::tree_and_group).unwrap_or_default()
    }
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
    /// How long the manager waits after starting the service before it
    /// calls it started (supervisord's `startsecs`), when it says.
    fn start_wait(&self, _name: &str) -> Option<Duration> {
        None
    }
    /// Whether the manager says the service reported itself ready
    /// (systemd's `Type=notify`).
    fn is_ready(&self, _name: &str) -> Result<bool> {
        anyhow::bail!("readiness by notify needs systemd; this host runs another service manager")
    }
}

/// No service manager: what probing another node's services has (its
/// HTTP and TCP probes need none).
pub struct Unreachable;

impl ServiceManager for Unreachable {
    fn status(&self, _: &str) -> Result<ServiceState> {
        anyhow::bail!("another node's service manager is not reachable from here")
    }
    fn start(&self, name: &str) -> Result<()> {
        self.status(name).map(drop)
    }
    fn stop(&self, name: &str, _: Duration) -> Result<()> {
        self.status(name).map(drop)
    }
    fn signal(&self, name: &str, _: &str) -> Result<()> {
        self.status(name).map(drop)
    }
    fn kill(&self, name: &str) -> Result<()> {
        self.status(name).map(drop)
    }
}

/// The host's service manager.
pub fn for_host(host: &Host, runner: &Runner) -> Result<Box<dyn ServiceManager>> {
    Ok(match host.config.services.manager {
        ServiceManagerKind::Supervisord => Box::new(Supervisord::new(host, runner.clone())?),
        ServiceManagerKind::Systemd => Box::new(Systemd::new(runner.clone())),
    })
}

/// How long hop waits for the service's processes to go after SIGKILL.
const AFTER_KILL: Duration = Duration::from_secs(5);

/// Drains (optional), stops gracefully within `stop_timeout`, then kills:
/// returns how the service went down. A stop ends with every process of
/// the service gone — the main one, its children, its group — or it is an
/// error: hop never goes on while the old version may still serve and
/// write.
pub fn stop_gracefully(
    manager: &dyn ServiceManager,
    name: &str,
    drain: Option<(&str, Duration)>,
    stop_timeout: Duration,
) -> Result<&'static str> {
    let main = manager.status(name)?.pid().and_then(Process::of);
    let mut how = "stopped";
    if let Some((signal, timeout)) = drain
        && let ServiceState::Running { pid } = manager.status(name)?
    {
        manager.signal(name, signal)?;
        if wait_until_gone(manager, name, pid, timeout)? {
            // The drained process is gone; if the manager brought the
            // service back on its own, that new instance is stopped too.
            how = "drained";
        }
    }
    let deadline = deadline_after(stop_timeout);
    manager.stop(name, stop_timeout)?;
    if wait_until_stopped(manager, name, main.as_ref(), deadline)? {
        return Ok(how);
    }
    manager.kill(name)?;
    for p in manager.leftovers(name, main.as_ref()) {
        p.kill();
    }
    // The manager records the stop (supervisord would otherwise restart a
    // process it saw die).
    manager.stop(name, AFTER_KILL)?;
    if wait_until_stopped(manager, name, main.as_ref(), deadline_after(AFTER_KILL))? {
        return Ok("killed after the stop timeout");
    }
    let left: Vec<String> = manager
        .leftovers(name, main.as_ref())
        .iter()
        .map(|p| p.pid.to_string())
        .collect();
    anyhow::bail!(
        "{name} is still running after SIGKILL ({}; processes: {}): hop does not go on while \
         the old version may still serve and write",
        describe(&manager.status(name)?),
        if left.is_empty() {
            "none found".to_owned()
        } else {
            left.join(", ")
        }
    )
}

/// How a state reads in a message.
fn describe(state: &ServiceState) -> String {
    match state {
        ServiceState::Running { .. } => "the manager says it runs".into(),
        ServiceState::Starting => "the manager says it is starting".into(),
        ServiceState::Stopping { .. } => "the manager says it is still stopping".into(),
        ServiceState::Stopped => "the manager says it stopped".into(),
        ServiceState::Failed(how) | ServiceState::Unknown(how) => how.clone(),
    }
}

/// Polls until the manager says the service is down and none of its
/// processes lives; false if `deadline` passed.
fn wait_until_stopped(
    manager: &dyn ServiceManager,
    name: &str,
    main: Option<&Process>,
    deadline: Instant,
) -> Result<bool> {
    loop {
        if !manager.status(name)?.is_running() && manager.leftovers(name, main).is_empty() {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(20));
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

/// `now + timeout`, saturating far in the future instead of overflowing.
pub fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(hop_artifact::duration_text::MAX))
        .unwrap_or(now)
}
