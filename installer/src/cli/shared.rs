//! What several verbs share: the argument groups (`--root`, the remote
//! sources' options, `--accept`), how a result is printed, and the exit
//! code of a report.

use std::path::PathBuf;

use serde::Serialize;

use crate::error::{Error, Failure};
use crate::preflight::Level;

/// The exit codes, for every `--help`.
pub const EXIT_CODES: &str = "Exit status: 0 done; 1 failed and rolled back (the host is where it was); \
2 refused before any change; 3 failed and needs attention (the message names the next command).";

/// Where packages can come from, for `--help`.
pub const SOURCES: &str = "A package is a file, an https:// URL or s3://BUCKET/KEY. A remote one is downloaded into\n\
/var/lib/hop/downloads/ while it is verified (signed head first, then every member), resumes\n\
after a cut, and is refused (exit 2) if a byte differs from what the vendor signed. S3 uses\n\
AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, AWS_REGION and AWS_ENDPOINT_URL.";

#[derive(clap::Args, Clone)]
pub struct RootArg {
    /// The host's root directory (a whole host in a directory, for tests and demos)
    #[arg(long, default_value = "/", value_name = "DIR")]
    pub root: PathBuf,
}

/// How remote packages (`https://…`, `s3://BUCKET/KEY`) are fetched.
#[derive(clap::Args, Clone)]
pub struct SourceArgs {
    /// Also trust these CA certificates (PEM) for https:// sources
    #[arg(long, value_name = "PEM", env = "HOP_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// Treat a download that receives nothing for this long as cut, and
    /// resume it (at most six attempts; then the part is kept for a rerun)
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_stall)]
    pub stall_timeout: std::time::Duration,
}

fn parse_stall(text: &str) -> Result<std::time::Duration, String> {
    match hop_artifact::duration_text::parse(text) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err("must be more than zero".into()),
        Err(e) => Err(e.to_string()),
    }
}

impl SourceArgs {
    pub fn options(&self) -> crate::remote::FetchOptions {
        crate::remote::FetchOptions {
            ca_file: self.ca_file.clone(),
            stall: self.stall_timeout,
        }
    }
}

/// A package and how to fetch it when it is remote.
#[derive(clap::Args, Clone)]
pub struct PackageArgs {
    pub package: PathBuf,
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `--accept ID[,ID] --reason TEXT`.
#[derive(clap::Args, Clone)]
pub struct AcceptArgs {
    /// Let these checks' WARNING or FAILURE pass (ids from `check`; the safe ones only)
    #[arg(long, value_delimiter = ',', value_name = "ID", requires = "reason")]
    pub accept: Vec<String>,
    /// Why: kept with the operation, in history and the report
    #[arg(long, value_name = "TEXT", requires = "accept")]
    pub reason: Option<String>,
}

impl AcceptArgs {
    /// What the operator accepts.
    pub fn into_accept(self) -> crate::preflight::Accept {
        crate::preflight::Accept {
            ids: self.accept,
            reason: self.reason,
        }
    }
}

fn print_json<T: Serialize>(value: &T) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(value).map_err(|e| {
        Failure::needs_attention(
            format!("the result could not be printed as JSON: {e}"),
            "hop-install status",
        )
    })?;
    println!("{text}");
    Ok(())
}

/// Prints a command's result: `value` as JSON under `--json`, else `text`.
pub fn emit<T: Serialize>(
    json: bool,
    value: &T,
    text: impl FnOnce(&T) -> String,
) -> Result<(), Error> {
    if json {
        print_json(value)
    } else {
        print!("{}", text(value));
        Ok(())
    }
}

/// Prints a one-line outcome: `{"outcome", "message"}` under `--json`.
pub fn emit_outcome(json: bool, outcome: &str, message: &str) -> Result<(), Error> {
    emit(
        json,
        &serde_json::json!({ "outcome": outcome, "message": message }),
        |_| format!("{message}\n"),
    )
}

/// `check`'s and `db diff`'s exit code: 0 OK, 1 warnings, 2 failures.
pub fn level_code(level: Level) -> u8 {
    match level {
        Level::Skipped | Level::Ok => 0,
        Level::Warning => 1,
        Level::Failure => 2,
    }
}

/// The host and `--json`: the verbs that take nothing else.
#[derive(clap::Args)]
pub struct HostArgs {
    #[command(flatten)]
    pub root: RootArg,
    /// Print the view as JSON (for scripts)
    #[arg(long)]
    pub json: bool,
}
