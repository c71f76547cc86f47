//! Download and verify of the 1 GiB package from a loopback HTTP server
//! (testdata/servers/range_http.py), against `curl -o` of it followed by
//! `sha256sum`, from the same server in the same run. hop verifies while
//! the bytes arrive (head first, every member's digest), then once more
//! as `verify` reads the finished file.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};
use hop_testdata::servers::{FileServer, FileServerOptions};

use crate::measure::{median, shell, timed};

pub fn run(work: &Path) -> Result<String> {
    let served = work.join("served");
    std::fs::create_dir_all(&served)?;
    let package = served.join("bulk-1g.hop");
    if !package.exists() && !work.join("bulk-1g.hop").exists() {
        crate::packages::run(work, &[1])?;
    }
    if !package.exists() {
        std::fs::rename(work.join("bulk-1g.hop"), &package)
            .context("the packages section leaves bulk-1g.hop for this one")?;
    }
    let public = work.join("keys/bench.pub.asc").display().to_string();
    let server = FileServer::start(
        Command::new("python3"),
        &served,
        &FileServerOptions::default(),
    )?;
    let url = format!("http://127.0.0.1:{}/bulk-1g.hop", server.port);
    let copy = work.join("curl-copy.hop");
    let baseline_script = format!(
        "rm -f {c} && curl -sf -o {c} {url} && sha256sum {c} >/dev/null",
        c = copy.display()
    );
    shell(&baseline_script)?; // warm the page cache for both
    let baseline = median(3, || shell(&baseline_script), |s| *s)?;
    let _ = std::fs::remove_file(&copy);
    let root = work.join("no-host");
    let hop = median(
        3,
        || {
            timed(
                Path::new("target/release/hop-install"),
                &[
                    "verify",
                    &url,
                    "--key",
                    &public,
                    "--root",
                    &root.display().to_string(),
                ],
            )
        },
        |r| r.seconds,
    )?;
    let ratio = hop.seconds / baseline;
    println!(
        "download 1 GiB: hop verify URL {:.2}s vs curl -o + sha256sum {baseline:.2}s ({ratio:.2}×), peak RSS {:.1} MiB",
        hop.seconds, hop.peak_rss_mib
    );
    Ok(format!(
        "## Download and verify of a 1 GiB package over loopback HTTP\n\n\
         | | seconds | peak RSS |\n|---|---|---|\n\
         | `curl -o` + `sha256sum` (baseline) | {baseline:.2} | |\n\
         | `hop-install verify http://…` (download, verify as it arrives, verify the file) | {:.2} | {:.1} MiB |\n\n\
         Ratio {ratio:.2}× (target ≤ 1.2×: {}). Median of 3; the server is \
         testdata/servers/range_http.py on 127.0.0.1 for both.\n",
        hop.seconds,
        hop.peak_rss_mib,
        if ratio <= 1.2 { "met" } else { "NOT met" }
    ))
}
