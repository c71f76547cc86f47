//! The journal of one operation: which steps started, finished or were
//! undone, written atomically before and after each step acts, so that
//! after a crash `resume` and `rollback` know exactly where the host is.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::atomic;
use crate::state::{StateDir, now, now_ms};

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

    /// Whether `resume` goes forward after a crash here (see
    /// docs/recovery.md): once the offline migrations are done every change
    /// is in place and only starting and checking the new version remain;
    /// before that, rolling back is the shorter, safer way to a good host.
    pub fn resume_goes_forward_after(self) -> bool {
        self >= Step::OfflineMigrations
    }
}

/// Where a step is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Pending,
    Started,
    Done,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepRecord {
    pub step: Step,
    pub status: StepStatus,
    pub started_at: Option<String>,
    pub duration_ms: Option<u64>,
    /// Wall-clock start, ms since the epoch (durations survive a resume).
    #[serde(default)]
    pub started_ms: Option<u64>,
}

/// Where the operation as a whole is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpPhase {
    /// Going forward (interrupted if found by another process).
    Forward,
    /// Undoing; `resume` or `rollback` continue it.
    RollingBack,
    /// A rollback itself failed: needs `rollback` again after a fix.
    RollbackFailed,
    /// Finished: upgraded.
    Done,
    /// Finished: back where it started.
    RolledBack,
}

impl OpPhase {
    pub fn is_open(self) -> bool {
        matches!(
            self,
            OpPhase::Forward | OpPhase::RollingBack | OpPhase::RollbackFailed
        )
    }
}

/// One operation's journal.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Journal {
    pub id: String,
    pub package: PathBuf,
    pub product: String,
    pub from: String,
    pub to: String,
    pub started_at: String,
    pub phase: OpPhase,
    pub steps: Vec<StepRecord>,
    /// Why the operation is rolling back or failed.
    #[serde(default)]
    pub cause: Option<String>,
    /// When the first service was stopped and the health gate passed (ms
    /// since the epoch): the downtime window.
    #[serde(default)]
    pub downtime_start_ms: Option<u64>,
    #[serde(default)]
    pub downtime_end_ms: Option<u64>,
    #[serde(skip)]
    path: PathBuf,
}

impl Journal {
    /// A new journal for an operation in `dir` (written at once).
    pub fn create(
        dir: &Path,
        id: &str,
        package: &Path,
        product: &str,
        from: &str,
        to: &str,
    ) -> Result<Self> {
        let mut journal = Self {
            id: id.to_owned(),
            package: package.to_path_buf(),
            product: product.to_owned(),
            from: from.to_owned(),
            to: to.to_owned(),
            started_at: now(),
            phase: OpPhase::Forward,
            steps: Step::ALL
                .iter()
                .map(|s| StepRecord {
                    step: *s,
                    status: StepStatus::Pending,
                    started_at: None,
                    duration_ms: None,
                    started_ms: None,
                })
                .collect(),
            cause: None,
            downtime_start_ms: None,
            downtime_end_ms: None,
            path: dir.join("journal.json"),
        };
        journal.save()?;
        Ok(journal)
    }

    pub fn load(path: &Path) -> Result<Self> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut journal: Self = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is damaged", path.display()))?;
        journal.path = path.to_path_buf();
        Ok(journal)
    }

    /// Writes the journal atomically and durably.
    pub fn save(&mut self) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self)?;
        atomic::write(&self.path, &bytes, 0o600)
            .with_context(|| format!("cannot write the journal {}", self.path.display()))
    }

    /// The operation's directory.
    pub fn dir(&self) -> PathBuf {
        self.path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    pub fn record(&self, step: Step) -> &StepRecord {
        &self.steps[step as usize]
    }

    pub fn status(&self, step: Step) -> StepStatus {
        self.record(step).status
    }

    /// Whether the step has started (it may have changed the host).
    pub fn touched(&self, step: Step) -> bool {
        self.status(step) != StepStatus::Pending
    }

    pub fn mark_started(&mut self, step: Step) -> Result<()> {
        let r = &mut self.steps[step as usize];
        r.status = StepStatus::Started;
        r.started_at = Some(now());
        r.started_ms = Some(now_ms());
        self.save()
    }

    pub fn mark_done(&mut self, step: Step) -> Result<()> {
        let r = &mut self.steps[step as usize];
        r.status = StepStatus::Done;
        r.duration_ms = r.started_ms.map(|s| now_ms().saturating_sub(s));
        self.save()
    }

    pub fn set_phase(&mut self, phase: OpPhase, cause: Option<String>) -> Result<()> {
        self.phase = phase;
        if cause.is_some() {
            self.cause = cause;
        }
        self.save()
    }

    /// The last step that started, if any.
    pub fn last_touched(&self) -> Option<Step> {
        self.steps
            .iter()
            .rev()
            .find(|r| r.status != StepStatus::Pending)
            .map(|r| r.step)
    }

    /// `manager 4.0.1 → 4.1.1`.
    pub fn title(&self) -> String {
        format!("{} {} → {}", self.product, self.from, self.to)
    }
}

/// The open (unfinished) operation on a host, if any.
pub fn find_open(dir: &StateDir) -> Result<Option<Journal>> {
    Ok(all(dir)?.into_iter().rev().find(|j| j.phase.is_open()))
}

/// Every operation's journal, oldest first (ids sort by time).
pub fn all(dir: &StateDir) -> Result<Vec<Journal>> {
    let ops = dir.operations();
    let mut journals = Vec::new();
    let entries = match std::fs::read_dir(&ops) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(journals),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", ops.display())),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path().join("journal.json")))
        .collect();
    paths.sort();
    for path in paths {
        if path.is_file() {
            journals.push(Journal::load(&path)?);
        }
    }
    Ok(journals)
}

/// A new operation id: sortable time, then the hop.
pub fn new_id(from: &str, to: &str) -> String {
    let stamp = humantime::format_rfc3339_millis(std::time::SystemTime::now())
        .to_string()
        .replace([':', '-'], "")
        .replace('.', "-");
    format!("{stamp}-{from}-to-{to}")
}
