//! `make bench`: hop measured against baselines in the same run, on this
//! machine, written to docs/benchmarks.md.
//!
//! * build of a hop with 1 GiB of RPMs vs `tar cf - … | sha256sum` of the
//!   same files; verify vs `sha256sum` of the package; peak RSS at 1 and
//!   4 GiB;
//! * the downtime window of `apply` vs a bare stop + start + health of the
//!   same services, and the rehearsal's predictions against it;
//! * the rollback of a failed offline phase over a million rows vs a
//!   restore of the same database;
//! * a 100k-row batched post migration, in rows per second;
//! * the capture of 512 MiB of installed RPMs vs `tar cf - | sha256sum`;
//! * reading and comparing a 500-table schema;
//! * download + verify of the 1 GiB package over loopback HTTP vs `curl -o`
//!   and `sha256sum`;
//! * backup and restore of a 1 GiB PostgreSQL database vs `pg_dump -Fc` /
//!   `pg_restore` (and the directory format with `-j 2`).

mod capture;
mod cheap_rollback;
mod download;
mod dump;
mod lint;
mod measure;
mod migration;
mod packages;
mod restart;
mod schema;

use std::path::PathBuf;

use anyhow::Result;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let mut out = PathBuf::from("docs/benchmarks.md");
    let mut sizes = vec![1u64, 4];
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // Internal: one capture, measured from outside by `run`.
            "capture" => {
                let (Some(root), Some(dir)) = (args.next(), args.next()) else {
                    anyhow::bail!("capture ROOT DIR");
                };
                return capture::capture_only(root.as_ref(), dir.as_ref());
            }
            // Internal: one lint run, measured from outside by `run`.
            "lint" => {
                let (Some(dir), Some(mode)) = (args.next(), args.next()) else {
                    anyhow::bail!("lint DIR split|lint");
                };
                return lint::lint_only(dir.as_ref(), mode == "split");
            }
            "--out" => out = args.next().map(PathBuf::from).unwrap_or(out),
            "--quick" => sizes = vec![1],
            // One section alone, printed, for working on it.
            "--only" => {
                let work = PathBuf::from("target/bench");
                std::fs::create_dir_all(&work)?;
                let section = match args.next().as_deref() {
                    Some("capture") => capture::run(&work)?,
                    Some("schema") => schema::run(&work)?,
                    Some("lint") => lint::run(&work)?,
                    Some("download") => download::run(&work)?,
                    Some("dump") => dump::run(&work)?,
                    Some("cheap-rollback") => {
                        let c = cheap_rollback::run(&restart::Demo::new(&work)?)?;
                        measure::cheap_rollback_section(&c)
                    }
                    Some("downtime") => {
                        let d = restart::run(&restart::Demo::new(&work)?)?;
                        format!(
                            "downtime: {:.3}s, as clients saw it {:.3}s (from outside {:.3}s), sequential floor {:.3}s",
                            d.apply_seconds, d.served_seconds, d.outside_seconds, d.floor_seconds
                        )
                    }
                    other => {
                        anyhow::bail!(
                            "--only capture|schema|lint|download|dump|downtime|cheap-rollback (not {other:?})"
                        )
                    }
                };
                println!("\n{section}");
                return Ok(());
            }
            other => {
                anyhow::bail!("unknown argument {other} (use --out FILE, --quick, --only SECTION)")
            }
        }
    }
    let work = PathBuf::from("target/bench");
    std::fs::create_dir_all(&work)?;
    let machine = measure::machine();
    println!("machine: {machine}\n");

    let package_rows = packages::run(&work, &sizes)?;
    let demo = restart::Demo::new(&work)?;
    let downtime = restart::run(&demo)?;
    let cheap = cheap_rollback::run(&demo)?;
    let migrations = migration::run(&work)?;
    let sections = vec![
        measure::cheap_rollback_section(&cheap),
        download::run(&work)?,
        dump::run(&work)?,
        capture::run(&work)?,
        schema::run(&work)?,
        lint::run(&work)?,
    ];

    let report = measure::report(&machine, &package_rows, &downtime, &migrations, &sections);
    std::fs::write(&out, &report)?;
    println!("\nwrote {}", out.display());
    Ok(())
}
