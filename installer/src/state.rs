//! hop's record of the host, under `var/lib/hop/` in the root: the
//! installed version and what hop put there, the operations with their
//! journals, backups and logs, and the RPMs of the installed version.
//!
//! ```text
//! var/lib/hop/
//!   state.json            installed version, components, deployed config digests
//!   lock.holder           who holds the lock (a flock on this directory)
//!   history.jsonl         one line per finished operation
//!   installed/            hop.yaml and migrations of the installed version
//!   rpms/                 the installed version's RPMs (to roll the next hop back)
//!   logs/<id>.log         every command an operation ran, with its output
//!   operations/<id>/      journal.json, hop.yaml, staging/, backup/
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use hop_artifact::digest::Sha256Digest;
use hop_artifact::version::Version;
use serde::{Deserialize, Serialize};

use crate::atomic;
use crate::host::Host;

/// Where hop keeps its state, relative to the root.
pub const STATE_DIR: &str = "var/lib/hop";

/// The paths of a host's state directory.
#[derive(Clone, Debug)]
pub struct StateDir {
    pub dir: PathBuf,
}

impl StateDir {
    pub fn of(host: &Host) -> Self {
        Self {
            dir: host.state_dir.clone(),
        }
    }

    /// Creates the directory tree (mode 0700).
    pub fn ensure(&self) -> Result<()> {
        let fresh = !self.dir.exists();
        for d in [self.dir.clone(), self.operations(), self.logs()] {
            atomic::private_dir(&d).with_context(|| format!("cannot create {}", d.display()))?;
        }
        if fresh && let Some(parent) = self.dir.parent() {
            atomic::sync_dir(parent)?;
        }
        Ok(())
    }

    pub fn state_file(&self) -> PathBuf {
        self.dir.join("state.json")
    }
    pub fn history_file(&self) -> PathBuf {
        self.dir.join("history.jsonl")
    }
    pub fn installed(&self) -> PathBuf {
        self.dir.join("installed")
    }
    pub fn rpms(&self) -> PathBuf {
        self.dir.join("rpms")
    }
    pub fn logs(&self) -> PathBuf {
        self.dir.join("logs")
    }
    pub fn operations(&self) -> PathBuf {
        self.dir.join("operations")
    }
    pub fn operation(&self, id: &str) -> PathBuf {
        self.operations().join(id)
    }
    /// Packages downloaded from a remote source (and their parts).
    pub fn downloads(&self) -> PathBuf {
        self.dir.join("downloads")
    }
    /// Where `upgrade` looks for packages when none are named (the hop
    /// RPMs `hop-build publish` makes install them there).
    pub fn packages(&self) -> PathBuf {
        self.dir.join("packages")
    }
    /// An upgrade chain in progress.
    pub fn chain_file(&self) -> PathBuf {
        self.dir.join("chain.json")
    }
    /// Who holds the host lock.
    pub fn lock_holder(&self) -> PathBuf {
        self.dir.join("lock.holder")
    }
    /// Kept rehearsals, and their scratch copies while one runs.
    pub fn rehearsals(&self) -> PathBuf {
        self.dir.join("rehearsals")
    }
    /// A `check`'s extracted payload, private to process `pid`.
    pub fn check_scratch(&self, pid: u32) -> PathBuf {
        self.dir.join(format!("check-{pid}"))
    }
    /// The installed `hop.yaml` a commit writes before it swaps it in.
    pub fn installed_new(&self) -> PathBuf {
        self.dir.join("installed.new")
    }
    /// The kept RPMs a commit writes before it swaps them in.
    pub fn rpms_new(&self) -> PathBuf {
        self.dir.join("rpms.new")
    }
}

/// What hop knows the host runs, written at each commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostState {
    pub product: String,
    pub version: Version,
    /// NEVRAs of the component RPMs hop installed.
    pub components: Vec<String>,
    /// Digest of each config file as hop deployed it (the package's file).
    pub configs: BTreeMap<String, Sha256Digest>,
    /// The newest migration of the installed version.
    pub last_migration: u32,
    /// The operation that installed this version.
    pub last_operation: Option<String>,
    pub updated_at: String,
    /// Set on a node that runs a rolling hop's configs for the roll
    /// (pinned versions): the hop (`4.0.1→4.1.1`); `hop-install unpin`
    /// deploys its final configs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<String>,
}

impl HostState {
    pub fn load(dir: &StateDir) -> Result<Option<Self>> {
        let path = dir.state_file();
        match std::fs::read(&path) {
            Ok(bytes) => {
                Ok(Some(serde_json::from_slice(&bytes).with_context(|| {
                    format!("{} is damaged", path.display())
                })?))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    pub fn save(&self, dir: &StateDir) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self)?;
        atomic::write(&dir.state_file(), &bytes, 0o600)
            .with_context(|| format!("cannot write {}", dir.state_file().display()))
    }
}

/// The current time, RFC 3339 UTC.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// Milliseconds since the epoch (for times compared across processes).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
