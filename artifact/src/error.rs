//! Why a package was refused.

use crate::signature::SignatureError;

/// A package the reader refused, or could not read. Each message says what
/// was wrong; the installer adds what to do next.
#[derive(Debug, thiserror::Error)]
#[allow(
    missing_docs,
    reason = "each variant's #[error] message is its documentation"
)]
pub enum PackageError {
    #[error("cannot read the package: {0}")]
    Io(#[from] std::io::Error),
    #[error("the package ends early at byte {offset} while reading {what}: the file is truncated")]
    Truncated { offset: u64, what: String },
    #[error("this is not a .hop package: {0}")]
    NotAPackage(String),
    #[error("hop.yaml is {size} bytes, over the {max}-byte limit; refusing to read it")]
    ManifestTooLarge { size: u64, max: u64 },
    #[error("the signature member is {size} bytes, over the {max}-byte limit")]
    SignatureTooLarge { size: u64, max: u64 },
    #[error("the package has no signature: hop.yaml.asc must follow hop.yaml (found {found})")]
    MissingSignature { found: String },
    #[error("signature check failed: {0}")]
    Signature(#[from] SignatureError),
    #[error(
        "the signature member is not in the armoured form hop-build writes: the package was altered"
    )]
    NonCanonicalSignature,
    #[error("hop.yaml cannot be read: {0}")]
    Manifest(String),
    #[error("hop.yaml is inconsistent: {}", .0.join("; "))]
    ManifestProblems(Vec<String>),
    #[error("damaged header at byte {offset}: its checksum does not match")]
    HeaderChecksum { offset: u64 },
    #[error("member {path} is {kind}; a package holds only regular files")]
    NotRegularFile { path: String, kind: &'static str },
    #[error("unsafe member path {path:?}: {reason}")]
    UnsafePath { path: String, reason: String },
    #[error("member {path} is not listed in hop.yaml")]
    UnlistedMember { path: String },
    #[error("member {path} appears twice")]
    DuplicateMember { path: String },
    #[error("member {path} is listed in hop.yaml but missing from the package")]
    MissingMember { path: String },
    #[error("member {expected} is missing or out of order (found {path} in its place)")]
    OutOfOrder { path: String, expected: String },
    #[error("member {path} is {actual} bytes but hop.yaml lists {listed}")]
    SizeMismatch {
        path: String,
        listed: u64,
        actual: u64,
    },
    #[error("member {path} is damaged or altered: SHA-256 {actual}, hop.yaml lists {listed}")]
    DigestMismatch {
        path: String,
        listed: String,
        actual: String,
    },
    #[error(
        "the header of {path} at byte {offset} is not in the form hop-build writes: the package was altered"
    )]
    NonCanonicalHeader { path: String, offset: u64 },
    #[error("non-zero padding at byte {offset}: the package was altered")]
    BadPadding { offset: u64 },
    #[error("unexpected data at byte {offset} after the end of the archive")]
    TrailingData { offset: u64 },
}
