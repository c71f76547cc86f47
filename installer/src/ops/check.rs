//! `hop-install check`: the preflight alone, as a table. Changes nothing
//! (but hop's own scratch files and log).

use std::path::Path;

use crate::error::Refusal;
use crate::journal::Scope;
use crate::preflight::{self, Accept, Level, Preflight};
use crate::session::Session;

/// The preflight of an operation of `scope` (`check --node`: a node's).
/// An unknown or unacceptable `--accept` is refused (exit 2).
pub fn check(
    root: &Path,
    package: &Path,
    scope: Scope,
    accept: &Accept,
) -> Result<Preflight, Refusal> {
    accept.validate()?;
    let session = Session::reading(root)?;
    let host = &session.host;
    let runner = session.runner("check");
    let trusted = match crate::trust::host_keys(host) {
        Ok(t) => t,
        Err(r) => return Ok(single("signature", r.to_string())),
    };
    let (verified, scratch) = match crate::package::extract_for_check(host, package, &trusted) {
        Ok(v) => v,
        Err(r) => return Ok(single("signature", r.message)),
    };
    let mut checks = preflight::run(host, &verified, &runner, &scratch.0, scope);
    checks.accept(accept)?;
    Ok(checks)
}

fn single(check: &'static str, details: String) -> Preflight {
    Preflight {
        checks: vec![preflight::Check {
            id: "hop.signature",
            check,
            result: Level::Failure,
            details,
            accepted: None,
        }],
    }
}
