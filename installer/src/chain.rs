//! An upgrade chain in progress (`upgrade --to`): `var/lib/hop/chain.json`
//! names the target and the packages, so that `resume` can continue the
//! chain after a crash — during a hop, or between two.

use std::path::PathBuf;

use anyhow::{Context, Result};
use hop_artifact::version::Version;
use serde::{Deserialize, Serialize};

use crate::state_dir::StateDir;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Chain {
    pub target: Version,
    /// The route's packages, in order.
    pub packages: Vec<PathBuf>,
    pub started_at: String,
    /// Check ids the operator accepted for every hop (`--accept`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accept: Vec<String>,
    /// Why (`--reason`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Chain {
    fn path(sd: &StateDir) -> PathBuf {
        sd.chain_file()
    }

    pub fn load(sd: &StateDir) -> Result<Option<Self>> {
        match std::fs::read(Self::path(sd)) {
            Ok(b) => Ok(Some(
                serde_json::from_slice(&b).context("chain.json is damaged")?,
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub fn save(&self, sd: &StateDir) -> Result<()> {
        crate::atomic::write(&Self::path(sd), &serde_json::to_vec_pretty(self)?, 0o600)
            .context("writing chain.json")
    }

    /// Ends the chain (done, or stopped at a good version).
    pub fn remove(sd: &StateDir) {
        let _ = std::fs::remove_file(Self::path(sd));
    }
}
