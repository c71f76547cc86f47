//! The undos of a rollback: what the journal records as a rollback's plan
//! and its progress ([`crate::recovery::rollback_plan`] decides them).

use serde::{Deserialize, Serialize};

/// One action of a rollback, executed in plan order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Undo {
    /// Stop the services of both versions: nothing writes while data goes back.
    StopServices,
    /// Put hop's records of the previous version back (the undo of commit).
    RestoreRecords,
    /// Put every config (and `.hopnew`) back as it was.
    RestoreConfigs,
    /// Put the previous RPMs back.
    RestoreRpms,
    /// Restore the database from the dump taken at the backup step.
    RestoreDatabase,
    /// Start the previous version's services.
    StartServices,
    /// Require the previous version's health checks to pass.
    CheckHealth,
    /// Remove the staged payload.
    RemoveStaging,
}

impl Undo {
    /// Every undo, in the order a full rollback plan has them.
    pub const ALL: [Undo; 8] = [
        Undo::StopServices,
        Undo::RestoreRecords,
        Undo::RestoreConfigs,
        Undo::RestoreRpms,
        Undo::RestoreDatabase,
        Undo::StartServices,
        Undo::CheckHealth,
        Undo::RemoveStaging,
    ];

    /// The name used in the journal and in `HOP_FAULT` (`rollback.<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Undo::StopServices => "stop_services",
            Undo::RestoreRecords => "restore_records",
            Undo::RestoreConfigs => "restore_configs",
            Undo::RestoreRpms => "restore_rpms",
            Undo::RestoreDatabase => "restore_database",
            Undo::StartServices => "start_services",
            Undo::CheckHealth => "check_health",
            Undo::RemoveStaging => "remove_staging",
        }
    }

    /// What the undo does, for people.
    pub fn title(self) -> &'static str {
        match self {
            Undo::StopServices => "stopping services",
            Undo::RestoreRecords => "restoring hop's records",
            Undo::RestoreConfigs => "restoring configs",
            Undo::RestoreRpms => "restoring RPMs",
            Undo::RestoreDatabase => "restoring the database",
            Undo::StartServices => "starting services",
            Undo::CheckHealth => "checking health",
            Undo::RemoveStaging => "removing staging",
        }
    }
}
