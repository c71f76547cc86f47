//! `hop-install verify`: is this package intact and signed by a key this
//! host (or `--key`) trusts? Reads the whole package; changes nothing.

use std::path::{Path, PathBuf};

use crate::error::Refusal;
use hop_artifact::verify_report::VerifyReport;

use crate::package;
use crate::session::Session;

pub fn verify(
    root: &Path,
    package: &Path,
    keys: &[PathBuf],
    options: &crate::remote::FetchOptions,
) -> Result<VerifyReport, Refusal> {
    let trusted = if keys.is_empty() {
        let session = Session::reading(root)
            .map_err(|r| r.with_hint("pass --key PUB.asc to verify with a given public key"))?;
        crate::trust::host_keys(&session.host)?
    } else {
        crate::trust::key_files(keys)?
    };
    let local = super::parts::fetch::package(root, package, Some(&trusted), options)?;
    let v = package::verify(&local.path, &trusted)?;
    Ok(VerifyReport::new(package, &v.manifest, &v.signer, v.bytes))
}
