//! # hop-builder
//!
//! The operations behind `hop-build`, one module each: `keygen`, `build`,
//! `inspect`, `verify`. `validate` checks a source manifest and everything
//! it names; `lint` is the online-migration linter. The library exists for
//! the `hop-build` binary and for the test fixtures, which build packages
//! the way release engineers do; only what they call is public.
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! use hop_builder::{build, BuildOptions, Signing};
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

#![deny(missing_docs)]

mod build;
mod cli;
mod inspect;
mod keygen;
mod lint;
mod previous;
mod publish;
mod schemas;
mod sign;
mod validate;
mod verify;

pub use build::{BuildOptions, BuildReport, build};
pub use cli::{Cli, run};
pub use keygen::{KeyFiles, keygen};
pub use lint::{Finding, History, Linted, Waiver, lint_online};
pub use publish::{Index, IndexEntry, PACKAGES_DIR, Published, index, publish};
pub use schemas::SchemaOptions;
pub use sign::Signing;

use std::fmt;

/// A refusal: bad input or a bad package. `hop-build` exits 2 on it (1 on
/// other failures).
#[derive(Debug)]
pub struct Refused(pub String);

impl Refused {
    /// A refusal saying `message`.
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
