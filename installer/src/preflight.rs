//! The preflight: every check that can fail an upgrade, run before anything
//! changes. `check` prints it as a table; `apply` refuses on any FAILURE.

use std::path::Path;

use hop_artifact::PackageManifest;
use hop_artifact::migration::Phase;
use hop_artifact::version::Version;
use hop_migrate::{DatabaseUrl, Migrator, Options, engine::State};
use serde::Serialize;

use crate::host::Host;
use crate::journal;
use crate::package::{self, Verified};
use crate::rpmdb::RpmDb;
use crate::runner::Runner;
use crate::services::ServiceState;
use crate::state::{HostState, StateDir};
use crate::steps::backup::rpm_files_in;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Ok,
    Warning,
    Failure,
}

#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub check: &'static str,
    pub result: Level,
    pub details: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Preflight {
    pub checks: Vec<Check>,
}

impl Preflight {
    fn add(&mut self, check: &'static str, result: Level, details: impl Into<String>) {
        self.checks.push(Check {
            check,
            result,
            details: details.into(),
        });
    }

    pub fn worst(&self) -> Level {
        self.checks
            .iter()
            .map(|c| c.result)
            .max()
            .unwrap_or(Level::Ok)
    }

    pub fn failures(&self) -> Vec<&Check> {
        self.checks
            .iter()
            .filter(|c| c.result == Level::Failure)
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
        let mut out = format!("{:<width$}  {:<8}  DETAILS\n", "CHECK", "RESULT");
        for c in &self.checks {
            let result = match c.result {
                Level::Ok => "OK",
                Level::Warning => "WARNING",
                Level::Failure => "FAILURE",
            };
            out += &format!("{:<width$}  {result:<8}  {}\n", c.check, c.details);
        }
        out
    }
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
    let state = HostState::load(&StateDir::of(host))?;
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

/// Runs every check for `verified` on `host`; `payload` holds the
/// package's extracted payload (for `rpm --test` and the migrations).
pub fn run(host: &Host, verified: &Verified, runner: &Runner, payload: &Path) -> Preflight {
    let mut p = Preflight::default();
    let m = &verified.manifest;
    p.add(
        "signature",
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
    privileges(&mut p, host);
    unfinished(&mut p, host);
    if p.worst() == Level::Failure {
        // Until it is resumed or rolled back, the host is between versions
        // and every other check would only describe that.
        return p;
    }
    if m.product == host.config.product {
        p.add("product", Level::Ok, m.product.clone());
    } else {
        p.add(
            "product",
            Level::Failure,
            format!(
                "this package is for {}, this host runs {}; use a {} package",
                m.product, host.config.product, host.config.product
            ),
        );
        return p;
    }
    let installed = match installed(host, runner) {
        Ok(i) => i,
        Err(e) => {
            p.add("installed version", Level::Failure, format!("{e:#}"));
            return p;
        }
    };
    installed_version(&mut p, host, m, &installed);
    components(&mut p, host, runner, m, &installed);
    rpm_transaction(&mut p, host, runner, m, payload);
    let url = DatabaseUrl::parse(&host.config.database.url, &host.root);
    match url {
        Ok(url) => {
            runner.log.add_secret(&url.password().unwrap_or_default());
            database(&mut p, m, &url, &installed, payload);
            disk_space(&mut p, host, m, &url);
        }
        Err(e) => p.add("database", Level::Failure, e.to_string()),
    }
    services(&mut p, host, runner, m);
    p
}

fn privileges(p: &mut Preflight, host: &Host) {
    let euid = nix::unistd::geteuid();
    if host.root == Path::new("/") && !euid.is_root() {
        p.add(
            "privileges",
            Level::Failure,
            format!(
                "hop-install changes /, which needs root (running as uid {euid}); run it with sudo"
            ),
        );
    }
}

fn unfinished(p: &mut Preflight, host: &Host) {
    match journal::find_open(&StateDir::of(host)) {
        Ok(None) => p.add("unfinished operation", Level::Ok, "none"),
        Ok(Some(j)) if j.touched(journal::Step::PostMigrations) => p.add(
            "unfinished operation",
            Level::Failure,
            format!(
                "the post migrations of {} did not finish; run `hop-install resume` to finish them before the next hop",
                j.title()
            ),
        ),
        Ok(Some(j)) => p.add(
            "unfinished operation",
            Level::Failure,
            format!(
                "{} (started {}) did not finish; run `hop-install resume` or `hop-install rollback` first",
                j.title(),
                j.started_at
            ),
        ),
        Err(e) => p.add("unfinished operation", Level::Failure, format!("{e:#}")),
    }
}

fn installed_version(p: &mut Preflight, host: &Host, m: &PackageManifest, i: &Installed) {
    let name = "installed version";
    let Some(v) = &i.version else {
        p.add(
            name,
            Level::Failure,
            format!(
                "cannot tell which version runs here: {} is not installed and hop has no record",
                host.config.version_from_rpm
            ),
        );
        return;
    };
    let source = if i.state.is_some() {
        "hop's record"
    } else {
        "the RPM database"
    };
    if *v == m.from {
        p.add(
            name,
            Level::Ok,
            format!("{v} (from {source}) is this package's from version"),
        );
    } else if *v == m.to {
        p.add(
            name,
            Level::Failure,
            format!("this host already runs {v}; nothing to do"),
        );
    } else if *v < m.from {
        p.add(
            name,
            Level::Failure,
            format!(
                "this host runs {v}; this package upgrades {} → {}; apply the {v} → {} package first",
                m.from, m.to, m.from
            ),
        );
    } else {
        p.add(
            name,
            Level::Failure,
            format!(
                "this host runs {v}, newer than this package's {} → {}; hop does not downgrade",
                m.from, m.to
            ),
        );
    }
    if let (Some(state), Some(rpm)) = (&i.state, &i.rpm_version)
        && state.version.as_str() != rpm
    {
        p.add(
            "version records agree",
            Level::Failure,
            format!(
                "hop's record says {} but the RPM database has {} {rpm}; something changed the host outside hop",
                state.version, host.config.version_from_rpm
            ),
        );
    }
}

fn components(p: &mut Preflight, host: &Host, runner: &Runner, m: &PackageManifest, i: &Installed) {
    let db = RpmDb::new(runner, &host.root);
    let sd = StateDir::of(host);
    let mut dirs = vec![sd.rpms()];
    if let Some(cache) = &host.config.rpm_cache {
        dirs.push(host.path(cache));
    }
    let files = rpm_files_in(&dirs);
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    for c in &m.components {
        let current = match db.installed(&c.name) {
            Ok(c) => c,
            Err(e) => {
                problems.push(format!("{e:#}"));
                continue;
            }
        };
        match current.as_slice() {
            [] => notes.push(format!("{} is new in {}", c.name, m.to)),
            [one] => {
                let expected_from = format!("{}-{}-", c.name, m.from);
                if !(one.starts_with(&expected_from) || *one == c.nevra()) {
                    problems.push(format!("{one} is installed, not {} {}", c.name, m.from));
                }
                if !files.iter().any(|(n, _)| n == one) {
                    problems.push(format!(
                        "no RPM file for {one}, so a rollback could not put it back; copy it into {}",
                        host.config.rpm_cache.as_deref().unwrap_or("the rpm_cache named in host.yaml")
                    ));
                }
            }
            many => problems.push(format!(
                "the RPM database lists {} at once: an earlier rpm transaction was interrupted",
                many.join(" and ")
            )),
        }
    }
    if let Some(state) = &i.state {
        for nevra in &state.components {
            if let Some(name) = crate::steps::backup::name_of_nevra(nevra)
                && db
                    .installed(&name)
                    .map(|c| !c.contains(nevra))
                    .unwrap_or(true)
            {
                problems.push(format!(
                    "hop installed {nevra}, but it is no longer installed"
                ));
            }
        }
    }
    if problems.is_empty() {
        let mut text = format!("the {} set is installed", m.from);
        if !notes.is_empty() {
            text += &format!("; {}", notes.join("; "));
        }
        p.add("components", Level::Ok, text);
    } else {
        p.add("components", Level::Failure, problems.join("; "));
    }
}

fn rpm_transaction(
    p: &mut Preflight,
    host: &Host,
    runner: &Runner,
    m: &PackageManifest,
    payload: &Path,
) {
    let files: Vec<_> = m.components.iter().map(|c| payload.join(&c.file)).collect();
    match RpmDb::new(runner, &host.root).test_upgrade(&files) {
        Ok(()) => p.add("rpm transaction", Level::Ok, "rpm -U --test passes"),
        Err(e) => p.add(
            "rpm transaction",
            Level::Failure,
            format!("rpm -U --test fails: {e}"),
        ),
    }
}

fn database(
    p: &mut Preflight,
    m: &PackageManifest,
    url: &DatabaseUrl,
    i: &Installed,
    payload: &Path,
) {
    let backend = url.backend();
    let min = m
        .database
        .as_ref()
        .and_then(|d| d.min_server_version.get(&backend));
    if !m.migrations.is_empty() && min.is_none() {
        p.add(
            "database",
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
            p.add("database", Level::Failure, e.to_string());
            return;
        }
    };
    match migrator.check_compatibility(min.map(String::as_str)) {
        Ok(facts) => p.add(
            "database",
            Level::Ok,
            format!("{backend} {} at {url}", facts.version),
        ),
        Err(e) => {
            p.add("database", Level::Failure, e.to_string());
            return;
        }
    }
    let scripts = match package::scripts(m, payload, backend) {
        Ok(s) => s,
        Err(e) => {
            p.add("schema history", Level::Failure, format!("{e:#}"));
            return;
        }
    };
    let hop = format!("{}→{}", m.from, m.to);
    if let Err(e) = migrator.validate(&scripts, &hop) {
        p.add("schema history", Level::Failure, e.to_string());
        return;
    }
    let status = match migrator.status(&scripts) {
        Ok(s) => s,
        Err(e) => {
            p.add("schema history", Level::Failure, e.to_string());
            return;
        }
    };
    if let Some(state) = &i.state
        && let Some(beyond) = status
            .entries
            .iter()
            .find(|e| e.version > state.last_migration && !matches!(e.state, State::Pending))
    {
        p.add(
            "schema history",
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
            "previous post migrations",
            Level::Failure,
            format!(
                "{} of the previous hop did not finish; run `hop-install resume` to finish it before the next hop",
                unfinished.join(", ")
            ),
        );
    } else {
        p.add("previous post migrations", Level::Ok, "complete");
    }
    let (online, _) = status.counts(Phase::Online);
    let (offline, _) = status.counts(Phase::Offline);
    let (post, _) = status.counts(Phase::Post);
    p.add(
        "schema history",
        Level::Ok,
        format!("consistent; pending: {online} online, {offline} offline, {post} post"),
    );
}

fn supported(m: &PackageManifest) -> String {
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

fn disk_space(p: &mut Preflight, host: &Host, m: &PackageManifest, url: &DatabaseUrl) {
    let payload: u64 = m.members.iter().map(|mb| mb.size).sum();
    let database = Migrator::connect(url, Options::default())
        .and_then(|mut mg| mg.database_size())
        .unwrap_or(0);
    // Staging + the database dump + the old RPMs (about as big as the new).
    let needed = (payload + database + payload) / 10 * 11;
    let sd = StateDir::of(host);
    let mut probe = sd.dir.clone();
    while !probe.exists() {
        if !probe.pop() {
            break;
        }
    }
    match nix::sys::statvfs::statvfs(&probe) {
        Ok(fs) => {
            let free = fs.blocks_available() * fs.fragment_size();
            let mib = |b: u64| b as f64 / (1 << 20) as f64;
            if free >= needed {
                p.add(
                    "disk space",
                    Level::Ok,
                    format!(
                        "{:.1} MiB free, {:.1} MiB needed for staging and backups",
                        mib(free),
                        mib(needed)
                    ),
                );
            } else {
                p.add(
                    "disk space",
                    Level::Failure,
                    format!("{:.1} MiB free under {}, {:.1} MiB needed for staging and backups; free some space", mib(free), probe.display(), mib(needed)),
                );
            }
        }
        Err(e) => p.add(
            "disk space",
            Level::Warning,
            format!("cannot measure free space: {e}"),
        ),
    }
}

fn services(p: &mut Preflight, host: &Host, runner: &Runner, m: &PackageManifest) {
    let manager = crate::services::for_host(host, runner);
    let current = crate::package::load_manifest(&StateDir::of(host).installed().join("hop.yaml"))
        .map(|i| i.services)
        .unwrap_or_else(|_| m.services.clone());
    let mut bad = Vec::new();
    for s in &current {
        match manager.status(&s.name) {
            Ok(ServiceState::Running { .. }) => {
                if let Err(e) = crate::health::probe_once(&s.health.probe, runner) {
                    bad.push(format!("{} runs but is not healthy ({e})", s.name));
                }
            }
            Ok(other) => bad.push(format!(
                "{} is not running ({other:?}); start it, then check again",
                s.name
            )),
            Err(e) => bad.push(format!("{}: {e:#}", s.name)),
        }
    }
    if bad.is_empty() {
        let names: Vec<&str> = current.iter().map(|s| s.name.as_str()).collect();
        p.add(
            "services",
            Level::Ok,
            format!("{} running and healthy", names.join(", ")),
        );
    } else {
        p.add("services", Level::Failure, bad.join("; "));
    }
}
