//! `hop-install apply`: verify, preflight, then the journaled steps; any
//! failure before commit rolls back.

use std::path::Path;

use hop_migrate::{DatabaseUrl, Migrator, Options};

use crate::error::Failure;
use crate::host::Host;
use crate::lock::HostLock;
use crate::operation::Operation;
use crate::output::Output;
use crate::package::Verified;
use crate::preflight::{self, Level};
use crate::report::Report;
use crate::state::StateDir;

use super::check::{logging_runner, open_host};

/// What `apply` produced.
pub enum Applied {
    Upgraded(Box<Report>),
    /// `--dry-run`: the plan.
    Plan(String),
}

pub fn apply(root: &Path, package: &Path, dry_run: bool, out: &Output) -> Result<Applied, Failure> {
    super::check::require_privileges(root)?;
    let host = open_host(root)?;
    let _lock = HostLock::acquire(&StateDir::of(&host), "apply")?;
    crate::interrupt::install();
    let runner = logging_runner(&host, if dry_run { "dry-run" } else { "preflight" });
    let trusted = crate::trust::host_keys(&host)?;
    let (verified, scratch) = crate::package::extract_for_check(&host, package, &trusted)?;
    let checks = preflight::run(&host, &verified, &runner, &scratch.0);
    refuse_on_failure(&checks)?;
    for c in checks.checks.iter().filter(|c| c.result == Level::Warning) {
        out.warn(&format!("{}: {}", c.check, c.details));
    }
    if dry_run {
        let status = DatabaseUrl::parse(&host.config.database.url, &host.root)
            .ok()
            .and_then(|u| Migrator::connect(&u, Options::default()).ok())
            .and_then(|mut m| {
                let scripts =
                    crate::package::scripts(&verified.manifest, &scratch.0, m.backend()).ok()?;
                m.status(&scripts).ok()
            });
        return Ok(Applied::Plan(crate::plan::render(
            &host,
            &verified.manifest,
            &runner,
            status.as_ref(),
        )));
    }
    drop(scratch);
    run_operation(&host, &verified, out).map(|r| Applied::Upgraded(Box::new(r)))
}

/// Refuses (exit 2) when a preflight check failed, quoting each failure.
pub fn refuse_on_failure(checks: &preflight::Preflight) -> Result<(), Failure> {
    let failures = checks.failures();
    if failures.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = failures
        .iter()
        .map(|c| format!("  {}: {}", c.check, c.details))
        .collect();
    Err(Failure::refused(format!(
        "the preflight failed; nothing was changed:\n{}",
        lines.join("\n")
    ))
    .with_hint("`hop-install check PKG` shows every check"))
}

/// Runs a new operation for a verified package to its end.
pub fn run_operation(host: &Host, verified: &Verified, out: &Output) -> Result<Report, Failure> {
    let mut op = Operation::begin(host, verified, out)?;
    op.forward()
}
