//! Checks of what is installed against what the package expects: the
//! version, the component RPMs (and the files to roll them back), and the
//! rpm transaction.

use std::path::Path;

use hop_artifact::PackageManifest;

use super::{CheckId, Installed, Level, Preflight};
use crate::host::Host;
use crate::rpmdb::RpmDb;
use crate::rpmdb::Verified;
use crate::runner::Runner;

pub(super) fn installed_version(
    p: &mut Preflight,
    host: &Host,
    m: &PackageManifest,
    i: &Installed,
) {
    let name = CheckId::InstalledVersion;
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
            Level::Ok,
            format!("this host already runs {v}, this package's to version: nothing to do"),
        );
    } else if *v < m.from {
        p.add(
            name,
            Level::Failure,
            format!(
                "this host runs {v}; this package upgrades {} → {}: bring the host to {} first \
                 (`hop-install upgrade --to {} PACKAGES…` runs every hop in order)",
                m.from, m.to, m.from, m.to
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
            CheckId::VersionRecords,
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
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let mut installed = Vec::new();
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
                installed.push(one.clone());
            }
            many => problems.push(format!(
                "the RPM database lists {} at once: an earlier rpm transaction was interrupted",
                many.join(" and ")
            )),
        }
    }
    if let Some(state) = &i.state {
        for nevra in &state.components {
            if let Some(name) = crate::rpmdb::name_of_nevra(nevra)
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
    match crate::rpm_sources::find(host, runner, &installed) {
        Ok(sources) => {
            problems.extend(sources.refused.iter().cloned());
            notes.push(if sources.cover(&installed) {
                "a rollback reinstalls their original RPM files".to_owned()
            } else {
                "a rollback puts back what hop captures from the host before the first change"
                    .to_owned()
            });
        }
        Err(e) => problems.push(format!("{e:#}")),
    }
    if problems.is_empty() {
        let mut text = format!("the {} set is installed", m.from);
        if !notes.is_empty() {
            text += &format!("; {}", notes.join("; "));
        }
        p.add(CheckId::Components, Level::Ok, text);
    } else {
        p.add(CheckId::Components, Level::Failure, problems.join("; "));
    }
    installed_files(p, &db, &installed);
}

/// `rpm -V` of the installed components: a `%config` file the user edited
/// is kept (WARNING); any other changed or missing file would be lost or
/// trip the upgrade (FAILURE, naming the files).
fn installed_files(p: &mut Preflight, db: &RpmDb<'_>, installed: &[String]) {
    let names: Vec<String> = installed
        .iter()
        .filter_map(|n| crate::rpmdb::name_of_nevra(n))
        .collect();
    let lines = match db.verify(&names) {
        Ok(l) => l,
        Err(e) => {
            p.add(
                CheckId::InstalledFiles,
                Level::Failure,
                format!("rpm -V: {e:#}"),
            );
            return;
        }
    };
    let (edited, changed): (Vec<Verified>, Vec<Verified>) = lines
        .into_iter()
        .partition(|v| v.config && v.result != "missing");
    if !changed.is_empty() {
        p.add(
            CheckId::InstalledFiles,
            Level::Failure,
            format!(
                "{} differ from what the RPM database records ({}); the upgrade would replace or trip on them: \
                 undo the change or reinstall the package (`rpm -V {}` shows what differs), then check again",
                changed.iter().map(|v| v.path.as_str()).collect::<Vec<_>>().join(", "),
                changed.iter().map(|v| v.result.as_str()).collect::<Vec<_>>().join(", "),
                names.join(" ")
            ),
        );
    } else if !edited.is_empty() {
        p.add(
            CheckId::InstalledFiles,
            Level::Warning,
            format!(
                "{} edited here: kept (rpm writes the new version beside it as .rpmnew)",
                edited
                    .iter()
                    .map(|v| v.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    } else {
        p.add(
            CheckId::InstalledFiles,
            Level::Ok,
            "rpm -V: as the RPM database records them",
        );
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
    // What the step erases before it installs: their requirements do not
    // hold the upgrade back.
    let state = crate::host_state::HostState::load(&host.state())
        .ok()
        .flatten();
    let erased = crate::steps::rpms::erased(m, &crate::steps::rpms::recorded(state.as_ref()));
    match RpmDb::new(runner, &host.root).test_upgrade(&files) {
        Ok(()) => p.add(CheckId::RpmTransaction, Level::Ok, "rpm -U --test passes"),
        Err(e) => match remaining_problems(&e, &erased) {
            None => p.add(
                CheckId::RpmTransaction,
                Level::Ok,
                format!(
                    "rpm -U --test passes once {} (no longer shipped) is erased, as the upgrade does",
                    erased.join(", ")
                ),
            ),
            Some(problems) => p.add(
                CheckId::RpmTransaction,
                Level::Failure,
                explain_transaction(&problems, m),
            ),
        },
    }
}

/// The problems of `rpm -U --test` that are not requirements of packages
/// the upgrade erases first (`erased`); none if nothing else is left.
pub fn remaining_problems(problems: &str, erased: &[String]) -> Option<String> {
    let left: Vec<&str> = problems
        .split(';')
        .map(str::trim)
        .filter(|part| !part.is_empty() && !part.starts_with("error: Failed dependencies"))
        .filter(|part| {
            !part
                .split_once(" is needed by (installed) ")
                .is_some_and(|(_, by)| erased.iter().any(|e| e == by.trim()))
        })
        .collect();
    (!left.is_empty()).then(|| problems.to_owned())
}

/// Names the packages from outside the product that hold the upgrade back.
pub fn explain_transaction(problems: &str, m: &PackageManifest) -> String {
    let mut outside: Vec<String> = Vec::new();
    for part in problems.split(';') {
        let part = part.trim();
        let Some((needed, by)) = part.split_once(" is needed by (installed) ") else {
            continue;
        };
        let by = by.trim().to_owned();
        let ours = m
            .components
            .iter()
            .any(|c| by.starts_with(&format!("{}-", c.name)));
        if !ours {
            outside.push(format!(
                "{by}, installed from outside the product, requires {needed}: upgrade {by} to a \
                 version that works with {} {}, or remove it, then check again",
                m.product, m.to
            ));
        }
    }
    if outside.is_empty() {
        format!("rpm -U --test fails: {problems}")
    } else {
        outside.join("; ")
    }
}

#[cfg(test)]
mod transaction_tests {
    use super::remaining_problems;

    const PROBLEMS: &str = "error: Failed dependencies:; manager-common = 4.1.1-1 is needed by \
                            (installed) cli-4.1.1-1.noarch";

    #[test]
    fn a_requirement_of_a_package_the_upgrade_erases_holds_nothing_back() {
        assert_eq!(
            remaining_problems(PROBLEMS, &["cli-4.1.1-1.noarch".to_owned()]),
            None
        );
        assert_eq!(
            remaining_problems(PROBLEMS, &[]).as_deref(),
            Some(PROBLEMS),
            "a package from outside the product still holds it back"
        );
    }
}
