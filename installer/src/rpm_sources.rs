//! Original RPM files of the installed version, when a host has them: the
//! copies hop keeps of the version it installed (`/var/lib/hop/rpms`), and
//! the host's `rpm_cache`.
//!
//! No file is trusted by its name or its path. A directory is used only if
//! it and every directory above it belong to root and nobody else may
//! write them (a sticky directory such as `/tmp` is allowed: others cannot
//! replace what root made in it) — checked while walking down from `/`
//! one component at a time without following links, so the directory
//! opened is the one checked. Each file is opened once through that
//! directory's handle and read only through its own handle: its header
//! digest (SHA256HEADER, or SIGMD5 for old RPMs) must be the installed
//! package's, and its digests (`rpm -K`) must hold, so a payload changed
//! behind an intact header is refused too. The backup then copies it
//! through the handle into hop's private directory and checks the copy
//! again: what a rollback installs is what was checked. Without verified
//! files for every installed component, hop captures them from the host
//! instead (`capture`).

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use nix::fcntl::{OFlag, openat};
use nix::sys::stat::{Mode, SFlag, fstat};

use crate::host::Host;
use crate::rpmdb::RpmDb;
use crate::runner::Runner;

/// A verified RPM file, held open.
#[derive(Debug)]
pub struct Candidate {
    /// Where it was found, for messages.
    pub path: PathBuf,
    file: File,
}

/// What the search found.
#[derive(Debug, Default)]
pub struct Sources {
    /// Verified files: (installed NEVRA, file).
    pub files: Vec<(String, Candidate)>,
    /// Files (or directories) refused, each with why and what to do.
    pub refused: Vec<String>,
}

impl Sources {
    /// The verified file of `nevra`, if any.
    pub fn file_of(&self, nevra: &str) -> Option<&Candidate> {
        self.files.iter().find(|(n, _)| n == nevra).map(|(_, f)| f)
    }

    /// Whether every one of `nevras` has a verified file.
    pub fn cover(&self, nevras: &[String]) -> bool {
        nevras.iter().all(|n| self.file_of(n).is_some())
    }
}

/// Looks for verified files of the `installed` NEVRAs.
pub fn find(host: &Host, runner: &Runner, installed: &[String]) -> Result<Sources> {
    let db = RpmDb::new(runner, &host.root);
    let mut sources = Sources::default();
    let mut dirs = vec![(host.state().rpms(), "hop's copies".to_owned())];
    if let Some(cache) = &host.config.rpm_cache {
        // No cache directory on this host: nothing to use.
        if let Ok(dir) = host.fs.real_path(cache) {
            dirs.push((dir, format!("the rpm_cache {cache}")));
        }
    }
    for (dir, what) in dirs {
        let handle = match open_trusted_dir(&dir) {
            Ok(Some(handle)) => handle,
            Ok(None) => continue,
            Err(why) => {
                sources.refused.push(format!(
                    "{what} {why}: hop does not trust files anyone else can put there; \
                     make it and every directory above it root's and not writable by others \
                     (or remove rpm_cache from host.yaml: hop captures the installed RPMs from \
                     the host)"
                ));
                continue;
            }
        };
        let mut names = entries(&handle);
        names.sort();
        for name in names.into_iter().filter(|n| n.ends_with(".rpm")) {
            let path = dir.join(&name);
            let Some(mut file) = open_in(&handle, &name) else {
                continue;
            };
            let Some(nevra) = nevra_of(&mut file) else {
                continue;
            };
            if !installed.contains(&nevra) || sources.file_of(&nevra).is_some() {
                continue;
            }
            match verify(&db, &nevra, &file) {
                Ok(()) => sources.files.push((nevra, Candidate { path, file })),
                Err(why) => sources.refused.push(format!(
                    "{} (in {what}) says it is {nevra}, but {why}: it is another build, or was \
                     changed; remove it",
                    path.display()
                )),
            }
        }
    }
    Ok(sources)
}

impl Candidate {
    /// Copies the file through its handle into `target` (new, 0600) and
    /// checks the copy is still `nevra`'s installed package.
    pub fn save_verified(&self, db: &RpmDb<'_>, nevra: &str, target: &Path) -> Result<()> {
        let mut from = self.file.try_clone()?;
        from.seek(SeekFrom::Start(0))?;
        let mut to = hop_migrate::backup::create_private(target)?;
        std::io::copy(&mut from, &mut to)
            .with_context(|| format!("copying {}", self.path.display()))?;
        to.sync_all()?;
        let copy = File::open(target)?;
        if let Err(why) = verify(db, nevra, &copy) {
            let _ = std::fs::remove_file(target);
            bail!(
                "{} changed while it was copied ({why}); remove it and run again",
                self.path.display()
            );
        }
        Ok(())
    }
}

/// Whether `file` is the installed `nevra`: the same header digest and
/// intact digests. Read through the handle (as rpm's standard input).
fn verify(db: &RpmDb<'_>, nevra: &str, file: &File) -> Result<(), String> {
    let installed = db
        .header_digest(nevra)
        .map_err(|e| format!("its installed header cannot be read ({e:#})"))?;
    let through = fd_path(file);
    match db.file_header_digest_of_stdin(&through) {
        Ok(d) if d == installed => {}
        Ok(_) => return Err("its header is not the installed package's".into()),
        Err(e) => return Err(format!("its header cannot be read ({e:#})")),
    }
    if !db.digests_ok_of_stdin(&through).unwrap_or(false) {
        return Err("its payload does not match its header's digests".into());
    }
    Ok(())
}

/// `/proc/self/fd/N` of an open file: opening it opens that very file.
fn fd_path(file: &File) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()))
}

/// The NEVRA the header says, read from the start of `file`.
fn nevra_of(file: &mut File) -> Option<String> {
    file.seek(SeekFrom::Start(0)).ok()?;
    let mut reader = std::io::BufReader::new(&*file);
    let meta = rpm::PackageMetadata::parse(&mut reader).ok()?;
    crate::rpmdb::nevra_of_metadata(&meta).ok()
}

/// Opens `dir` from `/` down, each component without following links and
/// checked as it is opened; `None` when it does not exist.
fn open_trusted_dir(dir: &Path) -> Result<Option<OwnedFd>, String> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let root = File::open("/").map_err(|e| format!("cannot open / ({e})"))?;
    let mut handle: OwnedFd = root.into();
    let mut walked = PathBuf::from("/");
    check_dir(&handle, &walked)?;
    for part in dir.components() {
        let Component::Normal(name) = part else {
            continue;
        };
        walked.push(name);
        handle = match openat(handle.as_fd(), name, flags, Mode::empty()) {
            Ok(h) => h,
            Err(nix::errno::Errno::ENOENT) => return Ok(None),
            Err(nix::errno::Errno::ELOOP | nix::errno::Errno::ENOTDIR) => {
                return Err(format!(
                    "has {} on its path, which is not a directory",
                    walked.display()
                ));
            }
            Err(e) => return Err(format!("cannot be opened at {} ({e})", walked.display())),
        };
        check_dir(&handle, &walked)?;
    }
    Ok(Some(handle))
}

/// Root owns the directory and only root may write it, or it is sticky.
fn check_dir(handle: &OwnedFd, path: &Path) -> Result<(), String> {
    let st = fstat(handle.as_fd()).map_err(|e| format!("cannot be read ({e})"))?;
    let mode = st.st_mode & 0o7777;
    if st.st_uid != 0 {
        return Err(format!(
            "is under {}, which belongs to uid {}",
            path.display(),
            st.st_uid
        ));
    }
    if mode & 0o022 != 0 && mode & 0o1000 == 0 {
        return Err(format!(
            "is under {}, which is writable by others (mode {mode:o})",
            path.display()
        ));
    }
    Ok(())
}

/// The names in an open directory.
fn entries(handle: &OwnedFd) -> Vec<String> {
    std::fs::read_dir(format!("/proc/self/fd/{}", handle.as_raw_fd()))
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Opens a regular file of the directory without following a link.
fn open_in(dir: &OwnedFd, name: &str) -> Option<File> {
    let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
    let fd = openat(dir.as_fd(), name, flags, Mode::empty()).ok()?;
    let st = fstat(fd.as_fd()).ok()?;
    (SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFREG).then(|| fd.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_under_one_others_may_write_is_not_trusted() {
        let base = tempfile::tempdir_in("/var/tmp").unwrap();
        let open = base.path().join("open");
        let cache = open.join("rpms");
        std::fs::create_dir_all(&cache).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(base.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(open_trusted_dir(&cache).unwrap().is_some());
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let why = open_trusted_dir(&cache).unwrap_err();
        assert!(why.contains("writable by others (mode 777)"), "{why}");
        assert!(why.contains(&open.display().to_string()), "{why}");
        // Sticky, as /tmp: others cannot replace root's entries.
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).unwrap();
        assert!(open_trusted_dir(&cache).unwrap().is_some());
        // A link on the way is not followed.
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
        let link = base.path().join("link");
        std::os::unix::fs::symlink(&open, &link).unwrap();
        let why = open_trusted_dir(&link.join("rpms")).unwrap_err();
        assert!(why.contains("not a directory"), "{why}");
        assert!(
            open_trusted_dir(&base.path().join("none/rpms"))
                .unwrap()
                .is_none()
        );
    }
}
