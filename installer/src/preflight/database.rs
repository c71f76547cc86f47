//! Checks of the database: reachable, supported, its history consistent
//! with the package, the previous hop's post migrations finished.

use std::path::Path;

use hop_artifact::PackageManifest;
use hop_artifact::migration::Phase;
use hop_migrate::adopt::Adoption;
use hop_migrate::status::State;
use hop_migrate::{DatabaseUrl, Migrator, Options};

use super::{CheckId, Installed, Level, Preflight};
use crate::journal::Scope;
use crate::package;

pub(super) fn database(
    p: &mut Preflight,
    m: &PackageManifest,
    url: &DatabaseUrl,
    i: &Installed,
    payload: &Path,
    scope: Scope,
) {
    let backend = url.backend();
    let min = m
        .database
        .as_ref()
        .and_then(|d| d.min_server_version.get(&backend));
    if !m.migrations.is_empty() && min.is_none() {
        p.add(
            CheckId::Database,
            Level::Failure,
            format!(
                "this package does not support {backend} (it supports: {})",
                supported(m)
            ),
        );
        return;
    }
    let mut migrator = match Migrator::connect(url, Options::default()) {
        Ok(mg) => mg,
        Err(e) => {
            p.add(CheckId::Database, Level::Failure, e.to_string());
            return;
        }
    };
    match migrator.check_compatibility(min.map(String::as_str)) {
        Ok(facts) => p.add(
            CheckId::Database,
            Level::Ok,
            format!("{backend} {} at {url}", facts.version),
        ),
        Err(e) => {
            p.add(CheckId::Database, Level::Failure, e.to_string());
            return;
        }
    }
    let scripts = match package::scripts(m, payload, backend) {
        Ok(s) => s,
        Err(e) => {
            p.add(CheckId::SchemaHistory, Level::Failure, format!("{e:#}"));
            return;
        }
    };
    let hop = format!("{}→{}", m.from, m.to);
    if let Err(e) = migrator.validate(&scripts, &hop) {
        p.add(CheckId::SchemaHistory, Level::Failure, e.to_string());
        return;
    }
    let status = match migrator.status(&scripts) {
        Ok(s) => s,
        Err(e) => {
            p.add(CheckId::SchemaHistory, Level::Failure, e.to_string());
            return;
        }
    };
    // An expand that stopped part-way left some of the hop's online
    // migrations applied: running it again applies the rest.
    let expected_beyond =
        |e: &hop_migrate::status::Entry| scope == Scope::Expand && e.phase == Phase::Online;
    if let Some(state) = &i.state
        && let Some(beyond) = status.entries.iter().find(|e| {
            e.version > state.last_migration
                && !matches!(e.state, State::Pending)
                && !expected_beyond(e)
        })
    {
        p.add(
            CheckId::SchemaHistory,
            Level::Failure,
            format!(
                "{} is applied, but hop recorded {} as ending at migration {:04}; the database was changed outside hop",
                beyond.file, state.version, state.last_migration
            ),
        );
        return;
    }
    let last_applied = status
        .entries
        .iter()
        .filter(|e| !matches!(e.state, State::Pending))
        .map(|e| e.version)
        .max()
        .unwrap_or(0);
    let previous_end = i.state.as_ref().map_or(last_applied, |s| s.last_migration);
    let unfinished: Vec<&str> = status
        .pending()
        .filter(|e| e.phase == Phase::Post && e.version <= previous_end)
        .map(|e| e.file.as_str())
        .collect();
    if !unfinished.is_empty() {
        p.add(
            CheckId::PreviousPostMigrations,
            Level::Failure,
            format!(
                "{} of the previous hop did not finish; run `hop-install resume` to finish it before the next hop (on a cluster: `hop-install contract` with the previous hop's package)",
                unfinished.join(", ")
            ),
        );
    } else {
        p.add(CheckId::PreviousPostMigrations, Level::Ok, "complete");
    }
    let baseline = schema(p, &mut migrator, m, payload);
    let [online, offline, post] = pending_after(&status, baseline);
    let adopted = baseline.map_or(String::new(), |up_to| {
        format!(" (after the baseline up to {up_to:04})")
    });
    p.add(
        CheckId::SchemaHistory,
        Level::Ok,
        format!("consistent; pending{adopted}: {online} online, {offline} offline, {post} post"),
    );
}

/// The migrations an apply will run, per phase (online, offline, post):
/// those pending, without the ones an adoption records as its baseline.
pub(super) fn pending_after(
    status: &hop_migrate::status::Status,
    baseline: Option<u32>,
) -> [usize; 3] {
    let up_to = baseline.unwrap_or(0);
    [Phase::Online, Phase::Offline, Phase::Post].map(|phase| {
        status
            .pending()
            .filter(|e| e.phase == phase && e.version > up_to)
            .count()
    })
}

pub(super) fn supported(m: &PackageManifest) -> String {
    m.database
        .as_ref()
        .map(|d| {
            d.min_server_version
                .keys()
                .map(|b| b.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// Adoption of a database hop did not create, and drift from the schema
/// the package expects of its `from` version; the migration an adoption
/// takes as its baseline, if it adopts.
fn schema(
    p: &mut Preflight,
    migrator: &mut Migrator,
    m: &PackageManifest,
    payload: &Path,
) -> Option<u32> {
    let backend = migrator.backend();
    let a = match crate::adoption::assess(migrator, m, payload) {
        Ok(a) => a,
        Err(e) => {
            p.add(CheckId::SchemaDrift, Level::Failure, format!("{e:#}"));
            return None;
        }
    };
    let mut baseline = None;
    match a.adoption {
        Adoption::NotNeeded => {}
        Adoption::Baseline { up_to, because } => {
            baseline = Some(up_to);
            p.add(
                CheckId::Adoption,
                Level::Ok,
                format!(
                    "no hop history: hop adopts the database ({because}), records the migrations \
                     up to {up_to:04} as its baseline and applies only later ones"
                ),
            )
        }
        Adoption::Refused { why, fix } => p.add(
            CheckId::Adoption,
            Level::Failure,
            format!("the database cannot be adopted: {why}; {fix}"),
        ),
    }
    let Some(drift) = a.drift else {
        p.add(
            CheckId::SchemaDrift,
            Level::Warning,
            format!("the package has no expected {backend} schema, so drift is not checked"),
        );
        return baseline;
    };
    let (failures, extras): (Vec<_>, Vec<_>) = drift.iter().partition(|d| d.is_failure());
    let list = |v: &[&hop_migrate::schema::Difference]| {
        let mut text = v
            .iter()
            .take(5)
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("; ");
        if v.len() > 5 {
            text += &format!("; and {} more", v.len() - 5);
        }
        text
    };
    if !failures.is_empty() {
        p.add(
            CheckId::SchemaDrift,
            Level::Failure,
            format!(
                "{} difference(s) from {}'s expected schema: {} — put them back as {} had them \
                 (`hop-install db diff PKG` lists all)",
                failures.len(),
                m.from,
                list(&failures),
                m.from
            ),
        );
    } else if !extras.is_empty() {
        p.add(
            CheckId::SchemaDrift,
            Level::Warning,
            format!(
                "{} object(s) {} does not have, kept as they are: {}",
                extras.len(),
                m.from,
                list(&extras)
            ),
        );
    } else {
        p.add(
            CheckId::SchemaDrift,
            Level::Ok,
            format!("matches {}'s expected schema", m.from),
        );
    }
    baseline
}
