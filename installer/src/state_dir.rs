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

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::atomic;

/// Where hop keeps its state, relative to the root.
pub const STATE_DIR: &str = "var/lib/hop";

/// The paths of a host's state directory.
#[derive(Clone, Debug)]
pub struct StateDir {
    pub dir: PathBuf,
}

impl StateDir {
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
