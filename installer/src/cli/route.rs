//! `hop-install path` and `upgrade`: the route through several hops.

use std::path::PathBuf;

use super::shared::{AcceptArgs, RootArg, SourceArgs, emit, emit_outcome};
use crate::error::Error;
use crate::ops;
use crate::ops::upgrade::{UpgradeOptions, Upgraded};
use crate::terminal::Terminal;

pub const PATH_HELP: &str = "Examples:\n  hop-install path --to 4.2.0 packages/\n  \
hop-install path --to 4.2.0 packages/ --dot | dot -Tpng > route.png\n\n\
Reads the packages' signed heads (files, or directories of *.hop); the route has the\n\
fewest hops, ties going to the newest intermediate versions. Without a route, says which\n\
hop is missing (exit 2). Changes nothing.";

pub const UPGRADE_HELP: &str = "Examples:\n  hop-install upgrade --to 4.2.0 packages/ --dry-run\n  \
hop-install upgrade --to 4.2.0 packages/\n\n\
Every package on the route is verified before the first change. Each hop runs as\n\
`apply` does, its post migrations finished before the next hop starts. On a failure the\n\
chain stops with the host at the last good version (exit 1), naming the packages left.\n\
After a crash, `hop-install resume` finishes the hop and continues the chain.\n\n\
Examples with published packages:\n  hop-install upgrade --to 4.3.0 --from-repo s3://vendor-packages/manager/\n  \
dnf install manager-hop-4.0.1-to-4.1.1 && hop-install upgrade --to 4.1.1";

#[derive(clap::Args)]
pub struct PathArgs {
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
}

impl PathArgs {
    pub fn run(self) -> Result<u8, Error> {
        let report = ops::path::path(
            &self.root.root,
            &self.to,
            &self.packages,
            &self.source.options(),
        )?;
        if self.dot {
            print!("{}", report.dot);
        } else {
            emit(self.json, &report, ops::path::render)?;
        }
        Ok(0)
    }
}

#[derive(clap::Args)]
pub struct UpgradeArgs {
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
}

impl UpgradeArgs {
    pub fn run(self) -> Result<u8, Error> {
        let out = Terminal::new(self.json);
        let packages: Vec<PathBuf> = self.packages.into_iter().chain(self.from_repo).collect();
        let options = UpgradeOptions {
            dry_run: self.dry_run,
            accept: self.accept.into_accept(),
            fetch: self.source.options(),
        };
        match ops::upgrade::upgrade(&self.root.root, &self.to, &packages, &options, &out)? {
            Upgraded::Plan(plan) => emit(self.json, &plan, |p| p.render())?,
            Upgraded::Done(chain) => emit(self.json, &chain, |r| r.render())?,
            Upgraded::Nothing(why) => emit_outcome(self.json, "nothing to do", &why)?,
        }
        Ok(0)
    }
}
