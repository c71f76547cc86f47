//! `hop-build verify`: the full check an installer makes, with the keys
//! given on the command line.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use hop_artifact::reader::{PackageReader, Verified};
use hop_artifact::signature::TrustedKeys;
use hop_artifact::verify_report::VerifyReport;

use crate::Refused;

/// Verifies `package` against the public keys in `keys`: signature, then
/// every member.
pub fn verify(package: &Path, keys: &[PathBuf]) -> Result<VerifyReport> {
    let trusted = TrustedKeys::from_files(keys).map_err(|e| Refused::new(e.to_string()))?;
    let file = File::open(package).with_context(|| format!("cannot open {}", package.display()))?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let refused = |e: String| Refused::new(format!("{} is refused: {e}", package.display()));
    let Verified {
        manifest,
        signer,
        bytes,
    } = PackageReader::open(file, &trusted)
        .and_then(|reader| hop_artifact::progress::verify(reader, total))
        .map_err(|e| refused(e.to_string()))?;
    let signer = signer.ok_or_else(|| refused("it carries no trusted signature".into()))?;
    Ok(VerifyReport::new(package, &manifest, &signer, bytes))
}
