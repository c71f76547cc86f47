//! `hop-install resume` and `rollback`: finishing or undoing an
//! operation.

use super::shared::{HostArgs, RootArg, emit, emit_outcome};
use crate::error::Error;
use crate::ops;
use crate::ops::resume::Resumed;
use crate::terminal::Terminal;

pub const RESUME_HELP: &str = "Example:\n  hop-install resume\n\n\
Forward once the interrupted hop's offline migrations were done (exit 0), else it rolls\n\
back (exit 1); a rollback that was itself interrupted is continued. Either way the\n\
services end healthy. Tools an interrupted run left running are ended first. A chain\n\
(upgrade --to) continues.";

pub const ROLLBACK_HELP: &str = "Examples:\n  hop-install rollback\n  hop-install rollback --yes\n\n\
Undoes an operation interrupted before it committed. A hop that committed (or completed,\n\
until the next hop is applied) is rolled back only with --yes: users may have written on\n\
the new version since, and the database goes back to the dump taken before the hop, so\n\
those changes are lost; without --yes hop says what would be lost and changes nothing.";

/// `resume`.
pub fn resume(args: HostArgs) -> Result<u8, Error> {
    let out = Terminal::new(args.json);
    match ops::resume::resume(&args.root.root, &out)? {
        Resumed::Nothing => println!(
            "nothing to resume: no unfinished operation on {}",
            args.root.root.display()
        ),
        Resumed::Finished(report) => emit(args.json, &report, |r| r.render())?,
        Resumed::Chain(chain) => emit(args.json, &chain, |r| r.render())?,
    }
    Ok(0)
}

#[derive(clap::Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    root: RootArg,
    /// Confirm rolling back a committed hop (database changes since its backup are lost)
    #[arg(long)]
    yes: bool,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

impl RollbackArgs {
    pub fn run(self) -> Result<u8, Error> {
        let out = Terminal::new(self.json);
        let done = ops::rollback::rollback(&self.root.root, self.yes, &out)?;
        emit_outcome(self.json, "rolled back", &done)?;
        Ok(0)
    }
}
