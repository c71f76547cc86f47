//! `hop-install verify`.

use std::path::PathBuf;

use hop_artifact::verify_report::VerifyReport;

use super::shared::{PackageArgs, RootArg, SOURCES, emit};
use crate::error::Error;
use crate::ops;

pub fn help() -> String {
    format!(
        "Examples:\n  hop-install verify manager-4.0.1-to-4.1.1.hop\n  \
hop-install verify manager-4.0.1-to-4.1.1.hop --key vendor.pub.asc\n\n\
Without --key, the host's trusted keys (host.yaml trusted_keys) are used. Exit 0 if good, 2 if not.\n\n{SOURCES}"
    )
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    package: PackageArgs,
    /// Trust this public key instead of the host's (repeatable)
    #[arg(long)]
    key: Vec<PathBuf>,
    #[command(flatten)]
    root: RootArg,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

impl VerifyArgs {
    pub fn run(self) -> Result<u8, Error> {
        let report = ops::verify::verify(
            &self.root.root,
            &self.package.package,
            &self.key,
            &self.package.source.options(),
        )?;
        emit(self.json, &report, VerifyReport::render)?;
        Ok(0)
    }
}
