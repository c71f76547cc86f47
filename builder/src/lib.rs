//! # hop-builder
//!
//! The operations behind `hop-build`, one module each: [`keygen`],
//! [`build`], [`inspect`], [`verify`]. [`validate`] checks a source manifest
//! and everything it names; [`lint`] is the online-migration linter.
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! use hop_builder::build::{build, BuildOptions};
//! use hop_builder::sign::Signing;
//! let report = build(&BuildOptions {
//!     manifest: "manifests/manager-4.0.1-to-4.1.1.yaml".into(),
//!     signing: Signing::KeyFile("release.sec.asc".into()),
//!     output: "manager-4.0.1-to-4.1.1.hop".into(),
//!     source_date_epoch: 0,
//!     previous: None,
//!     schemas: Default::default(),
//! })?;
//! println!("{} → {}", report.title, report.output.display());
//! # Ok(()) }
//! ```

pub mod build;
pub mod cli;
pub mod inspect;
pub mod keygen;
pub mod lint;
pub mod previous;
pub mod schemas;
pub mod sign;
pub mod validate;
pub mod verify;

use std::fmt;

/// A refusal: bad input or a bad package. `hop-build` exits 2 on it (1 on
/// other failures).
#[derive(Debug)]
pub struct Refused(pub String);

impl Refused {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}
