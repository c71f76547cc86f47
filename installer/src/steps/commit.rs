//! Commit: the point of no automatic return. hop records the new version:
//! its RPMs (to roll the next hop back), its hop.yaml and migrations (for
//! `db status`), and last, atomically, state.json. Undo (a rollback of a
//! committed operation) puts the previous records back.

use std::path::Path;

use anyhow::{Context as _, Result};

use super::Context;
use super::backup::Facts;
use hop_migrate::{Migrator, Options};

use crate::clock::now;
use crate::fault::At;
use crate::host_state::HostState;
use crate::journal::{Scope, Step};

/// What the commit does: record `m`'s version as the installed one.
pub fn actions(m: &hop_artifact::PackageManifest) -> Vec<crate::action::Action> {
    vec![crate::action::Action::Record {
        version: m.to.to_string(),
    }]
}

pub fn apply(cx: &mut Context<'_>) -> Result<()> {
    let facts = Facts::load(&cx.backup_dir())?;
    let sd = cx.state_dir.clone();
    if cx.scope == Scope::Unpin {
        return unpinned(cx);
    }

    let installed = sd.installed();
    let previous = cx.backup_dir().join("installed.prev");
    if installed.exists() {
        if facts.installed_existed && !previous.exists() {
            std::fs::rename(&installed, &previous)?;
        } else {
            std::fs::remove_dir_all(&installed)?;
        }
    }
    let fresh = sd.installed_new();
    replace_dir(&fresh, |dir| {
        std::fs::copy(cx.op_dir.join("hop.yaml"), dir.join("hop.yaml"))?;
        copy_tree(&cx.staging().join("schemas"), &dir.join("schemas"))?;
        copy_tree(&cx.staging().join("migrations"), &dir.join("migrations"))
    })?;
    std::fs::rename(&fresh, &installed)?;

    let rpms = sd.rpms();
    let fresh = sd.rpms_new();
    replace_dir(&fresh, |dir| copy_tree(&cx.staging().join("rpms"), dir))?;
    if rpms.exists() {
        std::fs::remove_dir_all(&rpms)?;
    }
    std::fs::rename(&fresh, &rpms)?;
    cx.fault(Step::Commit, At::Mid)?;

    let state = HostState {
        product: cx.manifest.product.clone(),
        version: cx.manifest.to.clone(),
        components: cx.manifest.components.iter().map(|c| c.nevra()).collect(),
        configs: deployed_configs(cx),
        last_migration: cx
            .manifest
            .migrations
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap_or(0),
        last_operation: Some(cx.op_id.clone()),
        updated_at: now(),
        pinned: cx
            .manifest
            .configs
            .iter()
            .any(|c| cx.config_member(c) != c.file)
            .then(|| cx.hop_label()),
    };
    state.save(&sd)?;
    crate::atomic::sync_dir(&sd.dir)?;
    record_node(cx, cx.manifest.to.as_str(), &cx.hop_label())
}

/// The digest of each config as this operation deployed it.
fn deployed_configs(
    cx: &Context<'_>,
) -> std::collections::BTreeMap<String, hop_artifact::digest::Sha256Digest> {
    cx.manifest
        .configs
        .iter()
        .filter_map(|c| {
            cx.manifest
                .member(cx.config_member(c))
                .map(|m| (c.dest.clone(), m.sha256))
        })
        .collect()
}

/// `unpin`: the node runs the hop's final configs now; nothing else of
/// its records changes.
fn unpinned(cx: &Context<'_>) -> Result<()> {
    let mut state = HostState::load(&cx.state_dir)?
        .context("hop has no record of this node's version to unpin")?;
    state.configs = deployed_configs(cx);
    state.pinned = None;
    state.last_operation = Some(cx.op_id.clone());
    state.updated_at = now();
    state.save(&cx.state_dir)?;
    crate::atomic::sync_dir(&cx.state_dir.dir)?;
    Ok(())
}

/// A node of a cluster records the version it now runs in the shared
/// database, for `status` on every node and for `contract`.
fn record_node(cx: &Context<'_>, version: &str, hop: &str) -> Result<()> {
    if cx.scope != Scope::Node {
        return Ok(());
    }
    let node = cx.host.node_name();
    Migrator::connect(&cx.database_url()?, Options::default())?
        .record_node(&node, &cx.host.machine(), version, hop)
        .with_context(|| format!("recording that node {node} runs {version}"))
}

/// Restores hop's records of the previous version.
pub fn undo(cx: &Context<'_>, facts: &Facts) -> Result<()> {
    let sd = cx.state_dir.clone();
    match &facts.state_before {
        Some(state) => state.save(&sd)?,
        None => {
            let _ = std::fs::remove_file(sd.state_file());
        }
    }
    if cx.scope == Scope::Unpin {
        // Only the state changed: the node runs the roll's configs again.
        return Ok(());
    }
    let installed = sd.installed();
    let previous = cx.backup_dir().join("installed.prev");
    if previous.exists() {
        if installed.exists() {
            std::fs::remove_dir_all(&installed)?;
        }
        copy_tree(&previous, &installed)?;
    } else if !facts.installed_existed && installed.exists() {
        std::fs::remove_dir_all(&installed)?;
    }
    let rpms = sd.rpms();
    if rpms.exists() {
        std::fs::remove_dir_all(&rpms)?;
    }
    if facts.state_before.is_some() {
        copy_tree(&cx.backup_dir().join("rpms"), &rpms)?;
    }
    let back = format!("{} (rolled back)", cx.hop_label());
    record_node(cx, cx.manifest.from.as_str(), &back)
}

/// Fills a fresh directory at `dir` with `fill`.
fn replace_dir(dir: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    crate::atomic::private_dir(dir)?;
    fill(dir)
}

/// Copies a directory tree of regular files (hard links where possible).
pub fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    crate::atomic::private_dir(to)?;
    let Ok(entries) = std::fs::read_dir(from) else {
        return Ok(());
    };
    for entry in entries {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if std::fs::hard_link(entry.path(), &target).is_err() {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}
