//! Adopting the product's database, and finding drift: the facts hop
//! gathers from the live database and the package (its expected `from`
//! schema, its history, a foreign tool's history), handed to
//! [`hop_migrate::adopt::decide`]. The preflight shows the decision; the
//! online-migrations step carries it out (baseline rows).

use std::path::Path;

use anyhow::{Context, Result};
use hop_artifact::PackageManifest;
use hop_artifact::migration::Backend;
use hop_migrate::Migrator;
use hop_migrate::adopt::{self, Adoption};
use hop_migrate::schema::{Difference, Schema, compare};

/// Which of a package's expected schemas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    /// After the `from` version's migrations.
    From,
    /// After all of the package's.
    To,
}

/// A package's expected schema on `backend`, read from a directory that
/// holds its payload (a check's scratch, staging, `installed/`); `None` if
/// the package has none for that database.
pub fn expected_schema(
    m: &PackageManifest,
    payload: &Path,
    backend: Backend,
    which: Expected,
) -> Result<Option<Schema>> {
    let Some(pair) = m.expected_schemas.get(&backend) else {
        return Ok(None);
    };
    let member = match which {
        Expected::From => &pair.from,
        Expected::To => &pair.to,
    };
    let text = std::fs::read_to_string(payload.join(member))
        .with_context(|| format!("cannot read the expected schema {member}"))?;
    Ok(Some(
        serde_json::from_str(&text).with_context(|| format!("{member} is damaged"))?,
    ))
}

/// What the live database is, against the package.
pub struct Assessment {
    pub adoption: Adoption,
    /// The live schema against the expected `from` schema (when the
    /// package has one for this database).
    pub drift: Option<Vec<Difference>>,
}

/// Looks at the database `migrator` is connected to.
pub fn assess(migrator: &mut Migrator, m: &PackageManifest, payload: &Path) -> Result<Assessment> {
    let live = migrator.schema()?;
    let drift = expected_schema(m, payload, migrator.backend(), Expected::From)?
        .map(|e| compare(&e, &live));
    let hop_rows = migrator.history()?.len();
    let foreign = migrator.foreign_history();
    let versions: Vec<u32> = m.migrations.iter().map(|x| x.version).collect();
    let from = m.from.to_string();
    let adoption = adopt::decide(&adopt::Facts {
        hop_rows,
        tables: live.tables().count(),
        foreign: foreign.as_ref(),
        schema: drift.as_deref(),
        from_last: m.from_last_migration,
        versions: &versions,
        alembic: &m.alembic_revisions,
        from: &from,
    });
    Ok(Assessment { adoption, drift })
}
