//! # hop-migrate
//!
//! hop's schema migration engine for PostgreSQL, MariaDB and SQLite: phases
//! (`online`, `offline`, `post`), SHA-256 checksums in a history table, one
//! migrator per database, each migration committed with its history row
//! where the database allows, batched and resumable post migrations, and
//! the backups the installer takes before it changes anything.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use hop_artifact::migration::Phase;
//! use hop_migrate::{DatabaseUrl, Migrator, Options, Quiet, Script};
//! let url = DatabaseUrl::parse("sqlite:///var/lib/manager/db.sqlite", "/".as_ref())?;
//! let scripts = vec![Script::parse("0001_create_t.sql", "-- hop: phase=offline\nCREATE TABLE t (a int);")?];
//! let mut migrator = Migrator::connect(&url, Options::default())?;
//! migrator.check_compatibility(Some("3.35"))?;
//! let report = migrator.apply(&scripts, Phase::Offline, "4.0.1→4.1.1", &mut Quiet)?;
//! println!("applied {} of {}", report.applied.len(), report.pending);
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod adopt;
pub mod backup;
pub mod cluster;
pub mod compat;
mod connection;
pub mod copy;
pub mod dialect;
pub mod engine;
pub mod error;
mod facts;
pub mod history;
pub mod schema;
pub mod scratch;
pub mod script;
pub mod status;
pub mod tools;
pub mod url;
pub mod validate;

pub use engine::{Migrator, Observer, Options, PhaseReport, Quiet};
pub use error::MigrateError;
pub use script::Script;
pub use status::Status;
pub use url::DatabaseUrl;
