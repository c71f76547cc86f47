//! `hop-install apply` and the parts of a rolling hop: `expand`,
//! `contract`, `unpin`. Each builds its [`ApplyOptions`] and runs the
//! one `apply` operation.

use std::path::PathBuf;

use super::shared::{AcceptArgs, PackageArgs, RootArg, SOURCES, emit, emit_outcome};
use crate::error::Error;
use crate::journal::Scope;
use crate::ops;
use crate::ops::apply::{Applied, ApplyOptions};
use crate::terminal::Terminal;

pub fn help() -> String {
    format!(
        "Examples:\n  hop-install apply manager-4.0.1-to-4.1.1.hop --dry-run\n  \
hop-install apply manager-4.0.1-to-4.1.1.hop\n\n\
Steps: verify, preflight, stage, backup, online migrations, stop services, install RPMs,\n\
deploy configs, offline migrations, start services, health gate, commit, post migrations,\n\
clean up. Any failure or Ctrl-C before commit rolls the host back (exit 1). After commit\n\
users write on the new version, so hop only goes forward: a failure or Ctrl-C during the\n\
post migrations stops at a batch boundary (exit 3) and `hop-install resume` finishes them;\n\
a failure to clean up is a warning. If hop-install itself is killed, run\n\
`hop-install resume`.\n\n\
With --node, this node's part of a rolling hop on a cluster (docs/cluster.md): run\n\
`hop-install expand` once first; the database is not touched, the node's services are\n\
stopped, upgraded, started and health-gated, and a failure rolls back this node only.\n\
A node that already runs the hop's to version is left alone (exit 0).\n\n{SOURCES}"
    )
}

pub const EXPAND_HELP: &str = "Example:\n  hop-install expand manager-4.0.1-to-4.1.1.hop\n\n\
The first part of a rolling hop (docs/cluster.md). Run it on one node, while every node\n\
serves; then `hop-install apply PKG --node` on each node in turn, then `contract`. Only a\n\
hop without offline migrations can roll (else exit 2). A failure leaves the online\n\
migrations that completed (they are additive, the cluster runs on them) and restores\n\
nothing, since the other nodes keep writing; run expand again after the fix. Already\n\
expanded: nothing to do (exit 0).";

pub const CONTRACT_HELP: &str = "Example:\n  hop-install contract manager-4.0.1-to-4.1.1.hop --nodes m1=10.0.0.11,m2=10.0.0.12,m3=10.0.0.13\n\n\
The last part of a rolling hop (docs/cluster.md). Refused (exit 2) while a node the\n\
database records, or one named with --nodes, runs another version, or a node given with\n\
an address does not answer the hop's HTTP/TCP health probes there. Post migrations only\n\
go forward: a failure stops at a batch boundary (exit 3), `hop-install resume` finishes.\n\
The next hop may start only after its contract. Already done: nothing to do (exit 0).";

pub const UNPIN_HELP: &str = "Example:\n  hop-install unpin manager-4.0.1-to-4.1.1.hop\n\n\
For a rolling hop that pins versions while the cluster is mixed (a config's `during_roll`\n\
file, docs/cluster.md): after contract, take the node out of the balancer and unpin it —\n\
the final configs are deployed, the services restarted and health-gated; a failure puts\n\
the pinned configs back (exit 1). Refused (exit 2) unless the node runs the hop's to\n\
version. Already unpinned: nothing to do (exit 0).";

#[derive(clap::Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    package: PackageArgs,
    #[command(flatten)]
    root: RootArg,
    /// This node only, in a cluster whose database `expand` prepared
    #[arg(long)]
    node: bool,
    #[command(flatten)]
    accept: AcceptArgs,
    /// Refuse (exit 2) unless this package's rehearsal on this host predicts
    /// a downtime window no longer than this (e.g. 90s, 5m)
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    max_downtime: Option<std::time::Duration>,
    /// Print the plan with everything that would change; change nothing
    #[arg(long)]
    dry_run: bool,
    /// Print the report as JSON
    #[arg(long)]
    json: bool,
}

impl ApplyArgs {
    pub fn run(self) -> Result<u8, Error> {
        let options = ApplyOptions {
            scope: if self.node { Scope::Node } else { Scope::Host },
            accept: self.accept.into_accept(),
            max_downtime: self.max_downtime,
            fetch: self.package.source.options(),
            ..ApplyOptions::new(self.dry_run)
        };
        applied(&self.root.root, &self.package.package, &options, self.json)
    }
}

/// `expand` and `unpin`: a package, the host, a dry run.
#[derive(clap::Args)]
pub struct PartArgs {
    package: PathBuf,
    #[command(flatten)]
    root: RootArg,
    /// Print the plan; change nothing
    #[arg(long)]
    dry_run: bool,
    /// Print the report (or the plan) as JSON
    #[arg(long)]
    json: bool,
}

impl PartArgs {
    /// Runs the part of a rolling hop that `scope` names.
    pub fn run(self, scope: Scope) -> Result<u8, Error> {
        let options = ApplyOptions {
            scope,
            ..ApplyOptions::new(self.dry_run)
        };
        applied(&self.root.root, &self.package, &options, self.json)
    }
}

#[derive(clap::Args)]
pub struct ContractArgs {
    package: PathBuf,
    #[command(flatten)]
    root: RootArg,
    /// Nodes that must run the hop's to version (the inventory's); with
    /// =ADDRESS, each must also answer its health probes there
    #[arg(long, value_delimiter = ',', value_name = "NODE[=ADDRESS],...")]
    nodes: Vec<String>,
    /// Print the plan; change nothing
    #[arg(long)]
    dry_run: bool,
    /// Print the report (or the plan) as JSON
    #[arg(long)]
    json: bool,
}

impl ContractArgs {
    pub fn run(self) -> Result<u8, Error> {
        let options = ApplyOptions {
            scope: Scope::Contract,
            nodes: self.nodes,
            ..ApplyOptions::new(self.dry_run)
        };
        applied(&self.root.root, &self.package, &options, self.json)
    }
}

/// Runs `apply` or a part of a rolling hop and prints what it did.
fn applied(
    root: &std::path::Path,
    package: &std::path::Path,
    options: &ApplyOptions,
    json: bool,
) -> Result<u8, Error> {
    let out = Terminal::new(json);
    match ops::apply::apply(root, package, options, &out)? {
        Applied::Plan(plan) => emit(json, &plan, |p| p.render())?,
        Applied::Upgraded(report) => emit(json, &report, |r| r.render())?,
        Applied::Nothing(why) => emit_outcome(json, "nothing to do", &why)?,
    }
    Ok(0)
}
