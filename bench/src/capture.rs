//! The capture of installed RPMs (what a rollback needs on a host without
//! RPM files) against `tar cf - FILES | sha256sum` of the same files: a
//! host whose components hold 512 MiB, installed with the system `rpm`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::measure::{median, shell, timed};

/// The bulk RPMs installed (256 MiB each).
const RPMS: [&str; 2] = ["bulk00", "bulk01"];

/// Makes the host at `work/capture-root` (once).
fn host(work: &Path) -> Result<PathBuf> {
    let root = std::path::absolute(work.join("capture-root"))?;
    if root.join("etc/hop/host.yaml").exists() {
        return Ok(root);
    }
    let (_, files) = crate::packages::make_hop(&work.join("hop-1g"), 1)?;
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("etc/hop/trusted-keys"))?;
    let rpm = |args: &[&str]| -> Result<()> {
        let out = std::process::Command::new("rpm")
            .arg("--root")
            .arg(&root)
            .args(args)
            .output()?;
        if !out.status.success() {
            bail!("rpm {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    };
    rpm(&["--initdb"])?;
    let chosen: Vec<String> = files
        .iter()
        .filter(|f| RPMS.iter().any(|n| f.starts_with(&format!("{n}-"))))
        .map(|f| work.join("hop-1g").join(f).display().to_string())
        .collect();
    let mut args = vec!["-i"];
    args.extend(chosen.iter().map(String::as_str));
    rpm(&args)?;
    std::fs::write(
        root.join("etc/hop/host.yaml"),
        "product: bulk\nversion_from_rpm: bulk00\ndatabase: {url: \"sqlite:///var/lib/bulk.db\"}\n\
         services: {manager: systemd}\ntrusted_keys: /etc/hop/trusted-keys\n",
    )?;
    Ok(root)
}

/// `hop-bench capture ROOT DIR`: the capture alone, in its own process
/// (so that its time and peak memory can be measured).
pub fn capture_only(root: &Path, dir: &Path) -> Result<()> {
    use hop_installer::{Capture, Host, Log, Runner};
    let host = Host::open(root)?;
    let runner = Runner::new(Log::new());
    let names: Vec<String> = RPMS.iter().map(|s| s.to_string()).collect();
    let nevras: Vec<String> = names
        .iter()
        .map(|n| format!("{n}-1.0.1-1.noarch"))
        .collect();
    let index = Capture {
        host: &host,
        runner: &runner,
        dir: dir.to_path_buf(),
    }
    .take(&nevras, &names, &[])?;
    if index.bytes() < 512 << 20 {
        bail!("only {} bytes captured", index.bytes());
    }
    Ok(())
}

pub fn run(work: &Path) -> Result<String> {
    let root = host(work)?;
    let bench = std::env::current_exe().context("finding hop-bench")?;
    let dir = std::path::absolute(work.join("capture"))?;
    let files: Vec<String> = RPMS.iter().map(|n| format!("opt/bulk/{n}.bin")).collect();
    let tar = format!(
        "tar cf - -C {} {} | sha256sum >/dev/null",
        root.display(),
        files.join(" ")
    );
    shell(&tar)?;
    let baseline = median(3, || shell(&tar), |s| *s)?;
    let capture = median(
        3,
        || {
            let _ = std::fs::remove_dir_all(&dir);
            timed(
                &bench,
                &[
                    "capture",
                    &root.display().to_string(),
                    &dir.display().to_string(),
                ],
            )
        },
        |r| r.seconds,
    )?;
    let _ = std::fs::remove_dir_all(&dir);
    let ratio = capture.seconds / baseline;
    println!(
        "capture of 512 MiB of installed RPMs: {:.2}s vs tar|sha256sum {:.2}s ({ratio:.2}×), peak RSS {:.1} MiB",
        capture.seconds, baseline, capture.peak_rss_mib
    );
    Ok(format!(
        "## Capture of installed RPMs (rollback without RPM files)\n\n\
         | installed files | capture (copy, SHA-256, check against the RPM database, RPM database copy) | `tar cf - FILES \\| sha256sum` | ratio | peak RSS |\n\
         |---|---|---|---|---|\n\
         | 512 MiB in 2 RPMs | {:.2} s | {:.2} s | {ratio:.2}× | {:.1} MiB |\n\n\
         Median of 3 runs. Target ≤ 1.5× — {}. The capture is part of the backup step, which \
         runs while the services still serve: it does not lengthen the downtime window.\n",
        capture.seconds,
        baseline,
        capture.peak_rss_mib,
        if ratio <= 1.5 { "met" } else { "NOT met" }
    ))
}
