//! The vendor's checks, shipped in the package: a read-only query (any
//! row is a finding; the first rows are shown) or a script run with the
//! hooks' clean environment and its timeout (exit 0 ok, 1 warning,
//! 2 failure; its last lines are shown). Each finding carries the
//! vendor's remedy.

use std::path::Path;

use hop_artifact::PackageManifest;
use hop_artifact::package_manifest::VendorCheck;
use hop_exec::Command;
use hop_migrate::{Migrator, Options};

use super::{Check, Level, Preflight};
use crate::host::Host;
use crate::runner::Runner;

/// How many rows of a query's finding are shown.
const ROWS_SHOWN: usize = 5;

pub(super) fn checks(
    p: &mut Preflight,
    host: &Host,
    m: &PackageManifest,
    runner: &Runner,
    payload: &Path,
) {
    for c in &m.checks {
        let severity = if c.failure {
            Level::Failure
        } else {
            Level::Warning
        };
        let (result, details) = match run(c, host, runner, payload) {
            Ok(None) => (Level::Ok, "nothing found".to_owned()),
            Ok(Some((level, finding))) => (
                level.unwrap_or(severity),
                format!("{finding}; remedy: {}", c.remedy),
            ),
            Err(e) => (Level::Failure, format!("the check could not run: {e:#}")),
        };
        p.checks.push(Check {
            id: c.id.clone(),
            check: c.title.clone(),
            waivable: c.waivable,
            result,
            details,
            accepted: None,
        });
    }
}

/// The finding, if any, with the level a script's exit code gave it (a
/// query's finding has the check's severity).
fn run(
    c: &VendorCheck,
    host: &Host,
    runner: &Runner,
    payload: &Path,
) -> anyhow::Result<Option<(Option<Level>, String)>> {
    if let Some(sql) = &c.sql {
        let rows = Migrator::connect(&host.database_url()?, Options::default())?
            .run_check(sql, c.timeout)?;
        return Ok((!rows.is_empty()).then(|| (None, rows_text(&rows))));
    }
    let Some(member) = &c.script else {
        return Ok(None);
    };
    let output = payload.join(format!("check-{}.out", c.id));
    let script = payload.join(member);
    // As nobody, from a copy that user may read (the payload is root's).
    let staged = if c.runs_as_root() {
        None
    } else {
        Some(Unprivileged::stage(&script)?)
    };
    let program = staged.as_ref().map_or(script.clone(), |s| s.script.clone());
    let mut cmd = Command::new(&program.display().to_string())
        .env("HOP_ROOT", host.root.display().to_string())
        .env("HOP_CHECK", c.id.clone())
        .timeout(c.timeout)
        .contained(&host.root, output);
    cmd.user = staged.as_ref().map(|s| s.ids);
    let out = runner.run(&cmd)?;
    drop(staged);
    let (last, notes) = crate::containment::last_line_and_notes(&out.text);
    let mut last = crate::terminal::printable(&last);
    if !notes.is_empty() {
        last = format!("{last} ({})", notes.join("; "));
    }
    Ok(match out.code {
        Some(0) => None,
        Some(1) => Some((Some(Level::Warning), format!("warns: {last}"))),
        Some(2) => Some((Some(Level::Failure), format!("fails: {last}"))),
        other => Some((
            Some(Level::Failure),
            format!(
                "exited {}: {last}",
                other.map_or("on a signal".into(), |c| c.to_string())
            ),
        )),
    })
}

/// The user a check script runs as unless its manifest says root.
const UNPRIVILEGED: &str = "nobody";

/// A copy of a check script that the unprivileged user may read and run,
/// in a new directory of its own (removed when this goes).
struct Unprivileged {
    dir: std::path::PathBuf,
    script: std::path::PathBuf,
    ids: (u32, u32),
}

impl Unprivileged {
    fn stage(script: &Path) -> anyhow::Result<Self> {
        use anyhow::Context;
        use std::io::Write;
        use std::os::fd::AsFd;
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let user = nix::unistd::User::from_name(UNPRIVILEGED)?.with_context(|| {
            format!(
                "check scripts run as the user {UNPRIVILEGED}, which this host lacks; \
                 ask the vendor for `run_as: root` or add the user"
            )
        })?;
        let dir = std::env::temp_dir().join(format!("hop-check-{:016x}", rand::random::<u64>()));
        // mkdir fails on anything already there: the name is ours.
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        let staged = Self {
            script: dir.join("check"),
            dir,
            ids: (user.uid.as_raw(), user.gid.as_raw()),
        };
        let handle = std::fs::File::open(&staged.dir)?;
        nix::sys::stat::fchmod(
            handle.as_fd(),
            nix::sys::stat::Mode::from_bits_truncate(0o755),
        )?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o500)
            .custom_flags(nix::libc::O_NOFOLLOW)
            .open(&staged.script)?;
        file.write_all(&std::fs::read(script)?)?;
        nix::sys::stat::fchmod(
            file.as_fd(),
            nix::sys::stat::Mode::from_bits_truncate(0o555),
        )?;
        file.sync_all()?;
        Ok(staged)
    }
}

impl Drop for Unprivileged {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `3 row(s): (a@x, 2); (b@y, 3)`.
fn rows_text(rows: &[Vec<Option<String>>]) -> String {
    let shown: Vec<String> = rows
        .iter()
        .take(ROWS_SHOWN)
        .map(|r| {
            let cells: Vec<String> = r
                .iter()
                .map(|c| {
                    crate::terminal::printable(c.as_deref().unwrap_or("NULL")).replace('\n', "\\n")
                })
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect();
    let more = if rows.len() > ROWS_SHOWN { "; …" } else { "" };
    format!("{} row(s): {}{more}", rows.len(), shown.join("; "))
}
