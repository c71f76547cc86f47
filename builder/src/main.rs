//! `hop-build`: builds and checks `.hop` upgrade packages. This file only
//! runs the command line and maps the outcome to an exit status.

use std::process::ExitCode;

use clap::Parser;
use hop_builder::Refused;
use hop_builder::{Cli, run};

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let refused = e.downcast_ref::<Refused>().is_some();
            eprintln!("hop-build: {}", if refused { "refused" } else { "error" });
            eprintln!("{e:#}");
            ExitCode::from(if refused { 2 } else { 1 })
        }
    }
}
