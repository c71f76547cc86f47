//! The preflight: every check that can fail an upgrade, run before anything
//! changes. `check` prints it as a table; `apply` refuses on any FAILURE.
//! The checks live by subject in `host`, `software` and `database`.

mod accept;
mod check_id;
mod cluster;
mod configs;
mod database;
mod host;
mod software;
mod vendor;

use std::path::Path;

use hop_artifact::package_manifest::VendorCheck;
use hop_artifact::version::Version;
use serde::Serialize;

use crate::host::Host;
use crate::host_state::HostState;
use crate::journal::Scope;
use crate::package::Verified;
use crate::rpmdb::RpmDb;
use crate::runner::Runner;

pub use accept::{Accept, Accepted};
pub use check_id::CheckId;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// Not run: what it checks presupposes something an earlier check
    /// found is not so (the details say which).
    Skipped,
    Ok,
    Warning,
    Failure,
}

impl Level {
    /// `SKIPPED`, `OK`, `WARNING`, `FAILURE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Skipped => "SKIPPED",
            Level::Ok => "OK",
            Level::Warning => "WARNING",
            Level::Failure => "FAILURE",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// The stable id (`hop.disk-space`): what `--accept` names.
    pub id: String,
    pub check: String,
    /// Whether `--accept` may let this result pass.
    #[serde(skip)]
    pub waivable: bool,
    pub result: Level,
    pub details: String,
    /// Set when the operator accepted this result: the reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<String>,
}

impl Check {
    /// A result of hop's own check `id`.
    pub fn of(id: CheckId, result: Level, details: impl Into<String>) -> Self {
        Check {
            id: id.id().to_owned(),
            check: id.title().to_owned(),
            waivable: id.may_accept(),
            result,
            details: details.into(),
            accepted: None,
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Preflight {
    pub checks: Vec<Check>,
}

impl Preflight {
    fn add(&mut self, check: CheckId, result: Level, details: impl Into<String>) {
        self.checks.push(Check::of(check, result, details));
    }

    /// Records hop's checks `ours` and the vendor's `theirs` as not run,
    /// because `why`.
    fn skip(&mut self, ours: &[CheckId], theirs: &[&VendorCheck], why: &str) {
        let details = format!("not checked: {why}");
        for &c in ours {
            self.add(c, Level::Skipped, details.clone());
        }
        for v in theirs {
            self.checks.push(Check {
                id: v.id.clone(),
                check: v.title.clone(),
                waivable: false,
                result: Level::Skipped,
                details: details.clone(),
                accepted: None,
            });
        }
    }

    /// The `downtime` line: what this package's rehearsal predicts, and
    /// whether that is within `--max-downtime` (no line without either).
    pub fn downtime(
        &mut self,
        rehearsal: Option<&crate::rehearsal::Rehearsal>,
        max: Option<std::time::Duration>,
    ) {
        match (rehearsal, max) {
            (None, None) => {}
            (Some(r), None) => self.add(
                CheckId::Downtime,
                Level::Ok,
                format!(
                    "the rehearsal of {} predicts a downtime window of {:.2}s (rollback {:.2}s)",
                    r.rehearsed_at,
                    r.prediction.window_ms as f64 / 1000.0,
                    r.prediction.rollback_ms as f64 / 1000.0
                ),
            ),
            (r, Some(max)) => match crate::rehearsal::within(r, max) {
                Ok(detail) => self.add(CheckId::Downtime, Level::Ok, detail),
                Err(why) => self.add(CheckId::Downtime, Level::Failure, why),
            },
        }
    }

    /// The `downtime` line of a rehearsal that no longer describes the
    /// database: a FAILURE when `--max-downtime` relies on it.
    pub fn stale_rehearsal(&mut self, why: &str, relied_on: bool) {
        let level = if relied_on {
            Level::Failure
        } else {
            Level::Warning
        };
        self.add(CheckId::Downtime, level, why);
    }

    /// The worst result no operator accepted.
    pub fn worst(&self) -> Level {
        self.checks
            .iter()
            .filter(|c| c.accepted.is_none())
            .map(|c| c.result)
            .max()
            .unwrap_or(Level::Ok)
    }

    /// The FAILUREs no operator accepted.
    pub fn failures(&self) -> Vec<&Check> {
        self.checks
            .iter()
            .filter(|c| c.result == Level::Failure && c.accepted.is_none())
            .collect()
    }

    /// The table `check` prints.
    pub fn render(&self) -> String {
        let width = self
            .checks
            .iter()
            .map(|c| c.check.len())
            .max()
            .unwrap_or(5)
            .max(5);
        let ids = self.checks.iter().map(|c| c.id.len()).max().unwrap_or(2);
        let mut out = format!(
            "{:<width$}  {:<ids$}  {:<8}  DETAILS\n",
            "CHECK", "ID", "RESULT"
        );
        for c in &self.checks {
            let (result, details) = match &c.accepted {
                Some(reason) => (
                    "ACCEPTED",
                    format!(
                        "{} (was {}; accepted: {reason})",
                        c.details,
                        c.result.as_str()
                    ),
                ),
                None => (c.result.as_str(), c.details.clone()),
            };
            out += &format!(
                "{:<width$}  {:<ids$}  {result:<8}  {}\n",
                c.check,
                c.id,
                crate::terminal::printable(&details).replace('\n', " ")
            );
        }
        out
    }
}

/// Why the checks after the version check cannot mean anything, if they
/// cannot: the host does not run the version the operation starts from
/// (or already runs where it ends: nothing to do).
pub fn version_stops_the_rest(
    m: &hop_artifact::PackageManifest,
    installed: &Installed,
    scope: Scope,
) -> Option<String> {
    let expected = match scope {
        Scope::Contract | Scope::Unpin => &m.to,
        _ => &m.from,
    };
    match &installed.version {
        Some(v) if v == expected => None,
        Some(v) if *v == m.to => Some(format!("this host already runs {v}: nothing to do")),
        Some(v) => Some(format!(
            "they presuppose the host runs {expected}, and it runs {v} (see installed version)"
        )),
        None => Some("they presuppose a known installed version (see installed version)".into()),
    }
}

/// hop's checks that presuppose the installed version in an operation of
/// `scope`: what is skipped (with the vendor's) when it is not the expected one.
fn presupposing_the_version(scope: Scope) -> Vec<CheckId> {
    CheckId::ALL
        .into_iter()
        .filter(|c| c.presupposes_the_version())
        .filter(|c| match c {
            CheckId::Components | CheckId::InstalledFiles | CheckId::RpmTransaction => {
                scope.changes_rpms()
            }
            CheckId::Configs => scope.changes_software(),
            CheckId::DiskSpace | CheckId::Services => scope != Scope::Contract,
            _ => true,
        })
        .collect()
}

/// What version the host runs, and where that came from.
#[derive(Clone, Debug)]
pub struct Installed {
    pub version: Option<Version>,
    pub state: Option<HostState>,
    pub rpm_version: Option<String>,
}

/// Reads the installed version: hop's state, else the RPM database.
pub fn installed(host: &Host, runner: &Runner) -> anyhow::Result<Installed> {
    let state = HostState::load(&host.state())?;
    let rpm_version = RpmDb::new(runner, &host.root).version_of(&host.config.version_from_rpm)?;
    let version = match &state {
        Some(s) => Some(s.version.clone()),
        None => rpm_version.as_deref().and_then(|v| Version::parse(v).ok()),
    };
    Ok(Installed {
        version,
        state,
        rpm_version,
    })
}

/// Runs every check an operation of `scope` needs for `verified` on
/// `host`; `payload` holds the package's extracted payload (for `rpm
/// --test` and the migrations).
pub fn run(
    host: &Host,
    verified: &Verified,
    runner: &Runner,
    payload: &Path,
    scope: Scope,
) -> Preflight {
    let mut p = Preflight::default();
    let m = &verified.manifest;
    p.add(
        CheckId::Signature,
        Level::Ok,
        format!(
            "signed by {}{}",
            verified.signer.fingerprint,
            verified
                .signer
                .user_id
                .as_ref()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default()
        ),
    );
    host::privileges(&mut p, host);
    host::unfinished(&mut p, host);
    if p.worst() == Level::Failure {
        // Until it is resumed or rolled back, the host is between versions
        // and every other check would only describe that.
        return p;
    }
    if m.product == host.config.product {
        p.add(CheckId::Product, Level::Ok, m.product.clone());
    } else {
        p.add(
            CheckId::Product,
            Level::Failure,
            format!(
                "this package is for {}, this host runs {}; use a {} package",
                m.product, host.config.product, host.config.product
            ),
        );
        return p;
    }
    let backend = host.database_url().ok().map(|u| u.backend());
    if scope != Scope::Host && !cluster::rolling(&mut p, m, backend) {
        return p;
    }
    let installed = match installed(host, runner) {
        Ok(i) => i,
        Err(e) => {
            p.add(CheckId::InstalledVersion, Level::Failure, format!("{e:#}"));
            return p;
        }
    };
    if matches!(scope, Scope::Contract | Scope::Unpin) {
        cluster::node_runs_to(&mut p, m, &installed);
    } else {
        software::installed_version(&mut p, host, m, &installed);
    }
    if let Some(why) = version_stops_the_rest(m, &installed, scope) {
        // Everything else presupposes the version: checking it would only
        // describe the mismatch again, with advice for another host.
        let vendor: Vec<&VendorCheck> = m.checks.iter().collect();
        p.skip(&presupposing_the_version(scope), &vendor, &why);
        return p;
    }
    if scope.changes_rpms() {
        software::components(&mut p, host, runner, m, &installed);
        software::rpm_transaction(&mut p, host, runner, m, payload);
    }
    if scope.changes_software() {
        configs::configs(&mut p, host, m);
    }
    let url = match host.database_url() {
        Ok(url) => url,
        Err(e) => {
            p.add(CheckId::Database, Level::Failure, format!("{e:#}"));
            return p;
        }
    };
    runner.log.add_secret(&url.password().unwrap_or_default());
    match scope {
        Scope::Host | Scope::Expand => {
            database::database(&mut p, m, &url, &installed, payload, scope)
        }
        Scope::Node | Scope::Contract => {
            let me = (host.node_name(), host.machine());
            cluster::expanded(&mut p, m, &url, payload, scope, (&me.0, &me.1))
        }
        Scope::Unpin => {}
    }
    if scope != Scope::Contract {
        host::disk_space(&mut p, host, runner, m, &url, scope);
        host::services(&mut p, host, runner, m);
    }
    vendor::checks(&mut p, host, m, runner, payload);
    p
}
