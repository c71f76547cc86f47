//! The command line: one argument struct per verb (in the verb's file,
//! with its `--help`), the groups several verbs share (`shared.rs`), and
//! [`run`], which hands each verb to its operation in `ops/` and prints
//! the result (text, or JSON with `--json`).

mod apply;
mod check;
mod recover;
mod rehearse;
mod route;
mod shared;
mod verify;
mod views;

use clap::{Parser, Subcommand};

use crate::error::Error;
use crate::journal::Scope;
use shared::{EXIT_CODES, HostArgs};

#[derive(Parser)]
#[command(name = "hop-install", version, about = "Verify and apply .hop upgrade packages on a manager host", after_help = EXIT_CODES)]
/// The command line of `hop-install`.
pub struct Cli {
    /// The verb.
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Check a package's signature and every byte of it
    #[command(after_help = verify::help())]
    Verify(verify::VerifyArgs),
    /// Run the preflight checks for a package and print them as a table
    #[command(after_help = check::help())]
    Check(check::CheckArgs),
    /// Upgrade this host by one hop, rolling back on any failure
    #[command(after_help = apply::help())]
    Apply(apply::ApplyArgs),
    /// Cluster, once before the roll: back up the database and apply the online migrations
    #[command(after_help = apply::EXPAND_HELP)]
    Expand(apply::PartArgs),
    /// Cluster, once after every node runs the new version: apply the post migrations
    #[command(after_help = apply::CONTRACT_HELP)]
    Contract(apply::ContractArgs),
    /// Cluster, on each node after contract: deploy the hop's final configs (no more pins) and restart
    #[command(after_help = apply::UNPIN_HELP)]
    Unpin(apply::PartArgs),
    /// The route from the installed version to VERSION through the given packages
    #[command(after_help = route::PATH_HELP)]
    Path(route::PathArgs),
    /// Predict the downtime: run the hop's migrations on a copy of the live database
    #[command(after_help = rehearse::help())]
    Rehearse(rehearse::RehearseArgs),
    /// Upgrade across several hops, one after the other
    #[command(after_help = route::UPGRADE_HELP)]
    Upgrade(route::UpgradeArgs),
    /// Finish an interrupted operation: forward if its changes were complete, else back
    #[command(after_help = recover::RESUME_HELP)]
    Resume(HostArgs),
    /// Undo an interrupted operation, or a committed hop (with --yes)
    #[command(after_help = recover::ROLLBACK_HELP)]
    Rollback(recover::RollbackArgs),
    /// Where this host stands and what to run: versions, RPMs, schema, services, an unfinished operation
    #[command(after_help = views::STATUS_HELP)]
    Status(HostArgs),
    /// List the operations run on this host
    #[command(
        after_help = "DOWNTIME is how long the services were down: for an upgrade, from its \
first stop until its health gate passed; for a rollback, from the stop that took them down (the \
failed apply's, when they were still down) until the rollback's health check passed.\n\n\
Example:\n  hop-install history"
    )]
    History(HostArgs),
    /// Database views
    #[command(subcommand)]
    Db(views::DbCommand),
}

/// Runs a parsed command; `Ok(code)` is the exit status on success paths.
pub fn run(cli: Cli) -> Result<u8, Error> {
    match cli.command {
        Command::Verify(args) => args.run(),
        Command::Check(args) => args.run(),
        Command::Apply(args) => args.run(),
        Command::Expand(args) => args.run(Scope::Expand),
        Command::Contract(args) => args.run(),
        Command::Unpin(args) => args.run(Scope::Unpin),
        Command::Path(args) => args.run(),
        Command::Rehearse(args) => args.run(),
        Command::Upgrade(args) => args.run(),
        Command::Resume(args) => recover::resume(args),
        Command::Rollback(args) => args.run(),
        Command::Status(args) => views::status(args),
        Command::History(args) => views::history(args),
        Command::Db(db) => db.run(),
    }
}
