//! The journaled steps of an upgrade: their order, journal names and titles.

use serde::{Deserialize, Serialize};

/// The journaled steps of an upgrade, in order. (Verify and preflight run
/// before the journal exists: they change nothing.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Stage,
    Backup,
    OnlineMigrations,
    StopServices,
    InstallRpms,
    DeployConfigs,
    OfflineMigrations,
    StartServices,
    HealthGate,
    Commit,
    PostMigrations,
    Cleanup,
}

impl Step {
    pub const ALL: [Step; 12] = [
        Step::Stage,
        Step::Backup,
        Step::OnlineMigrations,
        Step::StopServices,
        Step::InstallRpms,
        Step::DeployConfigs,
        Step::OfflineMigrations,
        Step::StartServices,
        Step::HealthGate,
        Step::Commit,
        Step::PostMigrations,
        Step::Cleanup,
    ];

    /// The name used in the journal, reports and `HOP_FAULT`.
    pub fn name(self) -> &'static str {
        match self {
            Step::Stage => "stage",
            Step::Backup => "backup",
            Step::OnlineMigrations => "online_migrations",
            Step::StopServices => "stop_services",
            Step::InstallRpms => "install_rpms",
            Step::DeployConfigs => "deploy_configs",
            Step::OfflineMigrations => "offline_migrations",
            Step::StartServices => "start_services",
            Step::HealthGate => "health_gate",
            Step::Commit => "commit",
            Step::PostMigrations => "post_migrations",
            Step::Cleanup => "cleanup",
        }
    }

    /// What the step does, for people.
    pub fn title(self) -> &'static str {
        match self {
            Step::Stage => "stage the verified payload",
            Step::Backup => "back up database, configs and RPMs",
            Step::OnlineMigrations => "apply online migrations",
            Step::StopServices => "stop services",
            Step::InstallRpms => "install RPMs",
            Step::DeployConfigs => "deploy configs",
            Step::OfflineMigrations => "apply offline migrations",
            Step::StartServices => "start services",
            Step::HealthGate => "health gate",
            Step::Commit => "commit",
            Step::PostMigrations => "apply post migrations",
            Step::Cleanup => "clean up",
        }
    }
}
