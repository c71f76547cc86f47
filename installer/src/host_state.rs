//! hop's record of what the host runs (`state.json`), written at each
//! commit and read by every verb.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use hop_artifact::digest::Sha256Digest;
use hop_artifact::version::Version;
use serde::{Deserialize, Serialize};

use crate::atomic;
use crate::state_dir::StateDir;

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
