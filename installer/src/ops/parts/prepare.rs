//! One path from a package to an operation, shared by `apply` and by each
//! hop of `upgrade`: verify the package and extract it for the preflight,
//! run the preflight, refuse on any FAILURE (nothing changed: exit 2);
//! then either show the plan (a dry run) or run the operation.

use std::path::Path;

use crate::error::{Failure, Refusal};
use crate::host::Host;
use crate::journal::Scope;
use crate::operation::Operation;
use crate::ops::apply::ApplyOptions;
use crate::package::{Scratch, Verified};
use crate::plan::Plan;
use crate::preflight::{self, Accepted, Level, Preflight};
use crate::report::Report;
use crate::runner::Runner;
use crate::terminal::Terminal;

/// A package the host's preflight accepted.
pub struct Prepared {
    pub verified: Verified,
    scratch: Scratch,
    scope: Scope,
    /// Preflight results the operator accepted.
    accepted: Vec<Accepted>,
}

/// Verifies `package`, runs the preflight for an operation of `scope`,
/// and refuses on any FAILURE; warnings are shown.
pub fn prepare(
    host: &Host,
    runner: &Runner,
    package: &Path,
    options: &ApplyOptions,
    out: &Terminal,
) -> Result<Prepared, Refusal> {
    Prepared::check(host, runner, verified(host, package)?, options, out)
}

/// Verifies `package` against the host's trusted keys and extracts it
/// for the checks.
pub fn verified(host: &Host, package: &Path) -> Result<(Verified, Scratch), Refusal> {
    let trusted = crate::trust::host_keys(host)?;
    crate::package::extract_for_check(host, package, &trusted)
}

/// Refuses when a preflight check failed, quoting each failure.
pub fn refuse_on_failure(checks: &Preflight) -> Result<(), Refusal> {
    let failures = checks.failures();
    if failures.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = failures
        .iter()
        .map(|c| format!("  {}: {} [{}]", c.check, c.details, c.id))
        .collect();
    Err(Refusal::new(format!(
        "the preflight failed; nothing was changed:\n{}",
        lines.join("\n")
    ))
    .with_hint("`hop-install check PKG` shows every check"))
}

impl Prepared {
    /// Runs the preflight of the options' scope on a verified package
    /// (and what [`verified`] extracted of it); refuses on any FAILURE
    /// the options do not accept, shows warnings.
    pub fn check(
        host: &Host,
        runner: &Runner,
        (verified, scratch): (Verified, Scratch),
        options: &ApplyOptions,
        out: &Terminal,
    ) -> Result<Self, Refusal> {
        let scope = options.scope;
        let mut checks = preflight::run(host, &verified, runner, &scratch.0, scope);
        let accepted = checks.accept(&options.accept)?;
        refuse_on_failure(&checks)?;
        for c in checks.checks.iter().filter(|c| c.result == Level::Warning) {
            out.warn(&format!("{}: {}", c.check, c.details));
        }
        Ok(Prepared {
            verified,
            scratch,
            scope,
            accepted,
        })
    }

    /// The dry run: every step and what it would change.
    pub fn plan(&self, host: &Host, runner: &Runner) -> Plan {
        Plan::for_package(
            host,
            &self.verified.manifest,
            &self.scratch.0,
            runner,
            self.scope,
        )
    }

    /// Runs the operation to its end.
    pub fn run(self, host: &Host, out: &Terminal) -> Result<Report, Failure> {
        let Prepared {
            verified,
            scratch,
            scope,
            accepted,
        } = self;
        drop(scratch);
        let mut op = Operation::begin(host, &verified, scope, out)?;
        op.record_accepted(accepted)?;
        op.forward()
    }
}
