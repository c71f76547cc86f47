//! What every verb sets up before it acts: the host (its host.yaml and
//! root), the privileges a change needs, the one-operation-at-a-time lock,
//! the interrupt handler, and a log of the commands it runs.

use std::path::Path;

use crate::error::Refusal;
use crate::host::Host;
use crate::lock::HostLock;
use crate::log::Log;
use crate::runner::Runner;
use crate::state_dir::StateDir;

/// A verb's hold on the host.
pub struct Session {
    pub host: Host,
    pub state: StateDir,
    _lock: Option<HostLock>,
}

impl Session {
    /// For a verb that only reads the host (`check`, `status`, `path`…).
    pub fn reading(root: &Path) -> Result<Self, Refusal> {
        let host = Host::open(root).map_err(|e| {
            Refusal::from_error(&e)
                .with_hint("is this a manager host? pass --root DIR for a host in a directory")
        })?;
        Ok(Self {
            state: host.state(),
            host,
            _lock: None,
        })
    }

    /// For a verb that changes the host: root privileges when the root is
    /// `/`, the host lock (`verb` names the holder), Ctrl-C handling.
    pub fn changing(root: &Path, verb: &str) -> Result<Self, Refusal> {
        require_privileges(root)?;
        let mut session = Self::reading(root)?;
        session._lock = Some(HostLock::acquire(&session.state, verb)?);
        crate::interrupt::install();
        Ok(session)
    }

    /// A runner logging into `logs/<verb>-<time>.log`.
    pub fn runner(&self, verb: &str) -> Runner {
        logging_runner(&self.state, verb)
    }
}

/// A runner logging into `logs/<verb>-<time>.log` of `state` (when the
/// state directory can be written; else the log stays in memory).
pub fn logging_runner(state: &StateDir, verb: &str) -> Runner {
    let log = Log::new();
    if state.ensure().is_ok() {
        let stamp = crate::journal::new_id("", "")
            .trim_end_matches("--to-")
            .to_owned();
        let _ = log.open(&state.logs().join(format!("{verb}-{stamp}.log")));
    }
    Runner::new(log)
}

/// Refuses to change `/` without root privileges, before anything else.
pub fn require_privileges(root: &Path) -> Result<(), Refusal> {
    let euid = nix::unistd::geteuid();
    let is_slash = std::path::absolute(root)
        .map(|r| r == Path::new("/"))
        .unwrap_or(false);
    if is_slash && !euid.is_root() {
        return Err(Refusal::new(format!(
            "hop-install changes the host's RPMs, configs, services and database, which needs root (running as uid {euid}); nothing was changed"
        ))
        .with_hint("run it with sudo, or as root"));
    }
    Ok(())
}
