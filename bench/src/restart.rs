//! The downtime window of `apply` against a bare restart of the same
//! services, on a sandbox host whose supervisord waits its default
//! `startsecs=1` before it calls a program started: the window as clients
//! see it (first stop → both services answering) against the sequential
//! floor, where `apply` starts the two independent services together.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hop_testdata::sandbox::{Sandbox, SandboxOptions, ServedWatch, ready};

use hop_installer::Host;
use hop_installer::Log;
use hop_installer::Runner;
use hop_installer::service_manager;

use crate::measure::{Downtime, duration_s, median};

const RUNS: usize = 5;

/// Polls both services' `/readyz` until they answer, from `start`.
fn wait_healthy(start: Instant) -> Result<f64> {
    while !(ready(8101) && ready(8102)) {
        if start.elapsed() > Duration::from_secs(30) {
            bail!("the services did not come back");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(duration_s(start.elapsed()))
}

/// supervisorctl stop (reverse order), start (order), then both healthy:
/// the restart an operator types.
fn bare_restart(conf: &Path) -> Result<f64> {
    let ctl = |args: &[&str]| -> Result<()> {
        let ok = Command::new("supervisorctl")
            .arg("-c")
            .arg(conf)
            .args(args)
            .output()?
            .status
            .success();
        if ok {
            Ok(())
        } else {
            bail!("supervisorctl {args:?} failed")
        }
    };
    let start = Instant::now();
    ctl(&["stop", "mgmtworker", "rest-service"])?;
    ctl(&["start", "rest-service", "mgmtworker"])?;
    wait_healthy(start)
}

/// The same stop + start + health through supervisord's XML-RPC socket —
/// the client `apply` uses, without supervisorctl's Python start per call:
/// the floor any restart of these services can reach.
fn floor_restart(root: &Path) -> Result<f64> {
    let host = Host::open(root)?;
    let manager = service_manager(&host, &Runner::new(Log::new()))?;
    let start = Instant::now();
    for name in ["mgmtworker", "rest-service"] {
        manager.stop(name, Duration::from_secs(10))?;
    }
    for name in ["rest-service", "mgmtworker"] {
        manager.start(name)?;
    }
    wait_healthy(start)
}

/// One apply's window: (first stop → gate passed, first stop → every
/// service answering healthy as hop's report says, the same seen from
/// outside, the rollback after it), in seconds.
fn apply_once(root: &Path, package: &Path) -> Result<(f64, f64, f64, f64)> {
    let watch = ServedWatch::start(None, &[8101, 8102]);
    let out = Command::new("target/release/hop-install")
        .args([
            "apply",
            &package.display().to_string(),
            "--root",
            &root.display().to_string(),
            "--json",
        ])
        .output()?;
    let outside = watch.end()?.map_or(0.0, duration_s);
    if !out.status.success() {
        bail!("apply failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let ms = report["downtime_ms"]
        .as_u64()
        .context("no downtime in the report")?;
    let served = report["served_again_ms"]
        .as_u64()
        .context("no client-seen window in the report")?;
    let started = Instant::now();
    let back = Command::new("target/release/hop-install")
        .args(["rollback", "--yes", "--root", &root.display().to_string()])
        .output()?;
    if !back.status.success() {
        bail!("rollback failed: {}", String::from_utf8_lossy(&back.stderr));
    }
    let rollback = duration_s(started.elapsed());
    Ok((
        ms as f64 / 1000.0,
        served as f64 / 1000.0,
        outside,
        rollback,
    ))
}

/// What a rehearsal of `package` predicts: (window, rollback), seconds.
fn rehearse(root: &Path, package: &Path) -> Result<(f64, f64)> {
    let out = Command::new("target/release/hop-install")
        .args([
            "rehearse",
            &package.display().to_string(),
            "--root",
            &root.display().to_string(),
            "--json",
        ])
        .output()?;
    if !out.status.success() {
        bail!("rehearse failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let r: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let ms = |key: &str| -> Result<f64> {
        Ok(r["prediction"][key]
            .as_u64()
            .with_context(|| format!("no prediction.{key} in the rehearsal"))? as f64
            / 1000.0)
    };
    Ok((ms("window_ms")?, ms("rollback_ms")?))
}

/// supervisord's default `startsecs=1` for every program (the sandbox
/// writes 0), applied with `supervisorctl update`.
fn default_startsecs(conf: &Path) -> Result<()> {
    let text = std::fs::read_to_string(conf)?;
    std::fs::write(conf, text.replace("startsecs=0", "startsecs=1"))?;
    let ok = Command::new("supervisorctl")
        .arg("-c")
        .arg(conf)
        .arg("update")
        .status()?
        .success();
    if !ok {
        bail!("supervisorctl update failed");
    }
    wait_healthy(Instant::now()).map(drop)
}

/// The demo product's release tree, its 4.0.1 → 4.1.1 manifest beside it,
/// and the bench's key: what the sections that apply hops build from.
pub struct Demo {
    pub work: PathBuf,
    pub release: PathBuf,
    pub manifest: PathBuf,
    keys: PathBuf,
}

impl Demo {
    pub fn new(work: &Path) -> Result<Self> {
        let release = work.join("release");
        hop_testdata::product::write_release_tree(&release)?;
        let keys = crate::packages::keys(work)?;
        let manifests = work.join("manifests");
        std::fs::create_dir_all(&manifests)?;
        let manifest = manifests.join("manager-4.0.1-to-4.1.1.yaml");
        std::fs::copy("manifests/manager-4.0.1-to-4.1.1.yaml", &manifest)?;
        if !manifests.join("release").exists() {
            std::os::unix::fs::symlink(std::path::absolute(&release)?, manifests.join("release"))?;
        }
        Ok(Self {
            work: work.to_path_buf(),
            release,
            manifest,
            keys,
        })
    }

    /// The public key hosts trust.
    pub fn public_key(&self) -> PathBuf {
        self.keys.join("bench.pub.asc")
    }

    /// Builds `manifest` into `package` with the release binary.
    pub fn build(&self, manifest: &Path, package: &Path) -> Result<()> {
        let built = Command::new("target/release/hop-build")
            .args([
                "build",
                &manifest.display().to_string(),
                "--key",
                &self.keys.join("bench.sec.asc").display().to_string(),
                "-o",
                &package.display().to_string(),
            ])
            .output()?;
        if !built.status.success() {
            bail!("build failed: {}", String::from_utf8_lossy(&built.stderr));
        }
        Ok(())
    }
}

pub fn run(demo: &Demo) -> Result<Downtime> {
    let package = demo.work.join("manager-4.0.1-to-4.1.1.hop");
    demo.build(&demo.manifest, &package)?;
    let (release, keys) = (&demo.release, &demo.keys);
    let root = PathBuf::from("/tmp/hop-bench-host");
    let opts = SandboxOptions {
        netns: false,
        ..SandboxOptions::sqlite()
    };
    let sandbox = Sandbox::create(&root, release, &keys.join("bench.pub.asc"), &opts)?;
    let conf = root.join("etc/supervisord.conf");
    default_startsecs(&conf)?;
    let (predicted, predicted_rollback) = rehearse(&root, &package)?;
    bare_restart(&conf)?;
    let bare = median(RUNS, || bare_restart(&conf), |s| *s)?;
    let floor = median(RUNS, || floor_restart(&root), |s| *s)?;
    let applies = (0..RUNS)
        .map(|_| apply_once(&root, &package))
        .collect::<Result<Vec<_>>>()?;
    let middle = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let apply = middle(applies.iter().map(|a| a.0).collect());
    let served = middle(applies.iter().map(|a| a.1).collect());
    let outside = middle(applies.iter().map(|a| a.2).collect());
    let rolled_back = middle(applies.iter().map(|a| a.3).collect());
    drop(sandbox);
    println!(
        "downtime: apply {apply:.3}s vs bare restart {bare:.3}s ({:.2}×), vs the sequential XML-RPC floor {floor:.3}s ({:.2}×); \
         as clients saw it {served:.3}s ({:.2}× the floor; polled from outside {outside:.3}s, {:.2}×)",
        apply / bare,
        apply / floor,
        served / floor,
        outside / floor
    );
    println!(
        "rehearsal: predicted window {predicted:.3}s vs {apply:.3}s; rollback {predicted_rollback:.3}s vs {rolled_back:.3}s"
    );
    Ok(Downtime {
        predicted_seconds: predicted,
        predicted_rollback_seconds: predicted_rollback,
        rollback_seconds: rolled_back,
        apply_seconds: apply,
        served_seconds: served,
        outside_seconds: outside,
        bare_seconds: bare,
        floor_seconds: floor,
        runs: RUNS,
    })
}
