//! One thing a step does to the host. A step decides its actions with a
//! function of the host's facts (`steps::*::actions`), performs them, and
//! the journal records each one it performed; `apply --dry-run` and
//! `check --json` show the same function's answer for the host as it is
//! now. So the plan shown is the plan run, and a test can compare them.

use serde::{Deserialize, Serialize};

/// What a step does, one action at a time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// A database another tool made gets baseline rows up to `up_to`.
    Adopt {
        up_to: u32,
        because: String,
    },
    Migrate {
        file: String,
    },
    /// Stop a service of the version that runs, after its drain if it has one.
    Stop {
        service: String,
        drain: Option<String>,
        within: String,
    },
    RunHook {
        hook: String,
    },
    InstallRpm {
        installed: Option<String>,
        to: String,
    },
    /// A component the installed version had and this one does not ship.
    EraseRpm {
        nevra: String,
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
        settle: String,
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
            Action::Adopt { up_to, because } => {
                format!("adopt the database ({because}): baseline rows up to {up_to:04}")
            }
            Action::Migrate { file } => file.clone(),
            Action::Stop {
                service,
                drain,
                within,
            } => match drain {
                Some(drain) => format!("{service}: drain with {drain}, stop ≤{within}"),
                None => format!("{service}: stop ≤{within}"),
            },
            Action::RunHook { hook } => format!("run the {hook} hook"),
            Action::InstallRpm { installed, to } => {
                format!("{} → {to}", installed.as_deref().unwrap_or("(none)"))
            }
            Action::EraseRpm { nevra } => format!("erase {nevra} (no longer shipped)"),
            Action::DeployConfig { dest, how } => format!("{dest}: {how}"),
            Action::Start { service } => format!("start {service}"),
            Action::WaitHealthy {
                service,
                within,
                settle,
            } => format!("{service} healthy within {within}, then steady for {settle}"),
            Action::Record { version } => format!("record {version} as installed"),
            Action::CleanUp => "remove staging and older backups".into(),
        }
    }
}
