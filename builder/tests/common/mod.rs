//! What the builder's tests share: the fixtures and running `hop-build`.

#![allow(dead_code)]

use std::process::Command;

use hop_testdata::fixtures::{Fixtures, SOURCE_DATE_EPOCH};

pub fn fixtures() -> &'static Fixtures {
    Fixtures::get(env!("CARGO_TARGET_TMPDIR"))
}

pub use hop_testdata::output::Run;

/// `hop-build ARGS` with the fixtures' `SOURCE_DATE_EPOCH` and schema cache.
pub fn hop_build(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_hop-build"))
        .args(args)
        .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH.to_string())
        .env("HOP_SCHEMA_CACHE", fixtures().dir().join("schemas"))
        // clap wraps help at the terminal width; golden files need one.
        .env("COLUMNS", "100")
        .output()
        .expect("run hop-build");
    Run::from(out)
}
