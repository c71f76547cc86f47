//! `make bench`: hop measured against baselines in the same run, on this
//! machine, written to docs/benchmarks.md.
//!
//! * build of a hop with 1 GiB of RPMs vs `tar cf - … | sha256sum` of the
//!   same files; verify vs `sha256sum` of the package; peak RSS at 1 and
//!   4 GiB;
//! * the downtime window of `apply` vs a bare stop + start + health of the
//!   same services;
//! * a 100k-row batched post migration, in rows per second.

mod measure;
mod migration;
mod packages;
mod restart;

use std::path::PathBuf;

use anyhow::Result;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let mut out = PathBuf::from("docs/benchmarks.md");
    let mut sizes = vec![1u64, 4];
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = args.next().map(PathBuf::from).unwrap_or(out),
            "--quick" => sizes = vec![1],
            other => anyhow::bail!("unknown argument {other} (use --out FILE, --quick)"),
        }
    }
    let work = PathBuf::from("target/bench");
    std::fs::create_dir_all(&work)?;
    let machine = measure::machine();
    println!("machine: {machine}\n");

    let package_rows = packages::run(&work, &sizes)?;
    let downtime = restart::run(&work)?;
    let migrations = migration::run(&work)?;

    let report = measure::report(&machine, &package_rows, &downtime, &migrations);
    std::fs::write(&out, &report)?;
    println!("\nwrote {}", out.display());
    Ok(())
}
