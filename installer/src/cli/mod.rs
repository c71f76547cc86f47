//! The command line: parses arguments, calls the verb's operation, prints
//! its result (text, or JSON with `--json`).

mod run;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub use run::run;

const EXIT_CODES: &str = "Exit status: 0 done; 1 failed and rolled back (the host is where it was); \
2 refused before any change; 3 failed and needs attention (the message names the next command).";

#[derive(Parser)]
#[command(name = "hop-install", version, about = "Verify and apply .hop upgrade packages on a manager host", after_help = EXIT_CODES)]
/// The command line of `hop-install`.
pub struct Cli {
    /// The verb.
    #[command(subcommand)]
    pub command: Command,
}

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

/// Where packages can come from, for `--help`.
const SOURCES: &str = "A package is a file, an https:// URL or s3://BUCKET/KEY. A remote one is downloaded into\n\
/var/lib/hop/downloads/ while it is verified (signed head first, then every member), resumes\n\
after a cut, and is refused (exit 2) if a byte differs from what the vendor signed. S3 uses\n\
AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, AWS_REGION and AWS_ENDPOINT_URL.";

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

#[derive(Subcommand)]
pub enum Command {
    /// Check a package's signature and every byte of it
    #[command(
        after_help = format!("Examples:\n  hop-install verify manager-4.0.1-to-4.1.1.hop\n  \
hop-install verify manager-4.0.1-to-4.1.1.hop --key vendor.pub.asc\n\n\
Without --key, the host's trusted keys (host.yaml trusted_keys) are used. Exit 0 if good, 2 if not.\n\n{SOURCES}")
    )]
    Verify {
        package: PathBuf,
        #[command(flatten)]
        source: SourceArgs,
        /// Trust this public key instead of the host's (repeatable)
        #[arg(long)]
        key: Vec<PathBuf>,
        #[command(flatten)]
        root: RootArg,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Run the preflight checks for a package and print them as a table
    #[command(
        after_help = format!("Examples:\n  hop-install check manager-4.0.1-to-4.1.1.hop\n  \
hop-install check manager-4.0.1-to-4.1.1.hop --json\n\n\
Changes nothing. Exit 0 when every check is OK, 1 when some only warn, 2 on any FAILURE.\n\n\
Each check has a stable id (ID column, `id` in JSON). A WARNING or FAILURE that does not\n\
apply to this host can be accepted for check, apply and upgrade with --accept ID --reason\n\
TEXT; only {} can be, and\n\
the acceptance, who ran it and why go into the operation's record, history and report.\n\n{SOURCES}",
        crate::preflight::CheckId::acceptable_list())
    )]
    Check {
        package: PathBuf,
        #[command(flatten)]
        source: SourceArgs,
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
    },
    /// Upgrade this host by one hop, rolling back on any failure
    #[command(
        after_help = format!("Examples:\n  hop-install apply manager-4.0.1-to-4.1.1.hop --dry-run\n  \
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
A node that already runs the hop's to version is left alone (exit 0).\n\n{SOURCES}")
    )]
    Apply {
        package: PathBuf,
        #[command(flatten)]
        source: SourceArgs,
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
    },
    /// Cluster, once before the roll: back up the database and apply the online migrations
    #[command(
        after_help = "Example:\n  hop-install expand manager-4.0.1-to-4.1.1.hop\n\n\
The first part of a rolling hop (docs/cluster.md). Run it on one node, while every node\n\
serves; then `hop-install apply PKG --node` on each node in turn, then `contract`. Only a\n\
hop without offline migrations can roll (else exit 2). A failure leaves the online\n\
migrations that completed (they are additive, the cluster runs on them) and restores\n\
nothing, since the other nodes keep writing; run expand again after the fix. Already\n\
expanded: nothing to do (exit 0)."
    )]
    Expand {
        package: PathBuf,
        #[command(flatten)]
        root: RootArg,
        /// Print the plan; change nothing
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// Cluster, once after every node runs the new version: apply the post migrations
    #[command(
        after_help = "Example:\n  hop-install contract manager-4.0.1-to-4.1.1.hop --nodes m1=10.0.0.11,m2=10.0.0.12,m3=10.0.0.13\n\n\
The last part of a rolling hop (docs/cluster.md). Refused (exit 2) while a node the\n\
database records, or one named with --nodes, runs another version, or a node given with\n\
an address does not answer the hop's HTTP/TCP health probes there. Post migrations only\n\
go forward: a failure stops at a batch boundary (exit 3), `hop-install resume` finishes.\n\
The next hop may start only after its contract. Already done: nothing to do (exit 0)."
    )]
    Contract {
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
        #[arg(long)]
        json: bool,
    },
    /// Cluster, on each node after contract: deploy the hop's final configs (no more pins) and restart
    #[command(
        after_help = "Example:\n  hop-install unpin manager-4.0.1-to-4.1.1.hop\n\n\
For a rolling hop that pins versions while the cluster is mixed (a config's `during_roll`\n\
file, docs/cluster.md): after contract, take the node out of the balancer and unpin it —\n\
the final configs are deployed, the services restarted and health-gated; a failure puts\n\
the pinned configs back (exit 1). Refused (exit 2) unless the node runs the hop's to\n\
version. Already unpinned: nothing to do (exit 0)."
    )]
    Unpin {
        package: PathBuf,
        #[command(flatten)]
        root: RootArg,
        /// Print the plan; change nothing
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// The route from the installed version to VERSION through the given packages
    #[command(after_help = "Examples:\n  hop-install path --to 4.2.0 packages/\n  \
hop-install path --to 4.2.0 packages/ --dot | dot -Tpng > route.png\n\n\
Reads the packages' signed heads (files, or directories of *.hop); the route has the\n\
fewest hops, ties going to the newest intermediate versions. Without a route, says which\n\
hop is missing (exit 2). Changes nothing.")]
    Path {
        /// The version to reach
        #[arg(long, value_name = "VERSION")]
        to: String,
        /// Packages, or directories holding them (local, https://…/ or s3://BUCKET/PREFIX/)
        #[arg(required = true, value_name = "PKG_OR_DIR")]
        packages: Vec<PathBuf>,
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        root: RootArg,
        /// Print the graph in Graphviz DOT, the route highlighted
        #[arg(long, conflicts_with = "json")]
        dot: bool,
        #[arg(long)]
        json: bool,
    },
    /// Predict the downtime: run the hop's migrations on a copy of the live database
    #[command(after_help = format!("Examples:\n  hop-install rehearse manager-4.0.1-to-4.1.1.hop\n  \
hop-install apply manager-4.0.1-to-4.1.1.hop --max-downtime 2m\n\n\
Dumps the live database (only read), loads the dump into a scratch copy (a temporary\n\
database on the same server; SQLite: a copy of the file) and runs every migration of\n\
the hop on it, phase by phase, measuring each one's time, rows, lock waits and growth.\n\
When the PostgreSQL server's disk has no room for a copy, the copy goes into a private\n\
cluster instead: made with the server's own initdb under --scratch-dir, with its\n\
settings and roles, reachable only through a socket in its directory, removed after.\n\
Prints the predicted downtime window (offline migrations + stopping, installing,\n\
starting and health-gating the services, as this host's last hop took them), the\n\
predicted rollback (restoring the dump) and the slowest migrations. The scratch copy\n\
is always dropped; one a killed rehearsal left is dropped by the next. The result is\n\
kept in /var/lib/hop/rehearsals/ for `check` and `apply --max-downtime`. Exit 0 when\n\
done, 1 when a migration fails on the copy (nothing on the host changed), 2 refused.\n\n{SOURCES}"))]
    Rehearse {
        package: PathBuf,
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        root: RootArg,
        /// Print the result as JSON (format hop.rehearsal/1)
        #[arg(long)]
        json: bool,
        /// PostgreSQL: copy into a private cluster (initdb) even when the server has room
        #[arg(long)]
        scratch_cluster: bool,
        /// Where a private cluster goes (a directory only root may change) [default: /var/tmp]
        #[arg(long, value_name = "DIR")]
        scratch_dir: Option<PathBuf>,
    },
    /// Upgrade across several hops, one after the other
    #[command(
        after_help = "Examples:\n  hop-install upgrade --to 4.2.0 packages/ --dry-run\n  \
hop-install upgrade --to 4.2.0 packages/\n\n\
Every package on the route is verified before the first change. Each hop runs as\n\
`apply` does, its post migrations finished before the next hop starts. On a failure the\n\
chain stops with the host at the last good version (exit 1), naming the packages left.\n\
After a crash, `hop-install resume` finishes the hop and continues the chain.\n\n\
Examples with published packages:\n  hop-install upgrade --to 4.3.0 --from-repo s3://vendor-packages/manager/\n  \
dnf install manager-hop-4.0.1-to-4.1.1 && hop-install upgrade --to 4.1.1"
    )]
    Upgrade {
        #[arg(long, value_name = "VERSION")]
        to: String,
        /// Packages, or directories holding them [default: /var/lib/hop/packages/, where
        /// `dnf install PRODUCT-hop-FROM-to-TO` puts them]
        #[arg(value_name = "PKG_OR_DIR")]
        packages: Vec<PathBuf>,
        /// A published repository to find the route in: https://…/DIR/ (with the
        /// hop-index.json `hop-build index` writes) or s3://BUCKET/PREFIX/; only the
        /// packages on the route are downloaded
        #[arg(long, value_name = "URL")]
        from_repo: Vec<PathBuf>,
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        root: RootArg,
        #[command(flatten)]
        accept: AcceptArgs,
        /// Verify, check the first hop and print the route and plan; change nothing
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// Finish an interrupted operation: forward if its changes were complete, else back
    #[command(after_help = "Example:\n  hop-install resume\n\n\
Forward once the interrupted hop's offline migrations were done (exit 0), else it rolls\n\
back (exit 1); a rollback that was itself interrupted is continued. Either way the\n\
services end healthy. Tools an interrupted run left running are ended first. A chain\n\
(upgrade --to) continues.")]
    Resume {
        #[command(flatten)]
        root: RootArg,
        #[arg(long)]
        json: bool,
    },
    /// Undo an interrupted operation, or a committed hop (with --yes)
    #[command(
        after_help = "Examples:\n  hop-install rollback\n  hop-install rollback --yes\n\n\
Undoes an operation interrupted before it committed. A hop that committed (or completed,\n\
until the next hop is applied) is rolled back only with --yes: users may have written on\n\
the new version since, and the database goes back to the dump taken before the hop, so\n\
those changes are lost; without --yes hop says what would be lost and changes nothing."
    )]
    Rollback {
        #[command(flatten)]
        root: RootArg,
        /// Confirm rolling back a committed hop (database changes since its backup are lost)
        #[arg(long)]
        yes: bool,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Where this host stands and what to run: versions, RPMs, schema, services, an unfinished operation
    #[command(after_help = "Example:\n  hop-install status --json\n\n\
An unfinished operation (a crash, a kill, a failed rollback) is shown with what `resume`\n\
would do and why, what `rollback` would do, and the command to run. Exit status: 0, or 3\n\
while an operation is unfinished. Read-only.")]
    Status {
        #[command(flatten)]
        root: RootArg,
        #[arg(long)]
        json: bool,
    },
    /// List the operations run on this host
    #[command(after_help = "Example:\n  hop-install history")]
    History {
        #[command(flatten)]
        root: RootArg,
        #[arg(long)]
        json: bool,
    },
    /// Database views
    #[command(subcommand)]
    Db(DbCommand),
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
    Diff {
        /// A package whose expected `from` schema to compare with
        package: Option<PathBuf>,
        #[command(flatten)]
        root: RootArg,
        #[arg(long)]
        json: bool,
    },
    /// The schema history and the pending migrations of the installed version
    #[command(after_help = "Example:\n  hop-install db status\n\nRead-only.")]
    Status {
        #[command(flatten)]
        root: RootArg,
        #[arg(long)]
        json: bool,
    },
}
