//! `hop-install`: parses the command line, runs the verb, maps the outcome
//! to the documented exit code.

use std::process::ExitCode;

use clap::Parser;
use hop_installer::cli::{Cli, run};
use hop_installer::error::ExitStatus;

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            let word = match failure.status {
                ExitStatus::Refused => "refused",
                ExitStatus::RolledBack => "failed and rolled back",
                ExitStatus::NeedsAttention => "failed, needs attention",
                ExitStatus::Done => "done",
            };
            eprintln!("hop-install: {word}: {failure}");
            ExitCode::from(failure.status as u8)
        }
    }
}
