//! Install RPMs: the package's components with the system `rpm -U`, in one
//! transaction (after the `pre_install` hook); undo puts the recorded
//! previous set back with `rpm -U --oldpackage`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use hop_artifact::package_manifest::Hook;

use super::Context;
use super::backup::{Facts, name_of_nevra};
use crate::fault::{self, Action};
use crate::rpmdb::RpmDb;
use crate::runner::Cmd;
use crate::state::HostState;

pub fn apply(cx: &mut Context<'_>) -> Result<()> {
    run_hook(cx, Hook::PreInstall)?;
    let db = RpmDb::new(&cx.runner, &cx.host.root);
    let mut files: Vec<PathBuf> = Vec::new();
    for c in &cx.manifest.components {
        if db.installed(&c.name)? != [c.nevra()] {
            files.push(cx.staging().join(&c.file));
        }
    }
    if fault::armed("install_rpms.mid") == Some(Action::Kill) {
        // A power cut in the middle of the rpm transaction.
        let handle = db.start_upgrade(&files)?;
        std::thread::sleep(Duration::from_millis(fault::delay_ms().unwrap_or(40)));
        fault::kill_self(handle.pids().first().copied());
    }
    db.upgrade(&files, false)
        .context("installing the new RPMs")?;
    fault::hit("install_rpms.mid").map_err(anyhow::Error::msg)?;

    // Components the installed version had and this one no longer ships.
    if let Some(state) = HostState::load(&cx.state_dir)? {
        let gone: Vec<String> = state
            .components
            .iter()
            .filter(|n| {
                name_of_nevra(n)
                    .is_some_and(|name| !cx.manifest.components.iter().any(|c| c.name == name))
            })
            .cloned()
            .collect();
        db.erase(&gone)?;
    }
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

/// Puts back exactly the RPMs recorded before the operation.
pub fn undo(cx: &Context<'_>, facts: &Facts) -> Result<()> {
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
    let new_files: Vec<PathBuf> = cx
        .manifest
        .components
        .iter()
        .map(|c| cx.staging().join(&c.file))
        .collect();
    remove_rpm_leftovers(&cx.host.root, reinstall.iter().chain(&new_files))?;
    db.erase(&erase)?;
    db.upgrade(&reinstall, true)
        .context("putting the previous RPMs back")?;
    Ok(())
}

/// Removes what a killed rpm transaction leaves beside the files it was
/// writing: `path;<transaction id>` temporaries, which trip a new
/// transaction that gets the same id (it is the time in seconds).
fn remove_rpm_leftovers<'a>(
    root: &Path,
    packages: impl Iterator<Item = &'a PathBuf>,
) -> Result<()> {
    for package in packages.filter(|p| p.is_file()) {
        let Ok(paths) = rpm::PackageMetadata::open(package).and_then(|m| m.get_file_paths()) else {
            continue;
        };
        for path in paths {
            let target = root.join(path.strip_prefix("/").unwrap_or(&path));
            let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
                continue;
            };
            let prefix = format!("{};", name.to_string_lossy());
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let entry_name = entry.file_name().to_string_lossy().into_owned();
                if let Some(id) = entry_name.strip_prefix(&prefix)
                    && id.len() == 8
                    && id.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    std::fs::remove_file(entry.path())
                        .with_context(|| format!("removing {}", entry.path().display()))?;
                }
            }
        }
    }
    Ok(())
}

/// Runs a hook script from the package: a clean environment but `PATH`
/// and the `HOP_*` variables, the host's root as its working directory,
/// its output into the operation's directory (and the log), its package's
/// timeout, and nothing it started left running when it ends.
pub fn run_hook(cx: &Context<'_>, hook: Hook) -> Result<()> {
    let Some(member) = cx.manifest.scripts.get(&hook) else {
        return Ok(());
    };
    let script = cx.staging().join(member);
    let cmd = Cmd::new(&script.display().to_string())
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
