//! `hop-install db diff [PKG]`: the live schema against the one a package
//! expects — with PKG, the schema its `from` version has (what `check`
//! compares); without, the schema of the version hop installed. Read-only.

use std::path::Path;

use hop_migrate::schema::{Difference, compare};
use hop_migrate::{Migrator, Options};
use serde::Serialize;

use crate::adoption::{Expected, expected_schema};
use crate::error::Refusal;
use crate::preflight::Level;
use crate::session::Session;

#[derive(Serialize)]
pub struct DbDiff {
    pub database: String,
    /// `4.0.1 (the from version of manager 4.0.1 → 4.1.1)`.
    pub expected: String,
    pub differences: Vec<Difference>,
}

impl DbDiff {
    /// OK when the schemas match, WARNING with only extra objects,
    /// FAILURE when something expected is missing or different.
    pub fn worst(&self) -> Level {
        if self.differences.iter().any(Difference::is_failure) {
            Level::Failure
        } else if self.differences.is_empty() {
            Level::Ok
        } else {
            Level::Warning
        }
    }
}

pub fn db_diff(root: &Path, package: Option<&Path>) -> Result<DbDiff, Refusal> {
    let session = Session::reading(root)?;
    let host = &session.host;
    let url = host.database_url().map_err(|e| Refusal::from_error(&e))?;
    let backend = url.backend();
    let (expected, label) = match package {
        Some(pkg) => {
            let trusted = crate::trust::host_keys(host)?;
            let (verified, scratch) = crate::package::extract_for_check(host, pkg, &trusted)?;
            let m = &verified.manifest;
            let schema = expected_schema(m, &scratch.0, backend, Expected::From)
                .map_err(|e| Refusal::from_error(&e))?;
            (
                schema,
                format!("{} (the from version of {})", m.from, m.title()),
            )
        }
        None => {
            let installed = session.state.installed();
            let m = crate::package::load_manifest(&installed.join("hop.yaml")).map_err(|_| {
                Refusal::new(
                    "hop has not installed a version here yet, so it has no expected schema",
                )
                .with_hint("compare with a package's: hop-install db diff PKG")
            })?;
            let schema = expected_schema(&m, &installed, backend, Expected::To)
                .map_err(|e| Refusal::from_error(&e))?;
            (schema, format!("{} (installed by hop)", m.to))
        }
    };
    let expected = expected.ok_or_else(|| {
        Refusal::new(format!(
            "the package has no expected {backend} schema to compare with"
        ))
    })?;
    let live = Migrator::connect(&url, Options::default())
        .and_then(|mut m| m.schema())
        .map_err(|e| Refusal::new(e.to_string()))?;
    Ok(DbDiff {
        database: url.redacted(),
        expected: label,
        differences: compare(&expected, &live),
    })
}

pub fn render(d: &DbDiff) -> String {
    let mut out = format!(
        "database {} against the schema of {}\n",
        d.database, d.expected
    );
    if d.differences.is_empty() {
        out += "no difference\n";
    }
    for diff in &d.differences {
        let level = if diff.is_failure() {
            "FAILURE"
        } else {
            "WARNING"
        };
        out += &format!("{level:<8} {diff}\n");
    }
    out
}
