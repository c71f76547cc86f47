//! `hop-install check`: the preflight alone, as a table. Changes nothing
//! (but hop's own scratch files and log).

use std::path::Path;

use crate::error::Failure;
use crate::host::Host;
use crate::log::Log;
use crate::preflight::{self, Level, Preflight};
use crate::runner::Runner;
use crate::state::StateDir;

pub fn check(root: &Path, package: &Path) -> Result<Preflight, Failure> {
    let host = open_host(root)?;
    let runner = logging_runner(&host, "check");
    let trusted = match crate::trust::host_keys(&host) {
        Ok(t) => t,
        Err(f) => return Ok(single("signature", f.to_string())),
    };
    let (verified, scratch) = match crate::package::extract_for_check(&host, package, &trusted) {
        Ok(v) => v,
        Err(f) => return Ok(single("signature", f.message)),
    };
    Ok(preflight::run(&host, &verified, &runner, &scratch.0))
}

fn single(check: &'static str, details: String) -> Preflight {
    Preflight {
        checks: vec![preflight::Check {
            check,
            result: Level::Failure,
            details,
        }],
    }
}

/// Refuses to change `/` without root privileges, before anything else.
pub fn require_privileges(root: &Path) -> Result<(), Failure> {
    let euid = nix::unistd::geteuid();
    let is_slash = std::path::absolute(root)
        .map(|r| r == Path::new("/"))
        .unwrap_or(false);
    if is_slash && !euid.is_root() {
        return Err(Failure::refused(format!(
            "hop-install changes the host's RPMs, configs, services and database, which needs root (running as uid {euid}); nothing was changed"
        ))
        .with_hint("run it with sudo, or as root"));
    }
    Ok(())
}

/// Reads host.yaml or refuses.
pub fn open_host(root: &Path) -> Result<Host, Failure> {
    Host::open(root).map_err(|e| Failure::refused(format!("{e:#}")))
}

/// A runner logging into `logs/<verb>-<time>.log`.
pub fn logging_runner(host: &Host, verb: &str) -> Runner {
    let log = Log::new();
    let sd = StateDir::of(host);
    if sd.ensure().is_ok() {
        let stamp = crate::journal::new_id("", "")
            .trim_end_matches("--to-")
            .to_owned();
        let _ = log.open(&sd.logs().join(format!("{verb}-{stamp}.log")));
    }
    Runner::new(log)
}
