//! Deploy configs: write each config atomically with its mode, inside the
//! host's root (see `hostfs`). A file the user edited (its digest is
//! neither the `from` version's nor what hop deployed last) is kept when
//! the package says so, and the new one lands beside it as `.hopnew`. Undo
//! puts back the archived files exactly: content, mode, owner and group.

use anyhow::{Context as _, Result, bail};
use hop_artifact::PackageManifest;
use hop_artifact::digest::Sha256Digest;
use hop_artifact::package_manifest::{ConfigFile, Hook};
use serde::{Deserialize, Serialize};

use super::Context;
use super::backup::{Facts, read_archive};
use crate::action::Action;
use crate::atomic;
use crate::fault::At;
use crate::host_state::HostState;
use crate::journal::{Scope, Step};

/// What happened to one config.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Deployed {
    pub dest: String,
    pub action: String,
    /// Set when the user's file was kept.
    pub hopnew: Option<String>,
}

/// What deploying one config will do, from its current and new digests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigAction {
    Install,
    Unchanged,
    /// The user's edits are kept; the new file goes to `<dest>.hopnew`.
    KeepLocalEdits,
    Replace,
}

impl ConfigAction {
    /// The decision for one config.
    pub fn decide(
        current: Option<Sha256Digest>,
        new: Sha256Digest,
        preserve_local_edits: bool,
        pristine: impl Fn(&Sha256Digest) -> bool,
    ) -> Self {
        match current {
            None => ConfigAction::Install,
            Some(d) if d == new => ConfigAction::Unchanged,
            Some(d) if preserve_local_edits && !pristine(&d) => ConfigAction::KeepLocalEdits,
            Some(_) => ConfigAction::Replace,
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            ConfigAction::Install => "installed",
            ConfigAction::Unchanged => "unchanged",
            ConfigAction::KeepLocalEdits => "kept local edits",
            ConfigAction::Replace => "replaced",
        }
    }
}

/// What deploying `config` does in an operation of `scope`, the file at
/// its destination having the digest `current`, with hop's record `state`.
pub fn decide(
    m: &PackageManifest,
    config: &ConfigFile,
    scope: Scope,
    current: Option<Sha256Digest>,
    state: Option<&HostState>,
) -> Result<ConfigAction> {
    let new = m
        .member(super::config_member(config, scope))
        .map(|x| x.sha256)
        .context("config member missing from hop.yaml")?;
    let pristine = |d: &Sha256Digest| {
        Some(*d) == config.from_sha256 || state.and_then(|s| s.configs.get(&config.dest)) == Some(d)
    };
    Ok(ConfigAction::decide(
        current,
        new,
        config.preserve_local_edits,
        pristine,
    ))
}

/// The action that deploys `config` as `how` decided.
pub fn deploy_action(config: &ConfigFile, how: &ConfigAction) -> Action {
    Action::DeployConfig {
        dest: config.dest.clone(),
        how: match how {
            ConfigAction::KeepLocalEdits => {
                format!("keep local edits, new version to {}.hopnew", config.dest)
            }
            other => other.describe().to_owned(),
        },
    }
}

/// What the step does: each config deployed as [`decide`] says (`current`
/// gives the digest of the file at a destination now), then the
/// `post_install` hook.
pub fn actions(
    m: &PackageManifest,
    scope: Scope,
    current: impl Fn(&str) -> Option<Sha256Digest>,
    state: Option<&HostState>,
) -> Result<Vec<Action>> {
    let mut actions = Vec::new();
    for config in &m.configs {
        let how = decide(m, config, scope, current(&config.dest), state)?;
        actions.push(deploy_action(config, &how));
    }
    actions.extend(super::rpms::hook_action(m, Hook::PostInstall));
    Ok(actions)
}

pub fn apply(cx: &mut Context<'_>) -> Result<()> {
    let state = HostState::load(&cx.state_dir)?;
    let fs = &cx.host.fs;
    let mut results = Vec::new();
    for (i, config) in cx.manifest.configs.iter().enumerate() {
        let member = cx.config_member(config);
        let data = std::fs::read(cx.staging().join(member))?;
        let current = fs.read_file(&config.dest)?;
        let action = decide(
            &cx.manifest,
            config,
            cx.scope,
            current.as_ref().map(|c| Sha256Digest::of(&c.data)),
            state.as_ref(),
        )?;
        // A replaced file keeps its owner and group.
        let owner = current.as_ref().map(|c| (c.uid, c.gid));
        let mut hopnew = None;
        match action {
            ConfigAction::Unchanged => {}
            ConfigAction::Install | ConfigAction::Replace => {
                fs.write(&config.dest, &data, config.mode, owner)?;
            }
            ConfigAction::KeepLocalEdits => {
                let beside = format!("{}.hopnew", config.dest);
                fs.write(&beside, &data, config.mode, owner)?;
                cx.out.warn(&format!(
                    "{} has local edits: kept it; the new version is {beside} — merge them by hand",
                    config.dest
                ));
                hopnew = Some(beside);
            }
        }
        results.push(Deployed {
            dest: config.dest.clone(),
            action: action.describe().to_owned(),
            hopnew,
        });
        cx.did(deploy_action(config, &action));
        if i == 0 {
            cx.fault(Step::DeployConfigs, At::Mid)?;
        }
    }
    atomic::write(
        &cx.op_dir.join("configs.json"),
        &serde_json::to_vec_pretty(&results)?,
        0o600,
    )?;
    super::rpms::run_hook(cx, Hook::PostInstall)?;
    cx.did_all(super::rpms::hook_action(&cx.manifest, Hook::PostInstall));
    Ok(())
}

/// Puts every config (and `.hopnew`) back as archived; removes those that
/// did not exist.
pub fn undo(cx: &Context<'_>, facts: &Facts) -> Result<()> {
    let archived = read_archive(&facts.configs_archive)?;
    for (dest, existed) in &facts.configs {
        if *existed {
            let Some(saved) = archived.iter().find(|a| a.path == *dest) else {
                bail!("{dest} is missing from the config backup");
            };
            cx.host
                .fs
                .write(dest, &saved.data, saved.mode, Some((saved.uid, saved.gid)))?;
        } else {
            cx.host.fs.remove(dest)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decides_what_to_do_with_each_config() {
        let d = |b: &[u8]| Sha256Digest::of(b);
        let (old, new, edited) = (d(b"old"), d(b"new"), d(b"edited"));
        let pristine = |x: &Sha256Digest| *x == old;
        use ConfigAction::*;
        for (current, keep_edits, expected) in [
            (None, true, Install),
            (Some(new), true, Unchanged),
            (Some(old), true, Replace),
            (Some(edited), true, KeepLocalEdits),
            (Some(edited), false, Replace),
        ] {
            assert_eq!(
                ConfigAction::decide(current, new, keep_edits, pristine),
                expected,
                "{current:?}, keep edits: {keep_edits}"
            );
        }
    }
}
