//! `hop-testdata`: makes the demo product's release tree (and, later,
//! sandbox hosts) from the command line, for `make demo` and benchmarks.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Fixtures for hop: the demo product's release tree and sandbox hosts")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the demo product's RPMs, configs and migrations for every version.
    Release {
        /// Where to write the tree (the manifests expect manifests/release).
        #[arg(long, default_value = "manifests/release")]
        out: PathBuf,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Release { out } => {
            hop_testdata::product::write_release_tree(&out)?;
            println!("wrote the release tree of manager to {}", out.display());
        }
    }
    Ok(())
}
