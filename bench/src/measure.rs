//! Timing commands (wall time and peak RSS) and writing the report.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Wall time and peak resident memory of one command.
#[derive(Clone, Copy, Debug)]
pub struct Run {
    pub seconds: f64,
    pub peak_rss_mib: f64,
}

/// Runs `program args` under GNU time.
pub fn timed(program: &Path, args: &[&str]) -> Result<Run> {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%e %M"])
        .arg(program)
        .args(args)
        .output()
        .context("running /usr/bin/time (Debian package `time`)")?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!("{} {args:?} failed: {stderr}", program.display());
    }
    let last = stderr.lines().last().unwrap_or("");
    let mut parts = last.split_whitespace();
    let seconds: f64 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .context("elapsed")?;
    let kib: f64 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .context("max RSS")?;
    Ok(Run {
        seconds,
        peak_rss_mib: kib / 1024.0,
    })
}

/// Wall time of a shell pipeline.
pub fn shell(script: &str) -> Result<f64> {
    let start = Instant::now();
    let status = Command::new("sh").args(["-c", script]).status()?;
    if !status.success() {
        bail!("`{script}` failed");
    }
    Ok(start.elapsed().as_secs_f64())
}

/// The median of `runs` measurements of `f`.
pub fn median<T: Copy>(
    runs: usize,
    mut f: impl FnMut() -> Result<T>,
    key: impl Fn(&T) -> f64,
) -> Result<T> {
    let mut all = Vec::with_capacity(runs);
    for _ in 0..runs {
        all.push(f()?);
    }
    all.sort_by(|a, b| key(a).total_cmp(&key(b)));
    Ok(all[all.len() / 2])
}

pub fn duration_s(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// What this machine is.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map_or("?".into(), |kib| {
            format!("{:.0} GiB", kib / 1024.0 / 1024.0)
        });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cpu}, {cores} cores, {mem} RAM, Linux {}", kernel.trim())
}

/// One package-size row of the report.
pub struct PackageRow {
    pub gib: u64,
    pub build: Run,
    pub build_baseline: f64,
    pub verify: Run,
    pub verify_baseline: f64,
}

pub struct Downtime {
    /// The rehearsal's predicted window and rollback.
    pub predicted_seconds: f64,
    pub predicted_rollback_seconds: f64,
    /// `rollback --yes` after the apply (a restore of the dump).
    pub rollback_seconds: f64,
    pub apply_seconds: f64,
    /// First stop → every service answering healthy (what clients see).
    pub served_seconds: f64,
    /// The same, as a client polling every 5 ms from outside saw it.
    pub outside_seconds: f64,
    pub bare_seconds: f64,
    /// stop + start + health through supervisord's XML-RPC socket.
    pub floor_seconds: f64,
    pub runs: usize,
}

pub struct MigrationRow {
    pub database: &'static str,
    pub rows: u64,
    pub seconds: f64,
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

/// The markdown report (also printed).
pub fn report(
    machine: &str,
    packages: &[PackageRow],
    downtime: &Downtime,
    migrations: &[MigrationRow],
    sections: &[String],
) -> String {
    let mut out = format!(
        "# Benchmarks\n\nWritten by `make bench` on {} — {machine}. Every figure is measured against its\n\
         baseline in the same run, on the same files, with a warm page cache.\n\n",
        today()
    );
    out += "## Packages\n\n| RPMs | hop-build build | `tar cf - … \\| sha256sum` | ratio | hop-install verify | `sha256sum` | ratio | peak RSS build / verify |\n|---|---|---|---|---|---|---|---|\n";
    for r in packages {
        out += &format!(
            "| {} GiB | {:.2} s | {:.2} s | {:.2}× | {:.2} s | {:.2} s | {:.2}× | {:.1} / {:.1} MiB |\n",
            r.gib,
            r.build.seconds,
            r.build_baseline,
            r.build.seconds / r.build_baseline,
            r.verify.seconds,
            r.verify_baseline,
            r.verify.seconds / r.verify_baseline,
            r.build.peak_rss_mib,
            r.verify.peak_rss_mib
        );
    }
    let first = &packages[0];
    let max_rss = packages
        .iter()
        .map(|r| r.build.peak_rss_mib.max(r.verify.peak_rss_mib))
        .fold(0.0, f64::max);
    let min_rss = packages
        .iter()
        .map(|r| r.build.peak_rss_mib.min(r.verify.peak_rss_mib))
        .fold(f64::MAX, f64::min);
    out += &format!(
        "\nTargets: build ≤ 1.25× — {}; verify ≤ 1.1× — {}; peak RSS ≤ 64 MiB and flat from 1 to 4 GiB — {} ({:.1}–{:.1} MiB).\n",
        verdict(first.build.seconds / first.build_baseline <= 1.25),
        verdict(first.verify.seconds / first.verify_baseline <= 1.1),
        verdict(max_rss <= 64.0 && max_rss - min_rss < 8.0),
        min_rss,
        max_rss
    );
    out += "\nThe baselines hash with coreutils' `sha256sum`; hop hashes with the `sha2` crate, which uses the CPU's SHA extensions where it has them, and hashes several RPMs at once while building. Peak memory does not grow with the package: every member is streamed through a 1 MiB buffer.\n";
    let ratio = downtime.apply_seconds / downtime.bare_seconds;
    out += &format!(
        "\n## Downtime\n\n| `apply` 4.0.1 → 4.1.1 (first stop → health gate passed) | bare `supervisorctl stop` + `start` + health of the same services | ratio |\n|---|---|---|\n| {:.3} s | {:.3} s | {ratio:.2}× |\n\nMedian of {} runs on a sandbox host (SQLite, supervisord). Target ≤ 1.2× — {}.\n",
        downtime.apply_seconds,
        downtime.bare_seconds,
        downtime.runs,
        verdict(ratio <= 1.2)
    );
    let seen = downtime.served_seconds / downtime.floor_seconds;
    let outside = downtime.outside_seconds / downtime.floor_seconds;
    out += &format!(
        "\nThe window holds what a bare restart does not: the RPM transaction, the config deployment and the offline migrations, the drain of mgmtworker (SIGUSR2) before its stop, and the health gate's settle (the manifest's `settle: 2s`: every service must stay healthy that long, as the same process, before the gate passes; a bare restart stops waiting at the first good answer). supervisord waits its default `startsecs=1` before it calls each program started. The same stop + start + health through supervisord's XML-RPC socket, one service after the other — the sequential floor — takes {:.3} s: `apply`'s window until every service settled is {:.2}× that floor. As clients see it (first stop → both services answering healthy; the report's `served_again_ms`) it is {:.3} s, {seen:.2}× the sequential floor, because the two services, which name no `after:`, start together; a client polling both services' `/readyz` every 5 ms from outside during the same applies went unanswered for {:.3} s ({outside:.2}×). Target ≤ 0.6× — {}.\n",
        downtime.floor_seconds,
        downtime.apply_seconds / downtime.floor_seconds,
        downtime.served_seconds,
        downtime.outside_seconds,
        verdict(seen.max(outside) <= 0.6)
    );
    let off = |predicted: f64, actual: f64| (predicted / actual - 1.0) * 100.0;
    let window_off = off(downtime.predicted_seconds, downtime.apply_seconds);
    let rollback_off = off(
        downtime.predicted_rollback_seconds,
        downtime.rollback_seconds,
    );
    out += &format!(
        "\n### The rehearsal against the real thing\n\n| | predicted by `rehearse` | measured | error |\n|---|---|---|---|\n\
         | downtime window | {:.3} s | {:.3} s | {window_off:+.0}% |\n\
         | rollback (`rollback --yes`: restore + service steps) | {:.3} s | {:.3} s | {rollback_off:+.0}% |\n\n\
         Target: within ±25% — {}. (The installer's tests record their own rehearsal's error without judging it: a timed assertion fails on a loaded machine.)\n",
        downtime.predicted_seconds,
        downtime.apply_seconds,
        downtime.predicted_rollback_seconds,
        downtime.rollback_seconds,
        verdict(window_off.abs() <= 25.0 && rollback_off.abs() <= 25.0)
    );
    out +=
        "\n## Batched post migration\n\n| database | rows | time | rows/s |\n|---|---|---|---|\n";
    for m in migrations {
        out += &format!(
            "| {} | {} | {:.2} s | {:.0} |\n",
            m.database,
            m.rows,
            m.seconds,
            m.rows as f64 / m.seconds
        );
    }
    out += "\n1,000 rows per batch, each batch committed with its progress in the history table (so an interrupted run continues where it stopped).\n";
    for section in sections {
        out += "\n";
        out += section;
    }
    out
}

/// Today's date, YYYY-MM-DD.
fn today() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()[..10].to_owned()
}

/// The section on the rollback of a failed offline phase.
pub fn cheap_rollback_section(c: &crate::cheap_rollback::CheapRollback) -> String {
    let ratio = c.beyond_services_seconds / c.restore_seconds;
    format!(
        "## A failed offline phase on PostgreSQL\n\n\
         | rows | rollback beyond the services | the services (stop, start, health) | a restore of the same database from the hop's dump | ratio |\n|---|---|---|---|---|\n\
         | {} | {:.3} s | {:.3} s | {:.3} s | {ratio:.3}× |\n\n\
         The hop's last offline migration (a unique index over duplicates) fails; the phase ran in one transaction, so the rollback leaves the database alone (`rollback.no_restore`) instead of restoring it. Target: under a second beyond the services — {}.\n",
        c.rows,
        c.beyond_services_seconds,
        c.services_seconds,
        c.restore_seconds,
        verdict(c.beyond_services_seconds < 1.0)
    )
}
