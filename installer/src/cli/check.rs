//! `hop-install check`.

use std::path::PathBuf;

use super::shared::{AcceptArgs, PackageArgs, RootArg, SOURCES, emit, level_code};
use crate::error::{Error, Refusal};
use crate::journal::Scope;
use crate::ops;
use crate::ops::check::CheckOptions;

pub fn help() -> String {
    format!(
        "Examples:\n  hop-install check manager-4.0.1-to-4.1.1.hop\n  \
hop-install check manager-4.0.1-to-4.1.1.hop --json\n\n\
Changes nothing. Exit 0 when every check is OK, 1 when some only warn, 2 on any FAILURE.\n\n\
Each check has a stable id (ID column, `id` in JSON). A WARNING or FAILURE that does not\n\
apply to this host can be accepted for check, apply and upgrade with --accept ID --reason\n\
TEXT; only {} can be, and\n\
the acceptance, who ran it and why go into the operation's record, history and report.\n\n{SOURCES}",
        crate::preflight::CheckId::acceptable_list()
    )
}

#[derive(clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    package: PackageArgs,
    #[command(flatten)]
    root: RootArg,
    /// The checks of `apply --node` (a node of a cluster) instead
    #[arg(long)]
    node: bool,
    #[command(flatten)]
    accept: AcceptArgs,
    /// PKG holds packages: check the first hop of the route to VERSION
    #[arg(long, value_name = "VERSION")]
    to: Option<String>,
    /// Fail the downtime check unless this package's rehearsal predicts no more
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    max_downtime: Option<std::time::Duration>,
    /// Also write the report as one self-contained HTML page (a new file)
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Print the report as JSON (format: docs/check-report.md)
    #[arg(long)]
    json: bool,
}

impl CheckArgs {
    pub fn run(self) -> Result<u8, Error> {
        let options = CheckOptions {
            scope: if self.node { Scope::Node } else { Scope::Host },
            accept: self.accept.into_accept(),
            to: self.to,
            max_downtime: self.max_downtime,
            fetch: self.package.source.options(),
        };
        let report = ops::check::check(&self.root.root, &self.package.package, &options)?;
        if let Some(file) = &self.html {
            ops::check::html::write(&report, file).map_err(|e| {
                Refusal::new(format!("cannot write {}: {e}", file.display()))
                    .with_hint("give a path to a new file")
            })?;
        }
        emit(self.json, &report, |r| r.preflight.render())?;
        Ok(level_code(report.result))
    }
}
