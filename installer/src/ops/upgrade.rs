//! `hop-install upgrade --to VERSION PKG_OR_DIR...`: chain hops. Every
//! package on the route is verified before the first change; each hop then
//! runs as `apply` does (its own preflight, backup and rollback, its post
//! migrations finished) before the next starts. A failure stops the chain
//! with the host at the last good version.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::chain::Chain;
use crate::clock::now;
use crate::error::{Error, Failure, FailureKind, Refusal};
use crate::host::Host;
use crate::plan::Plan;
use crate::preflight;
use crate::preflight::Accept;
use crate::recovery::chain::{self, End, Next};
use crate::remote::FetchOptions;
use crate::report::Report;
use crate::route;
use crate::session::Session;
use crate::state_dir::StateDir;
use crate::terminal::Terminal;

use super::apply::ApplyOptions;
use super::parts::prepare::prepare;
use super::path::{gather, refusal};

/// What `upgrade --dry-run` shows: the route, and the plan of its first
/// hop (later hops are planned on the host the earlier ones leave).
#[derive(Serialize)]
pub struct ChainPlan {
    pub route: String,
    pub hops: Vec<PlannedHop>,
    pub first: Plan,
}

/// One hop of a planned route.
#[derive(Serialize)]
pub struct PlannedHop {
    pub from: String,
    pub to: String,
    pub package: String,
}

impl ChainPlan {
    pub fn render(&self) -> String {
        let mut out = format!("route {} (dry run: nothing was changed)\n", self.route);
        for (i, h) in self.hops.iter().enumerate() {
            let package = crate::remote::shown(std::path::Path::new(&h.package));
            out += &format!("  hop {}: {} → {}  {package}\n", i + 1, h.from, h.to);
        }
        out += &self.first.render();
        if self.hops.len() > 1 {
            out += &format!(
                "then hops 2–{}: each is planned and checked as it starts, on the host the hop \
                 before it leaves (a refused hop stops the chain at the last good version)\n",
                self.hops.len()
            );
        }
        out
    }
}

/// What a chain did.
#[derive(Serialize)]
pub struct ChainReport {
    pub from: String,
    pub to: String,
    pub hops: Vec<Report>,
    pub total_ms: u64,
    /// Every hop's window until its services settled, added up.
    pub downtime_ms: u64,
    /// Every hop's downtime as clients saw it (first stop → every
    /// service answering), added up; `None` when a hop's report lacks it.
    pub served_again_ms: Option<u64>,
}

impl ChainReport {
    pub fn render(&self) -> String {
        let mut out = String::new();
        for r in &self.hops {
            out += &r.render();
            out += "\n";
        }
        let settled = self.downtime_ms as f64 / 1000.0;
        let downtime = match self.served_again_ms {
            Some(served) => format!(
                "{:.3}s of downtime in all as clients saw it, {settled:.3}s until every service had settled",
                served as f64 / 1000.0
            ),
            None => format!("{settled:.3}s of downtime in all"),
        };
        out += &format!(
            "chain {} → {}: {} hop(s) in {:.1}s, {downtime}\n",
            self.from,
            self.to,
            self.hops.len(),
            self.total_ms as f64 / 1000.0,
        );
        out
    }
}

pub enum Upgraded {
    /// `--dry-run`: the route and the first hop's plan.
    Plan(Box<ChainPlan>),
    Done(Box<ChainReport>),
    /// The host runs the target already: why nothing changed.
    Nothing(String),
}

/// How to upgrade.
#[derive(Clone, Debug, Default)]
pub struct UpgradeOptions {
    /// Verify, check the first hop, show the route and plan; change nothing.
    pub dry_run: bool,
    /// Results the operator accepts on every hop (`--accept`, `--reason`).
    pub accept: Accept,
    /// How remote packages are downloaded.
    pub fetch: FetchOptions,
}

pub fn upgrade(
    root: &Path,
    target: &str,
    inputs: &[PathBuf],
    o: &UpgradeOptions,
    out: &Terminal,
) -> Result<Upgraded, Error> {
    let (dry_run, accept, options) = (o.dry_run, &o.accept, &o.fetch);
    accept.validate()?;
    let target =
        hop_artifact::version::Version::parse(target).map_err(|e| Refusal::new(e.to_string()))?;
    let session = Session::changing(root, "upgrade")?;
    // Without packages: where `dnf install PRODUCT-hop-…` puts them.
    let default = [session.state.packages()];
    let inputs = if inputs.is_empty() {
        &default[..]
    } else {
        inputs
    };
    let (installed, mut hops, ignored) = gather(&session, inputs, options)?;
    let (host, sd) = (&session.host, &session.state);
    crate::journal::refuse_if_open(sd)?;
    // At the target already: the operator's intent holds (as a replayed
    // `apply`), and a rerun of a finished upgrade is not an error.
    if installed == target {
        return Ok(Upgraded::Nothing(format!(
            "this host already runs {target}: nothing to do"
        )));
    }
    let route = route::find(&hops, &installed, &target)
        .map_err(|why| refusal(&installed, &target, &why, &ignored))?;
    let trusted = crate::trust::host_keys(host)?;
    // Only the packages on the route are downloaded (each verified on the way).
    let wanted: Vec<PathBuf> = route.iter().map(|h| h.path.clone()).collect();
    for hop in hops.iter_mut().filter(|h| wanted.contains(&h.path)) {
        hop.path = crate::remote::localize(&hop.path, &sd.dir, &trusted, options)?;
    }
    let route = route::find(&hops, &installed, &target)
        .map_err(|why| refusal(&installed, &target, &why, &ignored))?;
    for hop in &route {
        crate::package::verify(&hop.path, &trusted).map_err(|r| {
            Refusal::new(format!(
                "{} (the hop {} → {}) is refused before anything changed: {}",
                hop.path.display(),
                hop.from,
                hop.to,
                r.message
            ))
            .with_hint("fetch that package again from the vendor")
        })?;
    }
    out.step(&format!(
        "route: {} (every package verified)",
        route::describe(&route, &installed)
    ));
    if dry_run {
        let runner = session.runner("dry-run");
        let each = ApplyOptions {
            accept: accept.clone(),
            ..ApplyOptions::new(true)
        };
        let prepared = prepare(host, &runner, &route[0].path, &each, out)?;
        let plan = ChainPlan {
            route: route::describe(&route, &installed),
            hops: route
                .iter()
                .map(|h| PlannedHop {
                    from: h.from.to_string(),
                    to: h.to.to_string(),
                    package: h.path.display().to_string(),
                })
                .collect(),
            first: prepared.plan(host, &runner),
        };
        return Ok(Upgraded::Plan(Box::new(plan)));
    }
    let chain = Chain {
        target: target.clone(),
        packages: route
            .iter()
            .map(|h| std::path::absolute(&h.path).unwrap_or_else(|_| h.path.clone()))
            .collect(),
        started_at: now(),
        accept: accept.ids.clone(),
        reason: accept.reason.clone(),
    };
    chain.save(sd).map_err(|e| Refusal::from_error(&e))?;
    run_chain(host, &chain, Vec::new(), out).map(|r| Upgraded::Done(Box::new(r)))
}

/// Runs the chain's hops from the host's current version to its target.
/// A refusal before the chain changed anything is a refusal (exit 2);
/// after that, the chain stopped at a good version (exit 1) or needs
/// attention (exit 3).
pub fn run_chain(
    host: &Host,
    chain: &Chain,
    mut done: Vec<Report>,
    out: &Terminal,
) -> Result<ChainReport, Error> {
    let sd = host.state();
    let runner = &crate::session::logging_runner(&sd, "upgrade");
    // Each hop as `apply` runs it, with what the chain accepts.
    let each = ApplyOptions {
        accept: Accept {
            ids: chain.accept.clone(),
            reason: chain.reason.clone(),
        },
        ..ApplyOptions::new(false)
    };
    let start = preflight::installed(host, runner)
        .ok()
        .and_then(|i| i.version)
        .map_or_else(|| "?".to_owned(), |v| v.to_string());
    let trusted = crate::trust::host_keys(host)?;
    let (hops, _) = route::collect(&chain.packages, &trusted, &host.config.product);
    loop {
        let version = match preflight::installed(host, runner).map(|i| i.version) {
            Ok(Some(v)) => Ok(v),
            Err(e) => Err(format!("{e:#}")),
            Ok(None) => Err("hop has no record and the RPM database names no version".into()),
        };
        let index = match chain::next(version.as_ref().map_err(Clone::clone), &chain.target, &hops)
        {
            Next::Done => {
                Chain::remove(&sd);
                let first = done.first().map_or(start.clone(), |r| r.from.clone());
                return Ok(ChainReport {
                    from: first,
                    to: chain.target.to_string(),
                    total_ms: done.iter().map(|r| r.total_ms).sum(),
                    downtime_ms: done.iter().filter_map(|r| r.downtime_ms).sum(),
                    served_again_ms: done.iter().map(|r| r.served_again_ms).sum(),
                    hops: done,
                });
            }
            Next::Stop(why) => {
                let message = why.describe(&chain.target);
                return Err(stop(&sd, &why, !done.is_empty(), Refusal::new(message)));
            }
            Next::Run(i) => i,
        };
        let hop = &hops[index];
        let left = hops[index..]
            .iter()
            .map(|h| route::file_name(&h.path))
            .collect::<Vec<_>>()
            .join(", ");
        let stopped = format!(
            "the upgrade to {} stopped: the host runs {}, the last good version; packages not applied: {left}",
            chain.target, hop.from
        );
        out.step(&format!(
            "== hop {} → {} ({})",
            hop.from,
            hop.to,
            route::file_name(&hop.path)
        ));
        let prepared = match prepare(host, runner, &hop.path, &each, out) {
            Ok(p) => p,
            Err(r) => {
                let why = chain::Stop::HopRefused;
                let r = match done.is_empty() {
                    true => r,
                    false => Refusal {
                        message: format!("{}\n{stopped}", r.message),
                        hint: r.hint,
                    },
                };
                return Err(stop(&sd, &why, !done.is_empty(), r));
            }
        };
        match prepared.run(host, out) {
            Ok(report) => done.push(report),
            // A committed hop that stopped going forward stays in the
            // chain: `resume` finishes it and carries on.
            Err(f) if f.kind != FailureKind::RolledBack => return Err(f.into()),
            Err(f) => {
                Chain::remove(&sd);
                return Err(Failure {
                    message: format!("{}\n{stopped}", f.message),
                    ..f
                }
                .into());
            }
        }
    }
}

/// Ends a chain that stopped for `why` (its record removed), as the
/// error `chain::end` says: `refusal` itself while nothing changed, else
/// a stop at the last good version or a state that needs attention.
fn stop(sd: &StateDir, why: &chain::Stop, changed: bool, refusal: Refusal) -> Error {
    Chain::remove(sd);
    match chain::end(why, changed) {
        End::Refused => refusal.into(),
        End::AtGoodVersion => Failure::after_change(refusal, FailureKind::RolledBack).into(),
        End::NeedsAttention => {
            Failure::needs_attention(refusal.message, "hop-install status").into()
        }
    }
}

/// After `resume` finished a hop of a chain (or found none open), runs the
/// rest of the chain.
pub fn continue_chain(
    host: &Host,
    resumed: Option<Report>,
    out: &Terminal,
) -> Result<Option<ChainReport>, Error> {
    let sd = host.state();
    let Some(chain) = Chain::load(&sd).map_err(|e| Refusal::from_error(&e))? else {
        return Ok(None);
    };
    out.step(&format!("continuing the upgrade to {}", chain.target));
    match run_chain(host, &chain, resumed.into_iter().collect(), out) {
        Ok(r) => Ok(Some(r)),
        // The chain began before this `resume`, which finished or undid its
        // interrupted hop: the host stays at a good version (exit 1).
        Err(Error::Refused(r)) => Err(Failure::after_change(r, FailureKind::RolledBack).into()),
        Err(e) => Err(e),
    }
}
