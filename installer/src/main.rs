//! `hop-install`: parses the command line, runs the verb, maps the outcome
//! to the documented exit code.

use std::process::ExitCode;

use clap::Parser;
use hop_installer::{Cli, run};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(hop_installer::CONTAIN_VERB) {
        return hop_installer::contain(&args[1..]);
    }
    match run(Cli::parse()) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!(
                "hop-install: {}: {}",
                e.word(),
                hop_installer::printable(&e.to_string())
            );
            ExitCode::from(e.status() as u8)
        }
    }
}
