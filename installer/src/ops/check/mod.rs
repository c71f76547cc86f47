//! `hop-install check`: the preflight alone — a table, a versioned JSON
//! report (docs/check-report.md), or one self-contained HTML page to
//! attach to a ticket. Changes nothing (but hop's own scratch files and
//! log).

pub mod html;

use std::path::Path;

use serde::Serialize;

use crate::error::Refusal;
use crate::journal::Scope;
use crate::plan::Plan;
use crate::preflight::{self, Accept, CheckId, Level, Preflight};
use crate::remote::FetchOptions;
use crate::session::Session;

/// The version of the report's format (`schema` in the JSON).
pub const REPORT_SCHEMA: &str = "hop.check/1";

/// What `check` found: the report `--json` prints and `--html` renders.
#[derive(Serialize)]
pub struct CheckReport {
    /// `hop.check/1`.
    pub schema: &'static str,
    /// The worst result nobody accepted: OK, WARNING or FAILURE.
    pub result: Level,
    pub generated_at: String,
    pub host: HostFacts,
    /// `None` when the package could not be verified.
    pub package: Option<PackageFacts>,
    /// Every check, hop's and the vendor's.
    #[serde(flatten)]
    pub preflight: Preflight,
    /// What `apply` would do, when no check failed.
    pub plan: Option<Plan>,
    /// `check --to`: the chain's route (its first hop is the one checked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<Vec<super::path::RouteStep>>,
}

/// What the host runs now.
#[derive(Serialize)]
pub struct HostFacts {
    pub root: String,
    pub product: String,
    pub version: Option<String>,
    pub node: String,
}

/// The package checked.
#[derive(Serialize)]
pub struct PackageFacts {
    pub title: String,
    pub from: String,
    pub to: String,
    pub signer: String,
}

/// What `check` checks, and how.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// The preflight of this operation (`check --node`: a node's).
    pub scope: Scope,
    /// Results the operator accepts (`--accept`, `--reason`).
    pub accept: Accept,
    /// `--to`: the package argument holds packages (files or
    /// directories); the route's first hop is checked.
    pub to: Option<String>,
    /// `--max-downtime`: the most the package's rehearsal may predict.
    pub max_downtime: Option<std::time::Duration>,
    /// How a remote package is downloaded.
    pub fetch: FetchOptions,
}

/// The preflight of an operation of the options' scope. An unknown or
/// unacceptable `--accept` is refused (exit 2).
///
/// With `to`, `package` holds packages (files or directories): the route
/// to `to` is found, and its first hop checked.
pub fn check(root: &Path, package: &Path, o: &CheckOptions) -> Result<CheckReport, Refusal> {
    let (scope, accept, max_downtime, options) = (o.scope, &o.accept, o.max_downtime, &o.fetch);
    accept.validate()?;
    let route = match &o.to {
        Some(target) => {
            let found = super::path::path(root, target, &[package.to_path_buf()], options)?;
            if found.route.is_empty() {
                return Err(Refusal::new(format!(
                    "this host already runs {target}: there is nothing to check"
                )));
            }
            Some(found.route)
        }
        None => None,
    };
    let first = route
        .as_ref()
        .and_then(|r| r.first())
        .map(|first| first.package.clone());
    let fetched =
        super::parts::fetch::package(root, first.as_deref().unwrap_or(package), None, options)?;
    let package = fetched.path.as_path();
    let session = Session::reading(root)?;
    let host = &session.host;
    let runner = session.runner("check");
    let installed = preflight::installed(host, &runner).ok();
    let mut report = CheckReport {
        schema: REPORT_SCHEMA,
        result: Level::Failure,
        generated_at: crate::clock::now(),
        host: HostFacts {
            root: host.root.display().to_string(),
            product: host.config.product.clone(),
            version: installed.and_then(|i| i.version).map(|v| v.to_string()),
            node: host.node_name(),
        },
        package: None,
        preflight: Preflight::default(),
        plan: None,
        route,
    };
    let verified = crate::trust::host_keys(host)
        .map_err(|r| r.to_string())
        .and_then(|trusted| {
            crate::package::extract_for_check(host, package, &trusted).map_err(|r| r.message)
        });
    let (verified, scratch) = match verified {
        Ok(v) => v,
        Err(why) => {
            report.preflight = single(CheckId::Signature, why);
            return Ok(report);
        }
    };
    let m = &verified.manifest;
    let mut checks = preflight::run(host, &verified, &runner, &scratch.0, scope);
    match crate::rehearsal::load_current(&session.host, &verified.manifest_bytes) {
        Ok(rehearsal) => checks.downtime(rehearsal.as_ref(), max_downtime),
        Err(why) => checks.stale_rehearsal(&why, max_downtime.is_some()),
    }
    checks.accept(accept)?;
    report.result = checks.worst();
    if report.result != Level::Failure {
        report.plan = Some(Plan::for_package(host, m, &scratch.0, &runner, scope));
    }
    report.package = Some(PackageFacts {
        title: m.title(),
        from: m.from.to_string(),
        to: m.to.to_string(),
        signer: verified.signer.fingerprint.clone(),
    });
    report.preflight = checks;
    Ok(report)
}

fn single(check: CheckId, details: String) -> Preflight {
    Preflight {
        checks: vec![preflight::Check::of(check, Level::Failure, details)],
    }
}
