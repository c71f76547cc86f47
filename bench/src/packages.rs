//! Build and verify of packages with 1 and 4 GiB of RPMs, against
//! `tar cf - … | sha256sum` and `sha256sum`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use hop_testdata::rpms::RpmSpec;

use crate::measure::{PackageRow, median, shell, timed};

const MIB: u64 = 1 << 20;
/// RPMs are made of this many MiB each.
const RPM_MIB: u64 = 256;

/// Fills `buf` with cheap pseudo-random bytes (incompressible, unlike
/// zeros, so no filesystem can shortcut them).
fn fill(buf: &mut [u8], mut state: u64) {
    for chunk in buf.chunks_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let bytes = state.to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
}

/// A directory with `gib` GiB of RPMs and a manifest naming them.
pub fn make_hop(dir: &Path, gib: u64) -> Result<(PathBuf, Vec<String>)> {
    std::fs::create_dir_all(dir)?;
    let count = gib * 1024 / RPM_MIB;
    let mut names = Vec::new();
    let mut manifest = String::from("product: bulk\nfrom: 1.0.0\nto: 1.0.1\ncomponents:\n");
    for i in 0..count {
        let name = format!("bulk{i:02}");
        let file = format!("{name}-1.0.1-1.noarch.rpm");
        if !dir.join(&file).exists() {
            let mut data = vec![0u8; (RPM_MIB * MIB) as usize];
            fill(&mut data, 0x9e37_79b9_7f4a_7c15 ^ i);
            let mut spec =
                RpmSpec::new(&name, "1.0.1").file(&format!("/opt/bulk/{name}.bin"), data, 0o644);
            spec.uncompressed = true;
            spec.build(dir)?;
        }
        manifest += &format!("  - {{rpm: {file}, name: {name}, version: 1.0.1}}\n");
        names.push(file);
    }
    let path = dir.join("bulk.yaml");
    std::fs::write(&path, manifest)?;
    Ok((path, names))
}

/// The bench's signing key pair in `work/keys` (made once).
pub fn keys(work: &Path) -> Result<PathBuf> {
    let keys = work.join("keys");
    if !keys.join("bench.sec.asc").exists() {
        std::fs::create_dir_all(&keys)?;
        timed(
            &PathBuf::from("target/release/hop-build"),
            &[
                "keygen",
                "--out-dir",
                &keys.display().to_string(),
                "--name",
                "bench",
            ],
        )?;
    }
    Ok(keys)
}

pub fn run(work: &Path, sizes: &[u64]) -> Result<Vec<PackageRow>> {
    let bin = PathBuf::from("target/release");
    let keys = keys(work)?;
    let secret = keys.join("bench.sec.asc").display().to_string();
    let public = keys.join("bench.pub.asc").display().to_string();
    let mut rows = Vec::new();
    for &gib in sizes {
        let dir = work.join(format!("hop-{gib}g"));
        let (manifest, files) = make_hop(&dir, gib)?;
        let package = work.join(format!("bulk-{gib}g.hop"));
        let pkg = package.display().to_string();
        let runs = if gib <= 1 { 3 } else { 1 };
        let tar = format!(
            "tar cf - -C {} {} | sha256sum >/dev/null",
            dir.display(),
            files.join(" ")
        );
        shell(&tar)?; // warm the page cache for both
        let build_baseline = median(runs, || shell(&tar), |s| *s)?;
        let build = median(
            runs,
            || {
                timed(
                    &bin.join("hop-build"),
                    &[
                        "build",
                        &manifest.display().to_string(),
                        "--key",
                        &secret,
                        "-o",
                        &pkg,
                    ],
                )
            },
            |r| r.seconds,
        )?;
        let sum = format!("sha256sum {pkg} >/dev/null");
        shell(&sum)?;
        let verify_baseline = median(runs, || shell(&sum), |s| *s)?;
        let verify = median(
            runs,
            || {
                timed(
                    &bin.join("hop-install"),
                    &["verify", &pkg, "--key", &public],
                )
            },
            |r| r.seconds,
        )?;
        println!(
            "{gib} GiB: build {:.2}s vs tar|sha256sum {:.2}s ({:.2}×), verify {:.2}s vs sha256sum {:.2}s ({:.2}×), peak RSS {:.1} / {:.1} MiB",
            build.seconds,
            build_baseline,
            build.seconds / build_baseline,
            verify.seconds,
            verify_baseline,
            verify.seconds / verify_baseline,
            build.peak_rss_mib,
            verify.peak_rss_mib
        );
        // The 1 GiB package is what the download section fetches.
        if gib != 1 {
            std::fs::remove_file(&package)?;
        }
        rows.push(PackageRow {
            gib,
            build,
            build_baseline,
            verify,
            verify_baseline,
        });
    }
    Ok(rows)
}
