//! What a rehearsal measured and what it predicts: the downtime window
//! (offline migrations + stopping, installing, starting and health-gating
//! the services) and the rollback (restoring the dump + the same service
//! steps). Kept in `var/lib/hop/rehearsals/<package>.json`, so `check` and
//! `apply --max-downtime` can use it. The prediction is a pure function
//! of the measurements.

mod locks;
mod measure;
mod private_server;
mod render;
mod scratch;
mod space;

use std::path::PathBuf;

use anyhow::Result;
use hop_artifact::migration::Phase;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::journal::{Journal, Scope, Step};
use crate::state_dir::StateDir;

pub use private_server::preflight as private_server_preflight;

/// What killed rehearsals left on `host` (for `status`).
pub fn leftovers(host: &crate::host::Host) -> Vec<String> {
    private_server::leftovers(&host.state().rehearsals())
}
pub use measure::{drop_left, measure};
pub use space::{Place, place};

/// The report's format.
pub const SCHEMA: &str = "hop.rehearsal/1";

/// One migration as it ran on the scratch copy.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Measured {
    pub file: String,
    pub phase: Phase,
    pub duration_ms: u64,
    pub rows: u64,
    pub batches: u64,
    /// Time its statements waited for locks (sampled; SQLite: none kept).
    pub lock_wait_ms: Option<u64>,
    /// How much the database grew (negative: shrank).
    pub growth_bytes: i64,
}

/// How long the steps around the migrations take on this host.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ServiceSteps {
    /// Stop, install RPMs, deploy configs, start, health gate.
    pub ms: u64,
    /// Where the number comes from.
    pub source: String,
}

/// What the rehearsal predicts.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Prediction {
    /// First service stopped → health gate passed.
    pub window_ms: u64,
    /// After a failure once the offline phase committed (the health
    /// gate): restoring the dump + stopping, reinstalling and starting.
    pub rollback_ms: u64,
    /// After a failure inside the offline phase: the service steps alone
    /// where the phase is one transaction and nothing of the hop reached
    /// the database before it, else the same as `rollback_ms`.
    #[serde(default)]
    pub offline_failure_rollback_ms: u64,
    /// Before the window, while the services still run: backup + online migrations.
    pub before_window_ms: u64,
    /// After commit, services running: post migrations.
    pub after_commit_ms: u64,
    /// The slowest migrations, slowest first.
    pub slowest: Vec<String>,
}

/// A rehearsal of one package on this host.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Rehearsal {
    pub schema: String,
    pub package: String,
    pub from: String,
    pub to: String,
    /// Which package exactly (SHA-256 of its signed hop.yaml).
    pub manifest_sha256: String,
    pub backend: String,
    /// The database it copied (its URL, without a password).
    #[serde(default)]
    pub database: String,
    pub rehearsed_at: String,
    /// The live database's size.
    pub database_bytes: u64,
    /// Where the copy was: a temporary database on the live server, a
    /// private cluster, a file.
    #[serde(default)]
    pub copy_in: String,
    pub dump_ms: u64,
    pub dump_bytes: u64,
    /// Loading the dump into the scratch copy: what a rollback's restore takes.
    pub restore_ms: u64,
    pub migrations: Vec<Measured>,
    pub service_steps: ServiceSteps,
    pub prediction: Prediction,
}

/// The key a package's rehearsal is kept under.
pub fn package_key(manifest_bytes: &[u8]) -> String {
    Sha256::digest(manifest_bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn dir(sd: &StateDir) -> PathBuf {
    sd.rehearsals()
}

/// Keeps `r` as the rehearsal of its package.
pub fn save(sd: &StateDir, r: &Rehearsal) -> Result<PathBuf> {
    let d = dir(sd);
    crate::atomic::private_dir(&d)?;
    let path = d.join(format!("{}.json", &r.manifest_sha256[..16]));
    crate::atomic::write(&path, &serde_json::to_vec_pretty(r)?, 0o600)?;
    Ok(path)
}

/// The rehearsal of the package whose hop.yaml is `manifest_bytes`, if any.
pub fn load(sd: &StateDir, manifest_bytes: &[u8]) -> Option<Rehearsal> {
    let key = package_key(manifest_bytes);
    let path = dir(sd).join(format!("{}.json", &key[..16]));
    let r: Rehearsal = crate::atomic::read_json(&path).ok()?;
    (r.manifest_sha256 == key).then_some(r)
}

/// Why a kept rehearsal no longer describes the database `url` (of
/// `bytes` now), if it does not: it copied another database, or one less
/// than half or more than twice as big.
pub fn stale(r: &Rehearsal, url: &str, bytes: u64) -> Option<String> {
    if r.database != url {
        return Some(format!(
            "it copied {}, and this host's database is {url}",
            if r.database.is_empty() {
                "a database hop did not record"
            } else {
                &r.database
            }
        ));
    }
    let (then, now) = (r.database_bytes.max(1), bytes.max(1));
    if now > then.saturating_mul(2) || now.saturating_mul(2) < then {
        return Some(format!(
            "the database was {} then and is {} now",
            crate::progress::bytes_text(r.database_bytes),
            crate::progress::bytes_text(bytes)
        ));
    }
    None
}

/// The rehearsal of this package on `host`, if one was made and still
/// describes the host's database; why it is stale otherwise.
pub fn load_current(
    host: &crate::host::Host,
    manifest_bytes: &[u8],
) -> Result<Option<Rehearsal>, String> {
    let Some(r) = load(&host.state(), manifest_bytes) else {
        return Ok(None);
    };
    let url = host.database_url().map_err(|e| format!("{e:#}"))?;
    let bytes = hop_migrate::Migrator::connect(&url, hop_migrate::Options::default())
        .and_then(|mut m| m.database_size())
        .map_err(|e| format!("cannot measure the database: {e}"))?;
    match stale(&r, &url.redacted(), bytes) {
        Some(why) => Err(format!(
            "the rehearsal of {} is stale: {why}; run `hop-install rehearse PKG` again",
            r.rehearsed_at
        )),
        None => Ok(Some(r)),
    }
}

/// The service steps of the last hop this host committed (stop, RPMs,
/// configs, start, health gate), else `estimate`.
pub fn service_steps(journals: &[Journal], estimate: ServiceSteps) -> ServiceSteps {
    let steps = [
        Step::StopServices,
        Step::InstallRpms,
        Step::DeployConfigs,
        Step::StartServices,
        Step::HealthGate,
    ];
    let last = journals
        .iter()
        .filter(|j| j.scope == Scope::Host && j.window_ms().is_some())
        .filter(|j| {
            steps.iter().all(|s| {
                j.steps
                    .iter()
                    .any(|r| r.step == *s && r.duration_ms.is_some())
            })
        })
        .max_by_key(|j| j.started_at.clone());
    match last {
        Some(j) => ServiceSteps {
            ms: j
                .steps
                .iter()
                .filter(|r| steps.contains(&r.step))
                .filter_map(|r| r.duration_ms)
                .sum(),
            source: format!("measured by this host's last hop ({})", j.id),
        },
        None => estimate,
    }
}

/// How long stopping a service takes in the estimate (a graceful stop of
/// a service that drains nothing).
const STOP_MS: u64 = 200;

/// The service steps of a host with no hop on record: for each wave of
/// services (`start_waits`, in ms: how long each one's manager waits
/// before it calls it started, supervisord's `startsecs`) a stop and a
/// start as long as its slowest, since a wave's services stop and start
/// together; then the longest settle time (services settle together), and
/// the RPMs written at 50 MiB/s.
pub fn estimate(start_waits: &[Vec<u64>], settle_ms: u64, rpm_bytes: u64) -> ServiceSteps {
    let services_ms: u64 = start_waits
        .iter()
        .map(|wave| STOP_MS + wave.iter().copied().max().unwrap_or(0))
        .sum();
    let rpms_ms = rpm_bytes * 1000 / (50 << 20);
    ServiceSteps {
        ms: services_ms + settle_ms + rpms_ms,
        source: format!(
            "an estimate ({} service(s) in {} wave(s) started as their manager waits, {:.1}s to \
             settle, {} of RPMs): this host has no hop on record yet",
            start_waits.iter().map(Vec::len).sum::<usize>(),
            start_waits.len(),
            settle_ms as f64 / 1000.0,
            crate::progress::bytes_text(rpm_bytes)
        ),
    }
}

/// Whether a failure in the offline phase would cost no restore: the
/// phase runs in one transaction (`offline_whole`, its mode on this
/// database) and no online migration committed before the stop.
pub fn offline_failure_needs_no_restore(migrations: &[Measured], offline_whole: bool) -> bool {
    offline_whole && !migrations.iter().any(|m| m.phase == Phase::Online)
}

/// The prediction from the measurements; `offline_whole`: the offline
/// phase runs in one transaction on this database.
pub fn predict(
    migrations: &[Measured],
    dump_ms: u64,
    restore_ms: u64,
    steps: &ServiceSteps,
    offline_whole: bool,
) -> Prediction {
    let phase_ms = |phase: Phase| -> u64 {
        migrations
            .iter()
            .filter(|m| m.phase == phase)
            .map(|m| m.duration_ms)
            .sum()
    };
    let mut by_time: Vec<&Measured> = migrations.iter().collect();
    by_time.sort_by_key(|m| std::cmp::Reverse(m.duration_ms));
    Prediction {
        window_ms: phase_ms(Phase::Offline) + steps.ms,
        rollback_ms: restore_ms + steps.ms,
        offline_failure_rollback_ms: match offline_failure_needs_no_restore(
            migrations,
            offline_whole,
        ) {
            true => steps.ms,
            false => restore_ms + steps.ms,
        },
        before_window_ms: dump_ms + phase_ms(Phase::Online),
        after_commit_ms: phase_ms(Phase::Post),
        slowest: by_time
            .iter()
            .take(3)
            .map(|m| {
                format!(
                    "{} ({}, {:.2}s)",
                    m.file,
                    m.phase,
                    m.duration_ms as f64 / 1000.0
                )
            })
            .collect(),
    }
}

pub(crate) fn secs(ms: u64) -> String {
    format!("{:.2}s", ms as f64 / 1000.0)
}

/// Whether a hop may run under `--max-downtime max`: the detail to show
/// when it may, why not when it may not. Without a rehearsal of this very
/// package on this host there is nothing to go by, so it may not.
pub fn within(rehearsal: Option<&Rehearsal>, max: std::time::Duration) -> Result<String, String> {
    let max_ms = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
    let Some(r) = rehearsal else {
        return Err(format!(
            "--max-downtime {} needs a rehearsal of this package on this host, and there is none: \
             run `hop-install rehearse PKG` first",
            humantime::format_duration(max)
        ));
    };
    let predicted = r.prediction.window_ms;
    let text = format!(
        "the rehearsal of {} predicts a downtime window of {} (rollback {})",
        r.rehearsed_at,
        secs(predicted),
        secs(r.prediction.rollback_ms)
    );
    if predicted > max_ms {
        Err(format!("{text}, more than --max-downtime {}", secs(max_ms)))
    } else {
        Ok(format!("{text}, within --max-downtime {}", secs(max_ms)))
    }
}

#[cfg(test)]
mod tests;
