//! Checks of the host itself: privileges, an unfinished operation, free
//! disk, and the running services.

use std::path::Path;

use hop_artifact::PackageManifest;
use hop_migrate::{DatabaseUrl, Migrator, Options};

use super::{CheckId, Level, Preflight};
use crate::host::Host;
use crate::journal;
use crate::journal::Scope;
use crate::rpmdb::RpmDb;
use crate::runner::Runner;
use crate::services::ServiceState;

pub(super) fn privileges(p: &mut Preflight, host: &Host) {
    let euid = nix::unistd::geteuid();
    if host.root == Path::new("/") && !euid.is_root() {
        p.add(
            CheckId::Privileges,
            Level::Failure,
            format!(
                "hop-install changes /, which needs root (running as uid {euid}); run it with sudo"
            ),
        );
    }
}

pub(super) fn unfinished(p: &mut Preflight, host: &Host) {
    match journal::find_open(&host.state()) {
        Ok(None) => p.add(CheckId::UnfinishedOperation, Level::Ok, "none"),
        Ok(Some(j)) if j.touched(journal::Step::PostMigrations) => p.add(
            CheckId::UnfinishedOperation,
            Level::Failure,
            format!(
                "the post migrations of {} did not finish; run `hop-install resume` to finish them before the next hop",
                j.title()
            ),
        ),
        Ok(Some(j)) => p.add(
            CheckId::UnfinishedOperation,
            Level::Failure,
            format!(
                "{} (started {}) did not finish; run `hop-install resume` or `hop-install rollback` first",
                j.title(),
                j.started_at
            ),
        ),
        Err(e) => p.add(CheckId::UnfinishedOperation, Level::Failure, format!("{e:#}")),
    }
}

pub(super) fn disk_space(
    p: &mut Preflight,
    host: &Host,
    runner: &Runner,
    m: &PackageManifest,
    url: &DatabaseUrl,
    scope: Scope,
) {
    let payload: u64 = m.members.iter().map(|mb| mb.size).sum();
    let database = if scope.changes_database() {
        Migrator::connect(url, Options::default())
            .and_then(|mut mg| mg.database_size())
            .unwrap_or(0)
    } else {
        0
    };
    let names: Vec<String> = m.components.iter().map(|c| c.name.clone()).collect();
    let installed = if scope.changes_software() {
        RpmDb::new(runner, &host.root)
            .installed_size(&names)
            .unwrap_or(payload)
    } else {
        0
    };
    // Staging + the database dump + the installed RPMs' files (captured
    // for the rollback when the host has no RPM files).
    let needed = (payload + database + installed) / 10 * 11;
    let sd = host.state();
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
                    CheckId::DiskSpace,
                    Level::Ok,
                    format!(
                        "{:.1} MiB free, {:.1} MiB needed for staging and backups",
                        mib(free),
                        mib(needed)
                    ),
                );
            } else {
                p.add(
                    CheckId::DiskSpace,
                    Level::Failure,
                    format!("{:.1} MiB free under {}, {:.1} MiB needed for staging and backups; free some space", mib(free), probe.display(), mib(needed)),
                );
            }
        }
        Err(e) => p.add(
            CheckId::DiskSpace,
            Level::Warning,
            format!("cannot measure free space: {e}"),
        ),
    }
}

pub(super) fn services(p: &mut Preflight, host: &Host, runner: &Runner, m: &PackageManifest) {
    let manager = match crate::services::for_host(host, runner) {
        Ok(m) => m,
        Err(e) => {
            p.add(CheckId::Services, Level::Failure, format!("{e:#}"));
            return;
        }
    };
    let current = crate::package::load_manifest(&host.state().installed().join("hop.yaml"))
        .map(|i| i.services)
        .unwrap_or_else(|_| m.services.clone());
    let mut bad = Vec::new();
    for s in &current {
        match manager.status(&s.name) {
            Ok(ServiceState::Running { .. }) => {
                if let Err(e) =
                    crate::health::probe_once(&s.health.probe, runner, manager.as_ref(), &s.name)
                {
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
            CheckId::Services,
            Level::Ok,
            format!("{} running and healthy", names.join(", ")),
        );
    } else {
        p.add(CheckId::Services, Level::Failure, bad.join("; "));
    }
    // The manager's own stop timeout bounds the window too.
    let longer: Vec<String> = current
        .iter()
        .filter_map(|s| {
            let own = manager.own_stop_timeout(&s.name)?;
            (own > s.stop_timeout).then(|| {
                format!(
                    "{} (the unit waits up to {}, the package says {})",
                    s.name,
                    humantime::format_duration(own),
                    humantime::format_duration(s.stop_timeout)
                )
            })
        })
        .collect();
    if !longer.is_empty() {
        p.add(
            CheckId::StopTimeouts,
            Level::Warning,
            format!(
                "the service manager may take longer to stop {} than the package expects: the downtime window may be longer",
                longer.join(", ")
            ),
        );
    }
}
