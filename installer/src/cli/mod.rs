//! The command line: parses arguments and calls the verb's operation.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::error::Failure;
use crate::ops;

#[derive(Parser)]
#[command(
    name = "hop-install",
    version,
    about = "Verify and apply .hop upgrade packages on a manager host",
    after_help = "Exit status: 0 done; 1 failed and rolled back; 2 refused before any change; \
3 failed and needs attention (the message names the next command)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Check a package's signature and every byte of it
    #[command(
        after_help = "Examples:\n  hop-install verify manager-4.0.1-to-4.1.1.hop\n  \
hop-install verify manager-4.0.1-to-4.1.1.hop --key vendor.pub.asc\n\n\
Without --key, the host's trusted keys (host.yaml trusted_keys) are used."
    )]
    Verify {
        package: PathBuf,
        /// Trust this public key instead of the host's (repeatable)
        #[arg(long)]
        key: Vec<PathBuf>,
        /// The host's root directory
        #[arg(long, default_value = "/")]
        root: PathBuf,
    },
}

/// Runs a parsed command; `Ok` means exit 0.
pub fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Verify { package, key, root } => {
            let trusted = ops::verify::trusted_keys(&root, &key)?;
            let verified = ops::verify::verify(&package, &trusted)?;
            let signer = verified.signer.as_ref();
            println!(
                "OK {}: {} members intact, signed by {}{}",
                verified.manifest.title(),
                verified.manifest.members.len(),
                signer.map_or("?", |s| s.fingerprint.as_str()),
                signer
                    .map(|s| format!(" (trusted via {})", s.key_source))
                    .unwrap_or_default()
            );
            Ok(())
        }
    }
}
