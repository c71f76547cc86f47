//! Which keys the host trusts: `--key` files when given, else the
//! `trusted_keys` directory of host.yaml. There is no way to skip the
//! signature check.

use std::path::PathBuf;

use hop_artifact::signature::TrustedKeys;

use crate::error::Failure;
use crate::host::Host;

/// The host's trusted keys.
pub fn host_keys(host: &Host) -> Result<TrustedKeys, Failure> {
    let dir = host.path(&host.config.trusted_keys);
    TrustedKeys::from_dir(&dir).map_err(|e| {
        Failure::refused(e.to_string()).with_hint(format!(
            "put the vendor's public key (*.asc) into {}",
            host.config.trusted_keys
        ))
    })
}

/// `--key` files.
pub fn key_files(keys: &[PathBuf]) -> Result<TrustedKeys, Failure> {
    TrustedKeys::from_files(keys).map_err(|e| Failure::refused(e.to_string()))
}
