//! The installer's steps, one file each, each with `apply` and `undo` side
//! by side so the reverse of an action is read next to the action, and
//! `actions`: what the step does on a host with these facts, the one
//! decision `apply` performs and `--dry-run` shows (`crate::action`).
//!
//! Every `apply` may run again after a crash and every `undo` may run
//! again after a crash: each looks at the host as it is, not as it was
//! told it would be.

pub mod backup;
pub mod cleanup;
pub mod commit;
pub mod configs;
pub mod health;
pub mod migrate;
pub mod rpms;
pub mod services;
pub mod stage;

#[cfg(test)]
mod actions_tests;

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use hop_artifact::PackageManifest;
use hop_artifact::package_manifest::Service;
use hop_migrate::{DatabaseUrl, Script};

use crate::action::Action;
use crate::host::Host;
use crate::journal::{Scope, Step};
use crate::runner::Runner;
use crate::services::ServiceManager;
use crate::state_dir::StateDir;
use crate::terminal::Terminal;

/// What every step works with.
pub struct Context<'a> {
    pub host: &'a Host,
    pub state_dir: StateDir,
    /// `var/lib/hop/operations/<id>`.
    pub op_dir: PathBuf,
    pub op_id: String,
    pub package: PathBuf,
    /// What part of the hop the operation does.
    pub scope: Scope,
    pub manifest: PackageManifest,
    pub runner: Runner,
    pub services: Box<dyn ServiceManager>,
    pub out: &'a Terminal,
    /// The actions the running step has performed (the journal keeps them).
    pub done: std::cell::RefCell<Vec<Action>>,
    /// Services whose probe passed while they were being started, and
    /// when (ms since the epoch): the health gate counts them served
    /// from then.
    pub served_early: std::cell::RefCell<std::collections::HashMap<String, u64>>,
}

impl Context<'_> {
    /// Notes that the running step performed `action`.
    pub fn did(&self, action: Action) {
        self.done.borrow_mut().push(action);
    }

    /// Notes that the running step performed each of `actions`.
    pub fn did_all(&self, actions: impl IntoIterator<Item = Action>) {
        self.done.borrow_mut().extend(actions);
    }

    pub fn staging(&self) -> PathBuf {
        self.op_dir.join("staging")
    }

    pub fn backup_dir(&self) -> PathBuf {
        self.op_dir.join("backup")
    }

    /// The hop, as the schema history labels it: `4.0.1→4.1.1`.
    pub fn hop_label(&self) -> String {
        format!("{}→{}", self.manifest.from, self.manifest.to)
    }

    /// The rehearsal of this very package on this host, if one was made:
    /// what the progress lines compare the work with.
    pub fn rehearsal(&self) -> Option<crate::rehearsal::Rehearsal> {
        let bytes = std::fs::read(self.op_dir.join("hop.yaml")).ok()?;
        crate::rehearsal::load_current(self.host, &bytes)
            .ok()
            .flatten()
    }

    pub fn database_url(&self) -> Result<DatabaseUrl> {
        let url = self.host.database_url()?;
        if let Some(p) = url.password() {
            self.runner.log.add_secret(&p);
        }
        Ok(url)
    }

    /// The package's migrations for this host's database, from staging.
    pub fn scripts(&self) -> Result<Vec<Script>> {
        let url = self.database_url()?;
        crate::package::scripts(&self.manifest, &self.staging(), url.backend())
            .context("reading the staged migrations")
    }

    /// The payload member `config` deploys in this operation: a node of a
    /// roll runs the file the package gives for the roll, if any.
    pub fn config_member<'c>(
        &self,
        config: &'c hop_artifact::package_manifest::ConfigFile,
    ) -> &'c str {
        config_member(config, self.scope)
    }

    /// The services of the version the host ran before this operation.
    pub fn services_before(&self) -> Vec<Service> {
        backup::Facts::load(&self.backup_dir())
            .map(|f| f.services_before)
            .unwrap_or_else(|_| backup::services_running(&self.state_dir, &self.manifest))
    }

    /// Fault-injection point `<step>.<at>`.
    pub fn fault(&self, step: Step, at: crate::fault::At) -> Result<()> {
        crate::fault::hit(crate::fault::Point::Step(step, at)).map_err(anyhow::Error::msg)
    }
}

/// The payload member `config` deploys in an operation of `scope`: a node
/// of a roll runs the file the package gives for the roll, if any.
pub fn config_member(config: &hop_artifact::package_manifest::ConfigFile, scope: Scope) -> &str {
    match (&config.during_roll, scope) {
        (Some(pinned), Scope::Node) => pinned,
        _ => &config.file,
    }
}

/// A duration as plans and journals show it.
pub fn shown(d: &std::time::Duration) -> String {
    hop_artifact::duration_text::format(d)
}

/// Runs a step's `apply`.
pub fn apply(step: Step, cx: &mut Context<'_>) -> Result<()> {
    match step {
        Step::Stage => {
            stage::apply(cx)?;
            cx.did_all(stage::actions(&cx.manifest));
            Ok(())
        }
        Step::Backup => backup::apply(cx),
        Step::OnlineMigrations => migrate::apply(cx, hop_artifact::migration::Phase::Online, step),
        Step::StopServices => services::stop(cx),
        Step::InstallRpms => rpms::apply(cx),
        Step::DeployConfigs => configs::apply(cx),
        Step::OfflineMigrations => {
            migrate::apply(cx, hop_artifact::migration::Phase::Offline, step)
        }
        Step::StartServices => services::start(cx),
        Step::HealthGate => health::apply(cx),
        Step::Commit => {
            commit::apply(cx)?;
            cx.did_all(commit::actions(&cx.manifest));
            Ok(())
        }
        Step::PostMigrations => migrate::apply(cx, hop_artifact::migration::Phase::Post, step),
        Step::Cleanup => {
            cleanup::apply(cx)?;
            cx.did_all(cleanup::actions());
            Ok(())
        }
    }
}
