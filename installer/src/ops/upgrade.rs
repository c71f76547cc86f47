//! `hop-install upgrade --to VERSION PKG_OR_DIR...`: chain hops. Every
//! package on the route is verified before the first change; each hop then
//! runs as `apply` does (its own preflight, backup and rollback, its post
//! migrations finished) before the next starts. A failure stops the chain
//! with the host at the last good version.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::chain::Chain;
use crate::error::{ExitStatus, Failure};
use crate::host::Host;
use crate::lock::HostLock;
use crate::output::Output;
use crate::preflight;
use crate::report::Report;
use crate::route;
use crate::state::{StateDir, now};

use super::apply::{refuse_on_failure, run_operation};
use super::check::logging_runner;
use super::path::{gather, refusal};

/// What a chain did.
#[derive(Serialize)]
pub struct ChainReport {
    pub from: String,
    pub to: String,
    pub hops: Vec<Report>,
    pub total_ms: u64,
    pub downtime_ms: u64,
}

impl ChainReport {
    pub fn render(&self) -> String {
        let mut out = String::new();
        for r in &self.hops {
            out += &r.render();
            out += "\n";
        }
        out += &format!(
            "chain {} → {}: {} hop(s) in {:.1}s, {:.3}s of downtime in all\n",
            self.from,
            self.to,
            self.hops.len(),
            self.total_ms as f64 / 1000.0,
            self.downtime_ms as f64 / 1000.0
        );
        out
    }
}

pub enum Upgraded {
    Plan(String),
    Done(Box<ChainReport>),
}

pub fn upgrade(
    root: &Path,
    target: &str,
    inputs: &[PathBuf],
    dry_run: bool,
    out: &Output,
) -> Result<Upgraded, Failure> {
    super::check::require_privileges(root)?;
    let target = hop_artifact::version::Version::parse(target)
        .map_err(|e| Failure::refused(e.to_string()))?;
    let (host, installed, hops, ignored) = gather(root, inputs)?;
    let sd = StateDir::of(&host);
    let _lock = HostLock::acquire(&sd, "upgrade")?;
    crate::interrupt::install();
    if let Some(open) =
        crate::journal::find_open(&sd).map_err(|e| Failure::refused(format!("{e:#}")))?
    {
        return Err(Failure::refused(format!(
            "{} did not finish; run `hop-install resume` first",
            open.title()
        )));
    }
    let route = route::find(&hops, &installed, &target)
        .map_err(|why| refusal(&installed, &target, &why, &ignored))?;
    if route.is_empty() {
        return Err(Failure::refused(format!("this host already runs {target}")));
    }
    let trusted = crate::trust::host_keys(&host)?;
    for hop in &route {
        crate::package::verify(&hop.path, &trusted).map_err(|f| {
            Failure::refused(format!(
                "{} (the hop {} → {}) is refused before anything changed: {}",
                hop.path.display(),
                hop.from,
                hop.to,
                f.message
            ))
            .with_hint("fetch that package again from the vendor")
        })?;
    }
    out.step(&format!(
        "route: {} (every package verified)",
        route::describe(&route, &installed)
    ));
    if dry_run {
        let runner = logging_runner(&host, "dry-run");
        let (verified, scratch) =
            crate::package::extract_for_check(&host, &route[0].path, &trusted)?;
        let checks = preflight::run(&host, &verified, &runner, &scratch.0);
        refuse_on_failure(&checks)?;
        let mut plan = format!(
            "route {} (dry run: nothing was changed)\n",
            route::describe(&route, &installed)
        );
        for (i, h) in route.iter().enumerate() {
            plan += &format!(
                "  hop {}: {} → {}  {}\n",
                i + 1,
                h.from,
                h.to,
                h.path.display()
            );
        }
        plan += &crate::plan::render(&host, &verified.manifest, &runner, None);
        return Ok(Upgraded::Plan(plan));
    }
    let chain = Chain {
        target: target.clone(),
        packages: route
            .iter()
            .map(|h| std::path::absolute(&h.path).unwrap_or_else(|_| h.path.clone()))
            .collect(),
        started_at: now(),
    };
    chain
        .save(&sd)
        .map_err(|e| Failure::refused(format!("{e:#}")))?;
    run_chain(&host, &chain, Vec::new(), out).map(|r| Upgraded::Done(Box::new(r)))
}

/// Runs the chain's hops from the host's current version to its target.
pub fn run_chain(
    host: &Host,
    chain: &Chain,
    mut done: Vec<Report>,
    out: &Output,
) -> Result<ChainReport, Failure> {
    let sd = StateDir::of(host);
    let runner = logging_runner(host, "upgrade");
    let trusted = crate::trust::host_keys(host)?;
    let start = preflight::installed(host, &runner)
        .ok()
        .and_then(|i| i.version)
        .map_or_else(|| "?".to_owned(), |v| v.to_string());
    let (hops, _) = route::collect(&chain.packages, &trusted, &host.config.product);
    loop {
        let current =
            preflight::installed(host, &runner).map_err(|e| Failure::refused(format!("{e:#}")))?;
        let Some(version) = current.version else {
            Chain::remove(&sd);
            return Err(Failure::refused("cannot tell which version runs here"));
        };
        if version == chain.target {
            Chain::remove(&sd);
            let first = done.first().map_or(start.clone(), |r| r.from.clone());
            return Ok(ChainReport {
                from: first,
                to: version.to_string(),
                total_ms: done.iter().map(|r| r.total_ms).sum(),
                downtime_ms: done.iter().filter_map(|r| r.downtime_ms).sum(),
                hops: done,
            });
        }
        let position = hops.iter().position(|h| h.from == version);
        let remaining = |from: usize| -> String {
            hops[from..]
                .iter()
                .map(|h| route::file_name(&h.path))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Some(index) = position else {
            Chain::remove(&sd);
            return Err(Failure::needs_attention(
                format!(
                    "the upgrade to {} stopped: the host runs {version}, and no package of the chain starts there",
                    chain.target
                ),
                "hop-install status",
            ));
        };
        let hop = &hops[index];
        out.step(&format!(
            "== hop {} → {} ({})",
            hop.from,
            hop.to,
            route::file_name(&hop.path)
        ));
        let stop = |f: Failure| {
            Chain::remove(&sd);
            let status = if f.status == ExitStatus::Refused {
                ExitStatus::RolledBack
            } else {
                f.status
            };
            Failure {
                status,
                message: format!(
                    "{}\nthe upgrade to {} stopped: the host runs {version}, the last good version; packages not applied: {}",
                    f.message,
                    chain.target,
                    remaining(index)
                ),
                hint: f.hint,
            }
        };
        let (verified, scratch) =
            crate::package::extract_for_check(host, &hop.path, &trusted).map_err(stop)?;
        let checks = preflight::run(host, &verified, &runner, &scratch.0);
        refuse_on_failure(&checks).map_err(stop)?;
        drop(scratch);
        let report = run_operation(host, &verified, out).map_err(stop)?;
        done.push(report);
    }
}

/// After `resume` finished a hop of a chain (or found none open), runs the
/// rest of the chain.
pub fn continue_chain(
    host: &Host,
    resumed: Option<Report>,
    out: &Output,
) -> Result<Option<ChainReport>, Failure> {
    let sd = StateDir::of(host);
    let Some(chain) = Chain::load(&sd).map_err(|e| Failure::refused(format!("{e:#}")))? else {
        return Ok(None);
    };
    out.step(&format!("continuing the upgrade to {}", chain.target));
    run_chain(host, &chain, resumed.into_iter().collect(), out).map(Some)
}

/// Holds the host lock for a chain continued by `resume`.
pub fn lock(host: &Host) -> Result<HostLock, Failure> {
    HostLock::acquire(&StateDir::of(host), "upgrade")
}
