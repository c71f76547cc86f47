//! What `hop-build verify --json` and `hop-install verify --json` print:
//! one shape for the same facts, so a script reads either the same way.

use std::path::Path;

use serde::Serialize;

use crate::package_manifest::PackageManifest;
use crate::signature::Signer;

/// A package that verified: its hop, its size, and who signed it.
#[derive(Clone, Debug, Serialize)]
pub struct VerifyReport {
    /// The package as named on the command line.
    pub package: String,
    /// The product the package upgrades.
    pub product: String,
    /// The version it upgrades from.
    pub from: String,
    /// The version it upgrades to.
    pub to: String,
    /// How many payload members were checked against their digests.
    pub members: usize,
    /// The package's size in bytes, all of it read.
    pub bytes: u64,
    /// Who signed it.
    pub signer: SignerReport,
}

/// The signer of a verified package.
#[derive(Clone, Debug, Serialize)]
pub struct SignerReport {
    /// The primary key's fingerprint, upper-case hex.
    pub fingerprint: String,
    /// The key's user id, when it has one.
    pub user_id: Option<String>,
    /// The trusted key file it matched.
    pub key: String,
    /// When the signature was made (seconds since the epoch).
    pub signed_at: u64,
}

impl VerifyReport {
    /// The report of `package`, whose `manifest` verified against `signer`.
    pub fn new(package: &Path, manifest: &PackageManifest, signer: &Signer, bytes: u64) -> Self {
        Self {
            package: package.display().to_string(),
            product: manifest.product.clone(),
            from: manifest.from.to_string(),
            to: manifest.to.to_string(),
            members: manifest.members.len(),
            bytes,
            signer: SignerReport {
                fingerprint: signer.fingerprint.clone(),
                user_id: signer.user_id.clone(),
                key: signer.key_source.clone(),
                signed_at: signer.signed_at,
            },
        }
    }

    /// One line: `OK manager 4.0.1 → 4.1.1: 14 members intact, signed by …`.
    pub fn render(&self) -> String {
        let user = self
            .signer
            .user_id
            .as_ref()
            .map(|u| format!(" ({u})"))
            .unwrap_or_default();
        format!(
            "OK {} {} → {}: {} members intact, signed by {}{user} (trusted via {})\n",
            self.product,
            self.from,
            self.to,
            self.members,
            self.signer.fingerprint,
            self.signer.key
        )
    }
}
