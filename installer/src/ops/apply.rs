//! `hop-install apply`: verify, preflight, then the journaled steps; any
//! failure before commit rolls back.

use std::path::Path;

use crate::error::Error;
use crate::plan::Plan;
use crate::report::Report;
use crate::session::Session;
use crate::terminal::Terminal;

use super::prepare::prepare;

/// What `apply` produced.
pub enum Applied {
    Upgraded(Box<Report>),
    /// `--dry-run`: the plan.
    Plan(Box<Plan>),
}

pub fn apply(root: &Path, package: &Path, dry_run: bool, out: &Terminal) -> Result<Applied, Error> {
    let session = Session::changing(root, "apply")?;
    let runner = session.runner(if dry_run { "dry-run" } else { "preflight" });
    let prepared = prepare(&session.host, &runner, package, out)?;
    if dry_run {
        return Ok(Applied::Plan(Box::new(
            prepared.plan(&session.host, &runner),
        )));
    }
    let report = prepared.run(&session.host, out)?;
    Ok(Applied::Upgraded(Box::new(report)))
}
