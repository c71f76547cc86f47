//! Capturing the installed component RPMs from the host itself, so that a
//! rollback never needs RPM files the host does not have (dnf keeps none).
//!
//! Before the first change (in the backup step, while the services still
//! run), hop copies every path the installed components own — and every
//! path the new components will write that exists already, and the
//! `.rpmnew`/`.rpmsave` places of their configs — with its content, mode,
//! owner, group and modification time, checking each file against the
//! digest the RPM database records for it; and it copies the RPM database
//! itself, holding rpm's own transaction lock. A rollback puts exactly that
//! back ([`restore`]): the same `rpm -qa`, the same files, `rpm -V` as
//! before (a `%config` file the user edited comes back as the user left
//! it), and no scriptlet of the new version runs, so none can delete what
//! the old version needs. Why this and not rebuilt RPMs:
//! docs/decisions.md.

mod digest;
mod restore;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::fcntl::{FcntlArg, fcntl};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use digest::FileDigest;
pub use restore::restore;

use crate::atomic;
use crate::host::Host;
use crate::hostfs::Kind;
use crate::rpmdb::{OwnedFile, RpmDb};
use crate::runner::Runner;

/// What a capture holds (`index.json` beside the copies).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Index {
    /// The RPM database's directory inside the root (`%{_dbpath}`).
    pub dbpath: String,
    /// rpm's transaction lock inside the root (`%{_rpmlock_path}`).
    pub lock: String,
    /// The NEVRAs captured.
    pub packages: Vec<String>,
    /// The product's component names, old and new: the packages a restore
    /// may change in the RPM database.
    pub components: Vec<String>,
    /// Every other installed package (`NEVRA digest`): a restore puts the
    /// database copy back only if these are still exactly the same.
    pub others: Vec<String>,
    /// What to put back.
    pub entries: Vec<Entry>,
    /// Paths the new version may create that did not exist: removed.
    pub absent: Vec<String>,
    /// The database's files, copied under `rpmdb/`.
    pub rpmdb: Vec<String>,
}

/// One captured path.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub what: What,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Modification time, ns since the epoch.
    pub mtime_ns: i128,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum What {
    File {
        blob: String,
        size: u64,
        sha256: String,
    },
    Dir,
    Symlink {
        target: String,
    },
}

impl Index {
    pub fn path(dir: &Path) -> PathBuf {
        dir.join("index.json")
    }

    pub fn load(dir: &Path) -> Result<Self> {
        crate::atomic::read_json(&Self::path(dir))
    }

    /// Bytes of file content captured.
    pub fn bytes(&self) -> u64 {
        self.entries
            .iter()
            .map(|e| match e.what {
                What::File { size, .. } => size,
                _ => 0,
            })
            .sum()
    }
}

/// rpm's transaction lock, held so no rpm or dnf transaction runs while
/// hop copies or replaces the RPM database. rpm takes an fcntl write lock
/// on the lock file; an open-file-description lock conflicts with it.
pub struct RpmLock {
    _file: File,
}

impl RpmLock {
    pub fn take(host: &Host, lock: &str, wait: Duration) -> Result<Self> {
        let file = host.fs.open_lock(lock)?;
        let deadline = Instant::now() + wait;
        let flock = write_lock();
        loop {
            match fcntl(&file, FcntlArg::F_OFD_SETLK(&flock)) {
                Ok(_) => return Ok(Self { _file: file }),
                Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EACCES)
                    if Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => bail!(
                    "cannot take rpm's transaction lock {lock}: {e} (is an rpm or dnf transaction running?)"
                ),
            }
        }
    }
}

/// A write lock on the whole file (`l_pid` must be 0 for OFD locks).
fn write_lock() -> nix::libc::flock {
    nix::libc::flock {
        l_type: nix::libc::F_WRLCK as i16,
        l_whence: nix::libc::SEEK_SET as i16,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    }
}

/// Where a capture keeps its copies.
pub struct Capture<'a> {
    /// The host whose RPMs are captured.
    pub host: &'a Host,
    /// Runs `rpm` (and logs it).
    pub runner: &'a Runner,
    /// `backup/capture/` of the operation.
    pub dir: PathBuf,
}

/// RPM's number for SHA-256 (PGPHASHALGO_SHA256).
const SHA256_ALGO: u32 = 8;

/// How long hop waits for another rpm transaction to finish.
const LOCK_WAIT: Duration = Duration::from_secs(120);

impl Capture<'_> {
    /// Captures the installed packages `old` (the components the hop
    /// replaces) and whatever the new component RPMs `new` would overwrite.
    pub fn take(&self, old: &[String], components: &[String], new: &[PathBuf]) -> Result<Index> {
        atomic::new_private_dir(&self.dir)?;
        atomic::private_dir(&self.dir.join("files"))?;
        atomic::private_dir(&self.dir.join("rpmdb"))?;
        let db = RpmDb::new(self.runner, &self.host.root);
        let dbpath = db.eval("%{_dbpath}")?;
        let lock = db.eval("%{_rpmlock_path}")?;
        let _held = RpmLock::take(self.host, &lock, LOCK_WAIT)?;

        // What the database says each old path should be.
        let mut recorded: BTreeMap<String, (OwnedFile, u32, String)> = BTreeMap::new();
        for package in db.files(old)? {
            for f in package.files {
                recorded.insert(
                    f.path.clone(),
                    (f, package.digest_algo, package.nevra.clone()),
                );
            }
        }
        let mut paths: BTreeSet<String> = recorded.keys().cloned().collect();
        let mut configs: Vec<String> = recorded
            .values()
            .filter(|(f, _, _)| f.is_config())
            .map(|(f, _, _)| f.path.clone())
            .collect();
        for rpm in new {
            let meta = rpm::PackageMetadata::open(rpm)
                .with_context(|| format!("reading {}", rpm.display()))?;
            for entry in meta.get_file_entries()? {
                let path = entry.path().display().to_string();
                if entry.flags().contains(rpm::FileFlags::CONFIG) {
                    configs.push(path.clone());
                }
                paths.insert(path);
            }
        }
        for c in configs {
            paths.insert(format!("{c}.rpmnew"));
            paths.insert(format!("{c}.rpmsave"));
        }

        let mut entries = Vec::new();
        let mut absent = Vec::new();
        for (i, path) in paths.iter().enumerate() {
            let Some((kind, meta)) = self.host.fs.stat(path)? else {
                absent.push(path.clone());
                continue;
            };
            let what = match kind {
                Kind::Dir => What::Dir,
                Kind::Symlink => What::Symlink {
                    target: self.host.fs.read_link(path)?,
                },
                Kind::File => self.copy_file(path, i, recorded.get(path))?,
                Kind::Other => bail!(
                    "{path} is {}; hop captures files, directories and links only",
                    kind.describe()
                ),
            };
            entries.push(Entry {
                path: path.clone(),
                what,
                mode: meta.mode(),
                uid: meta.uid(),
                gid: meta.gid(),
                mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            });
        }

        let mut rpmdb = Vec::new();
        for name in self.host.fs.list(&dbpath)? {
            let path = format!("{}/{name}", dbpath.trim_end_matches('/'));
            if Some(path.as_str()) == Some(lock.as_str()) || name.starts_with(".rpm.lock") {
                continue;
            }
            if !matches!(self.host.fs.stat(&path)?, Some((Kind::File, _))) {
                continue;
            }
            let mut from = self.host.fs.open_file(&path)?;
            let mut to = atomic::create_new(&self.dir.join("rpmdb").join(&name), 0o600)?;
            std::io::copy(&mut from, &mut to).with_context(|| format!("copying {path}"))?;
            to.sync_all()?;
            rpmdb.push(name);
        }
        let index = Index {
            dbpath,
            lock,
            packages: old.to_vec(),
            components: components.to_vec(),
            others: db.others(components)?,
            entries,
            absent,
            rpmdb,
        };
        atomic::sync_dir(&self.dir.join("files"))?;
        atomic::sync_dir(&self.dir.join("rpmdb"))?;
        atomic::write(
            &Index::path(&self.dir),
            &serde_json::to_vec_pretty(&index)?,
            0o600,
        )?;
        Ok(index)
    }

    /// Copies one regular file into the capture, reading it once: its
    /// SHA-256 for the restore, and — for a file the RPM database records,
    /// not `%config` — the database's digest, which must match.
    fn copy_file(
        &self,
        path: &str,
        index: usize,
        recorded: Option<&(OwnedFile, u32, String)>,
    ) -> Result<What> {
        let blob = format!("{index:08}");
        let mut from = self.host.fs.open_file(path)?;
        let mut to = atomic::create_new(&self.dir.join("files").join(&blob), 0o600)?;
        let check = recorded.filter(|(f, _, _)| !f.is_config() && !f.is_ghost() && f.is_regular());
        // SHA-256 is computed anyway; another algorithm only when the
        // package records another (MD5 in old packages).
        let mut rpm_digest = check
            .filter(|(_, algo, _)| *algo != SHA256_ALGO)
            .and_then(|(_, algo, _)| FileDigest::for_rpm_algo(*algo));
        let mut sha256 = Sha256::new();
        let mut size = 0u64;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = from
                .read(&mut buf)
                .with_context(|| format!("reading {path}"))?;
            if n == 0 {
                break;
            }
            let chunk = &buf[..n];
            sha256.update(chunk);
            if let Some(d) = rpm_digest.as_mut() {
                d.update(chunk);
            }
            to.write_all(chunk)
                .with_context(|| format!("copying {path}"))?;
            size += n as u64;
        }
        to.sync_data()?;
        let sha256: String = sha256
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if let Some((f, _, nevra)) = check {
            let found = match rpm_digest {
                Some(d) => d.hex(),
                None => sha256.clone(),
            };
            if !f.digest.is_empty() && found != f.digest {
                bail!(
                    "{path} is not the file {nevra} installed (its digest differs from the RPM \
                     database's), so it cannot be captured for a rollback; `rpm -V {}` shows the \
                     change: reinstall the package's file, then run hop again",
                    crate::rpmdb::name_of_nevra(nevra).unwrap_or_default()
                );
            }
        }
        Ok(What::File { blob, size, sha256 })
    }
}
