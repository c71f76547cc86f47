//! `hop-install apply` (the whole hop on this host, or with `--node` this
//! node's part of a rolling hop), `expand` and `contract` (the database
//! parts of a rolling hop): verify, preflight, then the journaled steps
//! of the operation's scope; any failure before commit rolls back.

use std::path::Path;

use crate::error::Error;
use crate::journal::Scope;
use crate::plan::Plan;
use crate::preflight::Accept;
use crate::remote::FetchOptions;
use crate::report::Report;
use crate::session::Session;
use crate::terminal::Terminal;

use super::parts::prepare::{Prepared, verified};

/// What `apply`, `expand` or `contract` produced.
pub enum Applied {
    Upgraded(Box<Report>),
    /// `--dry-run`: the plan.
    Plan(Box<Plan>),
    /// A part of a rolling hop that was already done (a rerun of the
    /// roll): why nothing changed.
    Nothing(String),
}

/// How to apply.
#[derive(Clone, Debug, Default)]
pub struct ApplyOptions {
    /// Print the plan; change nothing.
    pub dry_run: bool,
    /// The whole hop, or a part of a rolling one.
    pub scope: Scope,
    /// `contract --nodes`: nodes the database must record at `to`.
    pub nodes: Vec<String>,
    /// Preflight results the operator accepts (`--accept`, `--reason`).
    pub accept: Accept,
    /// `--max-downtime`: the most this package's rehearsal may predict.
    pub max_downtime: Option<std::time::Duration>,
    /// How a remote package is downloaded.
    pub fetch: FetchOptions,
}

impl ApplyOptions {
    /// The whole hop on this host, accepting nothing.
    pub fn new(dry_run: bool) -> Self {
        Self {
            dry_run,
            ..Self::default()
        }
    }
}

pub fn apply(
    root: &Path,
    package: &Path,
    options: &ApplyOptions,
    out: &Terminal,
) -> Result<Applied, Error> {
    let (dry_run, scope) = (options.dry_run, options.scope);
    let fetched = super::parts::fetch::package(root, package, None, &options.fetch)?;
    let package = fetched.path.as_path();
    let session = Session::changing(root, scope.name())?;
    let runner = session.runner(if dry_run { "dry-run" } else { "preflight" });
    let verified = verified(&session.host, package)?;
    if let Some(max) = options.max_downtime {
        let rehearsal = crate::rehearsal::load_current(&session.host, &verified.0.manifest_bytes)
            .map_err(|why| {
            crate::error::Refusal::new(format!("downtime: {why}"))
                .with_hint("rehearse again, then apply")
        })?;
        let detail = crate::rehearsal::within(rehearsal.as_ref(), max).map_err(|why| {
            crate::error::Refusal::new(format!("downtime: {why}"))
                .with_hint("rehearse again after changes, or plan a longer window")
        })?;
        out.step(&format!("downtime: {detail}"));
    }
    if let Some(why) =
        super::parts::rolling::already_done(&session.host, &runner, &verified, scope)?
    {
        return Ok(Applied::Nothing(why));
    }
    super::parts::rolling::require_nodes(
        &session.host,
        &runner,
        &verified.0.manifest,
        &options.nodes,
    )?;
    let prepared = Prepared::check(&session.host, &runner, verified, options, out)?;
    if dry_run {
        return Ok(Applied::Plan(Box::new(
            prepared.plan(&session.host, &runner),
        )));
    }
    let report = prepared.run(&session.host, out)?;
    Ok(Applied::Upgraded(Box::new(report)))
}
