//! `hop-install`: parses the command line, runs the verb, maps the outcome
//! to the documented exit code.

use std::process::ExitCode;

use clap::Parser;
use hop_installer::{Cli, run};

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("hop-install: {}: {e}", e.word());
            ExitCode::from(e.status() as u8)
        }
    }
}
