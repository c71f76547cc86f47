//! `apply --dry-run`: the plan of an operation as data — for each of the
//! journaled steps the runner executes (those of the operation's
//! [`Scope`]), the actions it would take on this host as it is now,
//! decided by the very functions the steps perform (`steps::*::actions`);
//! the journal records the actions each step performed, in the same form.
//! `--dry-run` prints it; `--dry-run --json` and `check --json` serialise
//! it. Nothing is changed.

use hop_artifact::PackageManifest;
use hop_artifact::digest::Sha256Digest;
use hop_artifact::migration::Phase;
use hop_migrate::adopt::Adoption;
use hop_migrate::status::Status;
use serde::Serialize;

use crate::host::Host;
use crate::host_state::HostState;
use crate::journal::{Scope, Step};
use crate::rpmdb::RpmDb;
use crate::runner::Runner;
use crate::steps;

/// What the plan knows of the host's database: where each migration
/// stands, and the baseline an adoption would give it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Facts<'a> {
    pub status: Option<&'a Status>,
    pub baseline: Option<(u32, &'a str)>,
}

/// What an operation would do.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// `manager 4.0.1 → 4.1.1`.
    pub title: String,
    pub root: String,
    pub steps: Vec<PlannedStep>,
}

/// One step and its actions.
#[derive(Clone, Debug, Serialize)]
pub struct PlannedStep {
    pub step: Step,
    pub title: &'static str,
    pub actions: Vec<Action>,
}

pub use crate::action::Action;

impl Plan {
    /// The plan for a package whose payload is extracted at `payload`,
    /// with each migration as it stands on the host's database (when it
    /// can be read) and the adoption apply would make of it.
    pub fn for_package(
        host: &Host,
        m: &PackageManifest,
        payload: &std::path::Path,
        runner: &Runner,
        scope: Scope,
    ) -> Self {
        let database = host
            .database_url()
            .ok()
            .and_then(|u| hop_migrate::Migrator::connect(&u, hop_migrate::Options::default()).ok())
            .and_then(|mut mg| {
                let scripts = crate::package::scripts(m, payload, mg.backend()).ok()?;
                let status = mg.status(&scripts).ok()?;
                let baseline = match crate::adoption::assess(&mut mg, m, payload).ok()?.adoption {
                    Adoption::Baseline { up_to, because } => Some((up_to, because)),
                    _ => None,
                };
                Some((status, baseline))
            });
        let (status, baseline) = match database {
            Some((status, baseline)) => (Some(status), baseline),
            None => (None, None),
        };
        let facts = Facts {
            status: status.as_ref(),
            baseline: baseline.as_ref().map(|(up_to, b)| (*up_to, b.as_str())),
        };
        Self::make(host, m, runner, &facts, scope)
    }

    /// The plan for `m` on `host` as it is: each step's actions as the
    /// step itself decides them (`steps::*::actions`), from the host's
    /// facts read now.
    pub fn make(
        host: &Host,
        m: &PackageManifest,
        runner: &Runner,
        facts: &Facts<'_>,
        scope: Scope,
    ) -> Self {
        let sd = host.state();
        let state = HostState::load(&sd).ok().flatten();
        let db = RpmDb::new(runner, &host.root);
        let migrations = |phase: Phase| -> Vec<Action> {
            facts
                .status
                .map(|s| steps::migrate::actions(s, phase, facts.baseline))
                .unwrap_or_default()
        };
        let database = host
            .database_url()
            .map(|u| u.backend().to_string())
            .unwrap_or_else(|_| "?".into());
        let services_before = steps::backup::services_running(&sd, m);
        let current = |dest: &str| {
            host.fs
                .read(dest)
                .ok()
                .flatten()
                .map(|b| Sha256Digest::of(&b))
        };
        let steps = scope
            .steps()
            .iter()
            .map(|&step| {
                let actions = match step {
                    Step::Stage => steps::stage::actions(m),
                    Step::Backup => steps::backup::actions(m, scope, &database),
                    Step::OnlineMigrations => migrations(Phase::Online),
                    Step::StopServices => steps::services::stops(&services_before)
                        .into_iter()
                        .map(|(_, a)| a)
                        .collect(),
                    Step::InstallRpms => steps::rpms::actions(
                        m,
                        &steps::rpms::installed(&db, m).unwrap_or_default(),
                        &steps::rpms::recorded(state.as_ref()),
                    ),
                    Step::DeployConfigs => {
                        steps::configs::actions(m, scope, current, state.as_ref())
                            .unwrap_or_default()
                    }
                    Step::OfflineMigrations => migrations(Phase::Offline),
                    Step::StartServices => steps::services::starts(&m.services)
                        .into_iter()
                        .map(|(_, a)| a)
                        .collect(),
                    Step::HealthGate => steps::health::actions(&m.services),
                    Step::Commit => steps::commit::actions(m),
                    Step::PostMigrations => migrations(Phase::Post),
                    Step::Cleanup => steps::cleanup::actions(),
                };
                PlannedStep {
                    step,
                    title: step.title(),
                    actions,
                }
            })
            .collect();
        Self {
            title: m.title(),
            root: host.root.display().to_string(),
            steps,
        }
    }

    /// One line per step, with what it would do.
    pub fn render(&self) -> String {
        let mut out = format!(
            "plan for {} on {} (dry run: nothing was changed)\n",
            self.title, self.root
        );
        let width = self.steps.iter().map(|s| s.title.chars().count()).max();
        for (i, s) in self.steps.iter().enumerate() {
            let what = if s.actions.is_empty() {
                "nothing to do".to_owned()
            } else {
                s.actions
                    .iter()
                    .map(Action::describe)
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            out += &format!(
                "  {:>2}. {:<width$}  {what}\n",
                i + 1,
                s.title,
                width = width.unwrap_or(0)
            );
        }
        out
    }
}
