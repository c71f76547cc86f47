//! `hop-install verify`: is this package intact and signed by a key this
//! host (or `--key`) trusts? Reads the whole package; changes nothing.

use std::path::{Path, PathBuf};

use crate::error::Failure;
use crate::host::Host;
use crate::package::{self, Verified};

pub fn verify(root: &Path, package: &Path, keys: &[PathBuf]) -> Result<Verified, Failure> {
    let trusted = if keys.is_empty() {
        let host = Host::open(root).map_err(|e| {
            Failure::refused(format!("{e:#}"))
                .with_hint("pass --key PUB.asc to verify with a given public key")
        })?;
        crate::trust::host_keys(&host)?
    } else {
        crate::trust::key_files(keys)?
    };
    package::verify(package, &trusted)
}
