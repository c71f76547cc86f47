//! Checks of what is installed against what the package expects: the
//! version, the component RPMs (and the files to roll them back), and the
//! rpm transaction.

use std::path::Path;

use hop_artifact::PackageManifest;

use super::{Installed, Level, Preflight};
use crate::host::Host;
use crate::rpmdb::RpmDb;
use crate::runner::Runner;
use crate::state::StateDir;
use crate::steps::backup::rpm_files_in;

pub(super) fn installed_version(
    p: &mut Preflight,
    host: &Host,
    m: &PackageManifest,
    i: &Installed,
) {
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

pub(super) fn components(
    p: &mut Preflight,
    host: &Host,
    runner: &Runner,
    m: &PackageManifest,
    i: &Installed,
) {
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

pub(super) fn rpm_transaction(
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
