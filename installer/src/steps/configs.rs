//! Deploy configs: write each config atomically with its mode. A file the
//! user edited (its digest is neither the `from` version's nor what hop
//! deployed last) is kept when the package says so, and the new one lands
//! beside it as `.hopnew`. Undo puts back the archived files exactly.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use anyhow::{Context as _, Result};
use hop_artifact::digest::Sha256Digest;
use hop_artifact::package_manifest::Hook;
use serde::{Deserialize, Serialize};

use super::Context;
use super::backup::{Facts, read_archive};
use crate::atomic;
use crate::journal::Step;
use crate::state::HostState;

/// What happened to one config.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Deployed {
    pub dest: String,
    pub action: String,
    /// Set when the user's file was kept.
    pub hopnew: Option<String>,
}

pub fn apply(cx: &mut Context<'_>) -> Result<()> {
    let state = HostState::load(&cx.state_dir)?;
    let mut results = Vec::new();
    for (i, config) in cx.manifest.configs.iter().enumerate() {
        let new_digest = cx
            .manifest
            .member(&config.file)
            .map(|m| m.sha256)
            .context("config member missing from hop.yaml")?;
        let data = std::fs::read(cx.staging().join(&config.file))?;
        let target = cx.host.path(&config.dest);
        let current = match std::fs::read(&target) {
            Ok(bytes) => Some(Sha256Digest::of(&bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("reading {}", target.display())),
        };
        let pristine = |d: &Sha256Digest| {
            Some(*d) == config.from_sha256
                || state.as_ref().and_then(|s| s.configs.get(&config.dest)) == Some(d)
        };
        let (action, hopnew) = match current {
            None => {
                write_config(&target, &data, config.mode, None)?;
                ("installed".to_owned(), None)
            }
            Some(d) if d == new_digest => ("unchanged".to_owned(), None),
            Some(d) if config.preserve_local_edits && !pristine(&d) => {
                let beside = format!("{}.hopnew", config.dest);
                write_config(&cx.host.path(&beside), &data, config.mode, Some(&target))?;
                cx.out.warn(&format!(
                    "{} has local edits: kept it; the new version is {beside} — merge them by hand",
                    config.dest
                ));
                ("kept local edits".to_owned(), Some(beside))
            }
            Some(_) => {
                write_config(&target, &data, config.mode, Some(&target))?;
                ("replaced".to_owned(), None)
            }
        };
        results.push(Deployed {
            dest: config.dest.clone(),
            action,
            hopnew,
        });
        if i == 0 {
            cx.fault(Step::DeployConfigs, "mid")?;
        }
    }
    atomic::write(
        &cx.op_dir.join("configs.json"),
        &serde_json::to_vec_pretty(&results)?,
        0o600,
    )?;
    super::rpms::run_hook(cx, Hook::PostInstall)
}

/// Writes `data` atomically with `mode`, keeping the owner of `like`.
fn write_config(target: &Path, data: &[u8], mode: u32, like: Option<&Path>) -> Result<()> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let owner = like
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| (m.uid(), m.gid()));
    atomic::write(target, data, mode).with_context(|| format!("writing {}", target.display()))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(target, Some(uid), Some(gid))?;
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(target, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

/// Puts every config (and `.hopnew`) back as archived; removes those that
/// did not exist.
pub fn undo(cx: &Context<'_>, facts: &Facts) -> Result<()> {
    let archived = read_archive(&facts.configs_archive)?;
    for (dest, existed) in &facts.configs {
        let target = cx.host.path(dest);
        if *existed {
            let Some(saved) = archived.iter().find(|a| a.path == *dest) else {
                anyhow::bail!("{dest} is missing from the config backup");
            };
            atomic::write(&target, &saved.data, saved.mode)?;
            std::os::unix::fs::chown(&target, Some(saved.uid), Some(saved.gid))?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(saved.mode))?;
        } else if target.exists() {
            std::fs::remove_file(&target)
                .with_context(|| format!("removing {}", target.display()))?;
        }
    }
    Ok(())
}
