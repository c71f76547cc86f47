//! Putting a capture back: the RPM database as it was, every captured path
//! with its content, mode, owner and time, and nothing the new version
//! added. Every part can run again after a crash.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use super::{Entry, Index, LOCK_WAIT, RpmLock, What};
use crate::host::Host;
use crate::hostfs::Kind;
use crate::rpmdb::RpmDb;
use crate::runner::Runner;

/// Puts the capture in `dir` back on `host`.
pub fn restore(host: &Host, runner: &Runner, dir: &Path) -> Result<()> {
    let index = Index::load(dir)?;
    let db = RpmDb::new(runner, &host.root);
    let _held = RpmLock::take(host, &index.lock, LOCK_WAIT)?;
    let now = db.others(&index.components)?;
    if now != index.others {
        let changed: Vec<&String> = now
            .iter()
            .filter(|p| !index.others.contains(p))
            .chain(index.others.iter().filter(|p| !now.contains(p)))
            .collect();
        bail!(
            "packages other than the product's changed since the backup ({}): putting the \
             captured RPM database back would undo that, so hop stops here",
            changed
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    remove_leftovers(host, &index)?;
    // Deepest first, so a directory is empty when its turn comes.
    let mut absent = index.absent.clone();
    absent.sort_by_key(|p| std::cmp::Reverse(p.matches('/').count()));
    for path in &absent {
        match host.fs.stat(path)? {
            None => {}
            Some((Kind::Dir, _)) => {
                host.fs.remove_empty_dir(path)?;
            }
            Some(_) => host.fs.remove(path)?,
        }
    }
    // Shallowest first, so a directory exists before what it holds.
    let mut entries: Vec<&Entry> = index.entries.iter().collect();
    entries.sort_by_key(|e| e.path.matches('/').count());
    for e in entries {
        put_back(host, dir, e)?;
    }
    restore_database(host, dir, &index)
}

fn put_back(host: &Host, dir: &Path, e: &Entry) -> Result<()> {
    let owner = (e.uid, e.gid);
    let current = host.fs.stat(&e.path)?.map(|(k, _)| k);
    if current == Some(Kind::Dir) && e.what != What::Dir {
        // The new version made a directory where a file was.
        if !host.fs.remove_empty_dir(&e.path)? {
            bail!(
                "{} is a non-empty directory now; it was not one before",
                e.path
            );
        }
    }
    match &e.what {
        What::Dir => {
            if matches!(current, Some(Kind::File | Kind::Symlink)) {
                host.fs.remove(&e.path)?;
            }
            host.fs.ensure_dir(&e.path, e.mode & 0o7777, owner)
        }
        What::Symlink { target } => host.fs.symlink(&e.path, target, owner),
        What::File { blob, .. } => {
            let mut from = std::fs::File::open(dir.join("files").join(blob))
                .with_context(|| format!("the capture of {} is missing", e.path))?;
            host.fs.write_from(
                &e.path,
                &mut from,
                e.mode & 0o7777,
                Some(owner),
                Some(time(e.mtime_ns)),
            )
        }
    }
}

fn time(ns: i128) -> SystemTime {
    let ns = u64::try_from(ns.max(0)).unwrap_or(u64::MAX);
    UNIX_EPOCH + Duration::from_nanos(ns)
}

/// Replaces the RPM database's files with the captured ones: first every
/// current file goes (a stale SQLite write-ahead log must never meet the
/// captured database), then each captured file is written whole.
fn restore_database(host: &Host, dir: &Path, index: &Index) -> Result<()> {
    let dbpath = index.dbpath.trim_end_matches('/');
    for name in host.fs.list(dbpath)? {
        let path = format!("{dbpath}/{name}");
        if path == index.lock || name.starts_with(".rpm.lock") || name.starts_with(".hop-") {
            continue;
        }
        if matches!(host.fs.stat(&path)?, Some((Kind::File, _))) && !index.rpmdb.contains(&name) {
            host.fs.remove(&path)?;
        }
    }
    for name in host.fs.list(dbpath)? {
        if name.ends_with("-wal") || name.ends_with("-shm") || name.starts_with("__db.") {
            host.fs.remove(&format!("{dbpath}/{name}"))?;
        }
    }
    for name in &index.rpmdb {
        let saved: PathBuf = dir.join("rpmdb").join(name);
        let mut from = std::fs::File::open(&saved)
            .with_context(|| format!("the captured RPM database file {name} is missing"))?;
        host.fs.write_from(
            &format!("{dbpath}/{name}"),
            &mut from,
            0o644,
            Some((0, 0)),
            None,
        )?;
    }
    Ok(())
}

/// Removes what a killed rpm transaction leaves beside the files it was
/// writing (`path;<transaction id>`), which trip a new transaction that
/// gets the same id.
fn remove_leftovers(host: &Host, index: &Index) -> Result<()> {
    let paths = index
        .entries
        .iter()
        .map(|e| e.path.as_str())
        .chain(index.absent.iter().map(String::as_str));
    crate::rpm_leftovers::remove(host, paths)
}
