//! The read-only views: `status`, `history`, `db diff`, `db status`.

use std::path::PathBuf;

use clap::Subcommand;

use super::shared::{HostArgs, RootArg, emit, level_code};
use crate::error::Error;
use crate::ops;

pub const STATUS_HELP: &str = "Example:\n  hop-install status --json\n\n\
An unfinished operation (a crash, a kill, a failed rollback) is shown with what `resume`\n\
would do and why, what `rollback` would do, and the command to run. Exit status: 0, or 3\n\
while an operation is unfinished. Read-only.";

/// `status`: its exit code says whether an operation is unfinished.
pub fn status(args: HostArgs) -> Result<u8, Error> {
    let status = ops::status::status(&args.root.root)?;
    emit(args.json, &status, ops::status::render)?;
    Ok(status.code())
}

/// `history`.
pub fn history(args: HostArgs) -> Result<u8, Error> {
    let lines = ops::history::history(&args.root.root)?;
    emit(args.json, &lines, |l| ops::history::render(l))?;
    Ok(0)
}

#[derive(Subcommand)]
pub enum DbCommand {
    /// The live schema against the one a package (or the installed version) expects
    #[command(
        after_help = "Examples:\n  hop-install db diff manager-4.0.1-to-4.1.1.hop\n  hop-install db diff --json\n\n\
With PKG: the schema its from version has (what `check` compares). Without: the schema\n\
of the version hop installed. Each missing or different object is a FAILURE, each extra\n\
one (an index a DBA added) a WARNING. Read-only. Exit 0 when they match, 1 with only\n\
extra objects, 2 otherwise."
    )]
    Diff(DbDiffArgs),
    /// The schema history and the pending migrations of the installed version
    #[command(after_help = "Example:\n  hop-install db status\n\nRead-only.")]
    Status(HostArgs),
}

impl DbCommand {
    pub fn run(self) -> Result<u8, Error> {
        match self {
            DbCommand::Diff(args) => args.run(),
            DbCommand::Status(args) => {
                let status = ops::db_status::db_status(&args.root.root)?;
                emit(args.json, &status, ops::db_status::render)?;
                Ok(0)
            }
        }
    }
}

#[derive(clap::Args)]
pub struct DbDiffArgs {
    /// A package whose expected `from` schema to compare with
    package: Option<PathBuf>,
    #[command(flatten)]
    root: RootArg,
    #[arg(long)]
    json: bool,
}

impl DbDiffArgs {
    fn run(self) -> Result<u8, Error> {
        let diff = ops::db_diff::db_diff(&self.root.root, self.package.as_deref())?;
        emit(self.json, &diff, ops::db_diff::render)?;
        Ok(level_code(diff.worst()))
    }
}
