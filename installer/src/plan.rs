//! `apply --dry-run`: the plan of an operation as data — for each of the
//! journaled steps the runner executes (those of the operation's [`Scope`]), the actions it
//! would take on this host as it is now, decided by the same functions
//! the steps use (`ConfigAction::decide` for configs, the installed NEVRA
//! for RPMs). `--dry-run` prints it; `--dry-run --json` serialises it.
//! Nothing is changed.

use std::time::Duration;

use hop_artifact::PackageManifest;
use hop_artifact::digest::Sha256Digest;
use hop_artifact::duration_text;
use hop_artifact::migration::Phase;
use hop_migrate::status::Status;
use serde::Serialize;

use crate::host::Host;
use crate::journal::{Scope, Step};
use crate::rpmdb::RpmDb;
use crate::runner::Runner;
use crate::state::{HostState, StateDir};
use crate::steps::configs::ConfigAction;

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

/// One thing a step would do.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Extract {
        members: usize,
        bytes: u64,
    },
    DumpDatabase {
        database: String,
    },
    ArchiveConfigs {
        count: usize,
    },
    KeepRpms,
    Migrate {
        file: String,
    },
    Drain {
        service: String,
        signal: String,
        within: String,
    },
    Stop {
        service: String,
        within: String,
    },
    InstallRpm {
        installed: Option<String>,
        to: String,
    },
    DeployConfig {
        dest: String,
        how: String,
    },
    Start {
        service: String,
    },
    WaitHealthy {
        service: String,
        within: String,
    },
    Record {
        version: String,
    },
    CleanUp,
}

impl Action {
    /// The action for people.
    pub fn describe(&self) -> String {
        match self {
            Action::Extract { members, bytes } => {
                format!("extract {members} members ({bytes} bytes) under var/lib/hop/operations/")
            }
            Action::DumpDatabase { database } => format!("dump the {database} database"),
            Action::ArchiveConfigs { count } => format!("archive {count} config(s)"),
            Action::KeepRpms => {
                "keep what a rollback needs of the installed RPMs (their files, or a capture)"
                    .into()
            }
            Action::Migrate { file } => file.clone(),
            Action::Drain {
                service,
                signal,
                within,
            } => format!("{service}: drain with {signal} ≤{within}"),
            Action::Stop { service, within } => format!("{service}: stop ≤{within}"),
            Action::InstallRpm { installed, to } => {
                format!("{} → {to}", installed.as_deref().unwrap_or("(none)"))
            }
            Action::DeployConfig { dest, how } => format!("{dest}: {how}"),
            Action::Start { service } => format!("start {service}"),
            Action::WaitHealthy { service, within } => {
                format!("{service} healthy within {within}")
            }
            Action::Record { version } => format!("record {version} as installed"),
            Action::CleanUp => "remove staging and older backups".into(),
        }
    }
}

fn within(d: &Duration) -> String {
    duration_text::format(d)
}

impl Plan {
    /// The plan for a package whose payload is extracted at `payload`,
    /// with each migration as it stands on the host's database (when it
    /// can be read).
    pub fn for_package(
        host: &Host,
        m: &PackageManifest,
        payload: &std::path::Path,
        runner: &Runner,
        scope: Scope,
    ) -> Self {
        let status = host
            .database_url()
            .ok()
            .and_then(|u| hop_migrate::Migrator::connect(&u, hop_migrate::Options::default()).ok())
            .and_then(|mut mg| {
                let scripts = crate::package::scripts(m, payload, mg.backend()).ok()?;
                mg.status(&scripts).ok()
            });
        Self::make(host, m, runner, status.as_ref(), scope)
    }

    /// The plan for `m` on `host` as it is; `status` is where each
    /// migration stands on its database (when it could be read).
    pub fn make(
        host: &Host,
        m: &PackageManifest,
        runner: &Runner,
        status: Option<&Status>,
        scope: Scope,
    ) -> Self {
        let state = HostState::load(&StateDir::of(host)).ok().flatten();
        let db = RpmDb::new(runner, &host.root);
        let pending = |phase: Phase| -> Vec<Action> {
            status
                .map(|s| {
                    s.pending()
                        .filter(|e| e.phase == phase)
                        .map(|e| Action::Migrate {
                            file: e.file.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let steps = scope
            .steps()
            .iter()
            .map(|&step| {
                let actions = match step {
                    Step::Stage => vec![Action::Extract {
                        members: m.members.len(),
                        bytes: m.members.iter().map(|x| x.size).sum(),
                    }],
                    Step::Backup => {
                        let dump = Action::DumpDatabase {
                            database: host
                                .config
                                .database
                                .url
                                .split("://")
                                .next()
                                .unwrap_or("?")
                                .to_owned(),
                        };
                        let software = [
                            Action::ArchiveConfigs {
                                count: m.configs.len(),
                            },
                            Action::KeepRpms,
                        ];
                        let dump = scope.changes_database().then_some(dump);
                        let software = software.into_iter().filter(|_| scope.changes_software());
                        dump.into_iter().chain(software).collect()
                    }
                    Step::OnlineMigrations => pending(Phase::Online),
                    Step::StopServices => m
                        .services
                        .iter()
                        .rev()
                        .flat_map(|s| {
                            let drain = s.drain.as_ref().map(|d| Action::Drain {
                                service: s.name.clone(),
                                signal: d.signal.clone(),
                                within: within(&d.timeout),
                            });
                            drain.into_iter().chain([Action::Stop {
                                service: s.name.clone(),
                                within: within(&s.stop_timeout),
                            }])
                        })
                        .collect(),
                    Step::InstallRpms => m
                        .components
                        .iter()
                        .map(|c| Action::InstallRpm {
                            installed: db
                                .installed(&c.name)
                                .ok()
                                .and_then(|v| v.into_iter().next()),
                            to: c.nevra(),
                        })
                        .collect(),
                    Step::DeployConfigs => m
                        .configs
                        .iter()
                        .map(|c| {
                            let current = host.fs.read(&c.dest).ok().flatten();
                            let new = m.member(&c.file).map(|x| x.sha256);
                            let how = match new {
                                Some(new) => ConfigAction::decide(
                                    current.map(|b| Sha256Digest::of(&b)),
                                    new,
                                    c.preserve_local_edits,
                                    |d| {
                                        Some(*d) == c.from_sha256
                                            || state.as_ref().and_then(|s| s.configs.get(&c.dest))
                                                == Some(d)
                                    },
                                ),
                                None => ConfigAction::Replace,
                            };
                            Action::DeployConfig {
                                dest: c.dest.clone(),
                                how: match how {
                                    ConfigAction::KeepLocalEdits => format!(
                                        "keep local edits, new version to {}.hopnew",
                                        c.dest
                                    ),
                                    other => other.describe().to_owned(),
                                },
                            }
                        })
                        .collect(),
                    Step::OfflineMigrations => pending(Phase::Offline),
                    Step::StartServices => m
                        .services
                        .iter()
                        .map(|s| Action::Start {
                            service: s.name.clone(),
                        })
                        .collect(),
                    Step::HealthGate => m
                        .services
                        .iter()
                        .map(|s| Action::WaitHealthy {
                            service: s.name.clone(),
                            within: within(&s.health.timeout),
                        })
                        .collect(),
                    Step::Commit => vec![Action::Record {
                        version: m.to.to_string(),
                    }],
                    Step::PostMigrations => pending(Phase::Post),
                    Step::Cleanup => vec![Action::CleanUp],
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
