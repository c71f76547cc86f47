//! Install RPMs: the package's components with the system `rpm -U`, in one
//! transaction (after the `pre_install` hook), rpm ordering them by their
//! dependencies; `.rpmnew`/`.rpmsave` files rpm leaves are reported. Undo
//! puts the previous set back: from the original RPM files when hop has
//! verified ones (`rpm -U --oldpackage`), else from the capture the backup
//! took of the host (`capture::restore`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use hop_artifact::PackageManifest;
use hop_artifact::package_manifest::Hook;
use serde::{Deserialize, Serialize};

use super::Context;
use super::backup::Facts;
use crate::action::Action;
use crate::atomic;
use crate::fault;
use crate::host::Host;
use crate::host_state::HostState;
use crate::rpmdb::RpmDb;
use crate::rpmdb::name_of_nevra;
use crate::runner::Command;

/// The point in the middle of the RPM transaction.
const MID: fault::Point = fault::Point::Step(crate::journal::Step::InstallRpms, fault::At::Mid);

/// A config file rpm did not simply replace.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RpmConfig {
    /// The config's path.
    pub path: String,
    /// `.rpmnew` (your file kept, the new one beside it) or `.rpmsave`
    /// (your file saved beside, the new one in place).
    pub beside: String,
}

/// What the step does on a host where each component has the `installed`
/// NEVRAs and hop's record lists the `recorded` ones: the `pre_install`
/// hook, an erase of each recorded component `m` no longer ships (first:
/// it may require the very versions the upgrade replaces), and an install
/// of each component not already at its NEVRA (one rpm transaction).
pub fn actions(
    m: &PackageManifest,
    installed: &BTreeMap<String, Vec<String>>,
    recorded: &[String],
) -> Vec<Action> {
    let hook = hook_action(m, Hook::PreInstall);
    let installs = m.components.iter().filter_map(|c| {
        let now = installed
            .get(&c.name)
            .map(Vec::as_slice)
            .unwrap_or_default();
        (now != [c.nevra()]).then(|| Action::InstallRpm {
            installed: now.first().cloned(),
            to: c.nevra(),
        })
    });
    let erases = erased(m, recorded)
        .into_iter()
        .map(|nevra| Action::EraseRpm { nevra });
    hook.into_iter().chain(erases).chain(installs).collect()
}

/// The `recorded` components (NEVRAs) `m` no longer ships.
pub fn erased(m: &PackageManifest, recorded: &[String]) -> Vec<String> {
    recorded
        .iter()
        .filter(|n| {
            name_of_nevra(n).is_some_and(|name| !m.components.iter().any(|c| c.name == name))
        })
        .cloned()
        .collect()
}

/// Each component's installed NEVRAs.
pub fn installed(db: &RpmDb<'_>, m: &PackageManifest) -> Result<BTreeMap<String, Vec<String>>> {
    m.components
        .iter()
        .map(|c| Ok((c.name.clone(), db.installed(&c.name)?)))
        .collect()
}

/// The components hop's record says the host runs.
pub fn recorded(state: Option<&HostState>) -> Vec<String> {
    state.map(|s| s.components.clone()).unwrap_or_default()
}

pub fn apply(cx: &mut Context<'_>) -> Result<()> {
    let db = RpmDb::new(&cx.runner, &cx.host.root);
    let state = HostState::load(&cx.state_dir)?;
    let plan = actions(
        &cx.manifest,
        &installed(&db, &cx.manifest)?,
        &recorded(state.as_ref()),
    );
    let mut files: Vec<PathBuf> = Vec::new();
    let mut gone: Vec<String> = Vec::new();
    for action in &plan {
        match action {
            Action::RunHook { .. } => {
                run_hook(cx, Hook::PreInstall)?;
                cx.did(action.clone());
            }
            Action::InstallRpm { to, .. } => {
                let c = cx
                    .manifest
                    .components
                    .iter()
                    .find(|c| &c.nevra() == to)
                    .context("a planned RPM is not in the package")?;
                files.push(cx.staging().join(&c.file));
            }
            Action::EraseRpm { nevra } => gone.push(nevra.clone()),
            _ => {}
        }
    }
    let configs = config_paths(&files);
    let before = rpm_config_files(cx.host, &configs)?;
    let old: Vec<String> = cx
        .manifest
        .components
        .iter()
        .map(|c| db.installed(&c.name))
        .collect::<Result<Vec<_>>>()?
        .concat();
    let units_change = has_units(&package_paths(&files))
        || db
            .files(&old)?
            .iter()
            .flat_map(|p| &p.files)
            .any(|f| is_unit(&f.path));
    // Components the installed version had and this one no longer ships.
    db.erase(&gone)?;
    for action in plan.iter().filter(|a| matches!(a, Action::EraseRpm { .. })) {
        cx.did(action.clone());
    }
    if fault::armed(MID) == Some(fault::Action::Kill) {
        // A power cut in the middle of the rpm transaction.
        let handle = db.start_upgrade(&files)?;
        std::thread::sleep(Duration::from_millis(fault::delay_ms().unwrap_or(40)));
        fault::kill_self(handle.pids().first().copied());
    }
    db.upgrade(&files, false)
        .context("installing the new RPMs")?;
    fault::hit(MID).map_err(anyhow::Error::msg)?;
    for action in plan
        .iter()
        .filter(|a| matches!(a, Action::InstallRpm { .. }))
    {
        cx.did(action.clone());
    }
    if units_change {
        cx.services
            .reload_units()
            .context("reloading the changed unit files")?;
    }
    let left: Vec<RpmConfig> = rpm_config_files(cx.host, &configs)?
        .into_iter()
        .filter(|c| !before.contains(c))
        .collect();
    for c in &left {
        cx.out.warn(&if c.beside.ends_with(".rpmnew") {
            format!(
                "{} has local edits: rpm kept it; the new version is {} — merge them by hand",
                c.path, c.beside
            )
        } else {
            format!(
                "{} had local edits: rpm saved them as {} and installed the new version — merge them by hand",
                c.path, c.beside
            )
        });
    }
    atomic::write(
        &cx.op_dir.join("rpm-configs.json"),
        &serde_json::to_vec_pretty(&left)?,
        0o600,
    )?;
    cx.out.step(&format!(
        "    {}",
        cx.manifest
            .components
            .iter()
            .map(|c| c.nevra())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(())
}

/// Whether `path` is a systemd unit file.
fn is_unit(path: &str) -> bool {
    path.contains("/systemd/system/")
}

fn has_units(paths: &[String]) -> bool {
    paths.iter().any(|p| is_unit(p))
}

/// Every path the RPM files install.
fn package_paths(files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .filter_map(|p| {
            rpm::PackageMetadata::open(p)
                .and_then(|m| m.get_file_paths())
                .ok()
        })
        .flatten()
        .map(|p| p.display().to_string())
        .collect()
}

/// The `%config` paths of RPM files.
fn config_paths(files: &[PathBuf]) -> Vec<String> {
    let mut paths = Vec::new();
    for meta in files
        .iter()
        .filter_map(|f| rpm::PackageMetadata::open(f).ok())
    {
        for e in meta.get_file_entries().into_iter().flatten() {
            if e.flags().contains(rpm::FileFlags::CONFIG) {
                paths.push(e.path().display().to_string());
            }
        }
    }
    paths
}

/// The `.rpmnew`/`.rpmsave` files beside `configs` now.
fn rpm_config_files(host: &Host, configs: &[String]) -> Result<Vec<RpmConfig>> {
    let mut found = Vec::new();
    for path in configs {
        for suffix in [".rpmnew", ".rpmsave"] {
            let beside = format!("{path}{suffix}");
            if host.fs.stat(&beside)?.is_some() {
                found.push(RpmConfig {
                    path: path.clone(),
                    beside,
                });
            }
        }
    }
    Ok(found)
}

/// Puts back exactly the RPMs recorded before the operation.
pub fn undo(cx: &Context<'_>, facts: &Facts) -> Result<()> {
    let new_files: Vec<PathBuf> = cx
        .manifest
        .components
        .iter()
        .map(|c| cx.staging().join(&c.file))
        .collect();
    let units_change = has_units(&package_paths(&new_files));
    if let Some(capture) = &facts.capture {
        crate::capture::restore(cx.host, &cx.runner, capture)
            .context("putting the captured RPMs back")?;
    } else {
        reinstall_previous(cx, facts, &new_files)?;
    }
    if units_change {
        cx.services
            .reload_units()
            .context("reloading the unit files")?;
    }
    Ok(())
}

/// The previous RPMs back from their files.
fn reinstall_previous(cx: &Context<'_>, facts: &Facts, new_files: &[PathBuf]) -> Result<()> {
    let db = RpmDb::new(&cx.runner, &cx.host.root);
    let mut names: Vec<String> = facts.rpms.iter().map(|r| r.name.clone()).collect();
    for c in &cx.manifest.components {
        if !names.contains(&c.name) {
            names.push(c.name.clone());
        }
    }
    let mut reinstall = Vec::new();
    let mut erase = Vec::new();
    for name in names {
        let current = db.installed(&name)?;
        match facts.rpms.iter().find(|r| r.name == name) {
            Some(r) if !r.nevras.is_empty() => {
                // Reinstalled even when the database already lists it: a
                // crash inside the rpm transaction can leave the new files
                // on disk while the database still names the old package.
                reinstall.extend(r.files.iter().cloned());
                // It can also leave both versions registered: drop the
                // ones that do not belong.
                erase.extend(current.into_iter().filter(|n| !r.nevras.contains(n)));
            }
            _ => erase.extend(current),
        }
    }
    for file in &reinstall {
        if !file.is_file() {
            bail!("the saved RPM {} is missing", file.display());
        }
    }
    let paths = package_paths(&[reinstall.as_slice(), new_files].concat());
    crate::rpm_leftovers::remove(cx.host, paths.iter().map(String::as_str))?;
    db.erase(&erase)?;
    db.upgrade(&reinstall, true)
        .context("putting the previous RPMs back")?;
    Ok(())
}

/// Runs a hook script from the package: a clean environment but `PATH`
/// and the `HOP_*` variables, the host's root as its working directory,
/// its output into the operation's directory (and the log), its package's
/// timeout, and nothing it started left running when it ends.
/// The action of running `hook`, if `m` has one.
pub fn hook_action(m: &PackageManifest, hook: Hook) -> Option<Action> {
    m.scripts.contains_key(&hook).then(|| Action::RunHook {
        hook: hook.as_str().to_owned(),
    })
}

pub fn run_hook(cx: &Context<'_>, hook: Hook) -> Result<()> {
    let Some(member) = cx.manifest.scripts.get(&hook) else {
        return Ok(());
    };
    let script = cx.staging().join(member);
    let cmd = Command::new(&script.display().to_string())
        .env("HOP_ROOT", cx.host.root.display().to_string())
        .env("HOP_PRODUCT", cx.manifest.product.clone())
        .env("HOP_FROM", cx.manifest.from.to_string())
        .env("HOP_TO", cx.manifest.to.to_string())
        .env("HOP_HOOK", hook.as_str())
        .timeout(cx.manifest.hook_timeout(hook))
        .contained(
            &cx.host.root,
            cx.op_dir.join(format!("{}.out", hook.as_str())),
        );
    cx.runner
        .check(&cmd)
        .with_context(|| format!("the {} hook failed", hook.as_str()))?;
    cx.out.step(&format!("    ran the {} hook", hook.as_str()));
    Ok(())
}
