//! `hop-install verify`: is this package intact and signed by a key this
//! host (or `--key`) trusts? Reads the whole package; changes nothing.

use std::fs::File;
use std::path::{Path, PathBuf};

use hop_artifact::reader::{PackageReader, Verified};
use hop_artifact::signature::TrustedKeys;

use crate::error::Failure;
use crate::host::Host;

/// The keys to trust: `--key` files if given, else the host's
/// `trusted_keys` directory.
pub fn trusted_keys(root: &Path, keys: &[PathBuf]) -> Result<TrustedKeys, Failure> {
    if !keys.is_empty() {
        return TrustedKeys::from_files(keys).map_err(|e| Failure::refused(e.to_string()));
    }
    let host = Host::open(root).map_err(|e| {
        Failure::refused(format!("{e:#}"))
            .with_hint("pass --key PUB.asc to verify with a given public key")
    })?;
    TrustedKeys::from_dir(&host.path(&host.config.trusted_keys)).map_err(|e| {
        Failure::refused(e.to_string()).with_hint(format!(
            "put the vendor's public key (*.asc) into {}",
            host.config.trusted_keys
        ))
    })
}

/// Opens and fully verifies a package.
pub fn verify(package: &Path, trusted: &TrustedKeys) -> Result<Verified, Failure> {
    let file = File::open(package)
        .map_err(|e| Failure::refused(format!("cannot open {}: {e}", package.display())))?;
    PackageReader::open(file, trusted)
        .and_then(PackageReader::verify)
        .map_err(|e| {
            Failure::refused(format!("{} is refused: {e}", package.display())).with_hint(
                "do not install it; fetch the package again from the vendor and compare its checksum",
            )
        })
}
