//! # hop-artifact
//!
//! The `.hop` package format, shared by `hop-build` and `hop-install`:
//! manifest types, RPM version order, the deterministic writer, the
//! verifying streaming reader, SHA-256 digests and OpenPGP signatures.
//! It performs no policy (which keys to trust, where to extract): callers
//! decide.
//!
//! A package is a plain ustar archive: `hop.yaml`, `hop.yaml.asc` (a
//! detached signature over `hop.yaml`), then the payload members that
//! `hop.yaml` lists with their sizes and digests.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use hop_artifact::{reader::PackageReader, signature::TrustedKeys};
//! let trusted = TrustedKeys::from_dir("/etc/hop/trusted-keys".as_ref())?;
//! let file = std::fs::File::open("manager-4.0.1-to-4.1.1.hop")?;
//! let package = PackageReader::open(file, &trusted)?; // signature checked
//! println!("{}", package.manifest().title());
//! let verified = package.verify()?; // every member hashed
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod archive;
pub mod check_query;
#[cfg(any(test, feature = "testing"))]
pub mod crafted_signatures;
pub mod digest;
pub mod duration_text;
pub mod error;
pub mod fuzzing;
pub mod migration;
pub mod package_manifest;
#[cfg(feature = "progress")]
pub mod progress;
pub mod reader;
pub mod signature;
pub mod source_manifest;
pub mod verify_report;
pub mod version;
pub mod writer;
pub mod yaml;

pub use error::PackageError;
pub use package_manifest::PackageManifest;
pub use version::Version;
