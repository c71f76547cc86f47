//! The host's files, every path resolved inside the host's root.
//!
//! hop runs as root on hosts where other people have accounts. A config
//! directory, a SQLite directory or a key directory may be writable by
//! the product's user; a link planted there must not make hop read or
//! write anything outside the root. So every host path goes through
//! [`pathrs`] (by the author of `openat2(RESOLVE_IN_ROOT)`, with a safe
//! fallback on kernels without it): symlinks resolve as they would inside
//! a chroot at the root, `..` stops at the root, and a swap during the walk
//! is detected. Files are written under a random temporary name created
//! `O_EXCL|O_NOFOLLOW`, owner and mode are set on the open file, and the
//! file is renamed into place: nothing is ever chmod-ed or chown-ed by path.
//!
//! At root `/` the same rules are the host's ordinary path rules.

use std::fs::{File, Metadata, Permissions};
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use pathrs::error::ErrorKind;
use pathrs::flags::{OpenFlags, RenameFlags};
use pathrs::{InodeType, Root, error::Error as PathError};

/// What is at a host path (a trailing link is not followed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Other,
}

impl Kind {
    fn of(meta: &Metadata) -> Self {
        let t = meta.file_type();
        if t.is_symlink() {
            Kind::Symlink
        } else if t.is_file() {
            Kind::File
        } else if t.is_dir() {
            Kind::Dir
        } else {
            Kind::Other
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Kind::File => "a regular file",
            Kind::Dir => "a directory",
            Kind::Symlink => "a symbolic link",
            Kind::Other => "a device, socket or pipe",
        }
    }
}

/// A regular file's content and ownership.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileData {
    pub data: Vec<u8>,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// Whether a file hop trusts (host.yaml, a trusted key) is safe from
/// other users: it belongs to root (or to the user hop runs as) and only
/// its owner may write it. Why not, naming `what`.
pub fn only_owner_may_write(what: &str, uid: u32, mode: u32) -> Result<(), String> {
    let me = nix::unistd::geteuid().as_raw();
    if uid != 0 && uid != me {
        return Err(format!(
            "{what} belongs to uid {uid}: whoever owns it decides what hop trusts; make it root's"
        ));
    }
    if mode & 0o022 != 0 {
        return Err(format!(
            "{what} is writable by others (mode {:o}): anyone who may write it decides what hop \
             trusts; chmod go-w it",
            mode & 0o7777
        ));
    }
    Ok(())
}

/// The host's file tree under its root.
pub struct HostFs {
    root: Root,
    dir: PathBuf,
}

fn is_missing(e: &PathError) -> bool {
    matches!(e.kind(), ErrorKind::OsError(Some(code))
        if code == nix::errno::Errno::ENOENT as i32 || code == nix::errno::Errno::ENOTDIR as i32)
}

/// The directory of a relative path (`.` at the top).
fn parent_of(rel: &Path) -> &Path {
    match rel.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// `/etc/x` → `etc/x`; `/` → `.`.
fn relative(path: &str) -> &Path {
    let rel = path.trim_start_matches('/');
    Path::new(if rel.is_empty() { "." } else { rel })
}

impl HostFs {
    /// The tree under `root` (resolved once; it must exist).
    pub fn open(root: &Path) -> Result<Self> {
        let dir = std::fs::canonicalize(root)
            .with_context(|| format!("cannot resolve the root {}", root.display()))?;
        let root =
            Root::open(&dir).with_context(|| format!("cannot open the root {}", dir.display()))?;
        Ok(Self { root, dir })
    }

    /// The root directory, resolved.
    pub fn root_dir(&self) -> &Path {
        &self.dir
    }

    /// What is at `path`, if anything, and its metadata (no trailing link
    /// followed).
    pub fn stat(&self, path: &str) -> Result<Option<(Kind, Metadata)>> {
        match self.root.resolve_nofollow(relative(path)) {
            Ok(handle) => {
                let meta = File::from(OwnedFd::from(handle))
                    .metadata()
                    .with_context(|| format!("cannot look at {path}"))?;
                Ok(Some((Kind::of(&meta), meta)))
            }
            Err(e) if is_missing(&e) => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot resolve {path} inside the root")),
        }
    }

    /// A regular file's bytes; `None` if nothing is there. Links inside
    /// the root are followed; anything but a regular file is an error.
    pub fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.read_file(path)?.map(|f| f.data))
    }

    /// A regular file with its mode and owner; `None` if nothing is there.
    pub fn read_file(&self, path: &str) -> Result<Option<FileData>> {
        let mut file = match self
            .root
            .open_subpath(relative(path), OpenFlags::O_RDONLY | OpenFlags::O_NONBLOCK)
        {
            Ok(f) => f,
            Err(e) if is_missing(&e) => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot open {path}")),
        };
        let meta = file.metadata()?;
        if !meta.is_file() {
            bail!(
                "{path} is {}, not a regular file",
                Kind::of(&meta).describe()
            );
        }
        let mut data = Vec::with_capacity(meta.len() as usize);
        file.read_to_end(&mut data)
            .with_context(|| format!("cannot read {path}"))?;
        Ok(Some(FileData {
            data,
            mode: meta.mode() & 0o7777,
            uid: meta.uid(),
            gid: meta.gid(),
        }))
    }

    /// Replaces `path` with `data` atomically and durably, as
    /// [`HostFs::write_from`] does.
    pub fn write(
        &self,
        path: &str,
        data: &[u8],
        mode: u32,
        owner: Option<(u32, u32)>,
    ) -> Result<()> {
        self.write_from(path, &mut &data[..], mode, owner, None)
    }

    /// Replaces `path` with the bytes of `source` atomically and durably:
    /// a fresh file with `mode`, (when given) `owner` and modification
    /// time, renamed over whatever was there (a link at `path` is replaced,
    /// never followed). Missing parent directories are created (0755).
    pub fn write_from(
        &self,
        path: &str,
        source: &mut dyn Read,
        mode: u32,
        owner: Option<(u32, u32)>,
        mtime: Option<SystemTime>,
    ) -> Result<()> {
        let rel = relative(path);
        let parent = parent_of(rel);
        self.root
            .mkdir_all(parent, &Permissions::from_mode(0o755))
            .with_context(|| format!("cannot create the directory of {path}"))?;
        let tmp = crate::atomic::temporary_name(rel);
        let result = (|| -> Result<()> {
            let mut file = self
                .root
                .create_file(
                    &tmp,
                    OpenFlags::O_WRONLY | OpenFlags::O_EXCL | OpenFlags::O_NOFOLLOW,
                    &Permissions::from_mode(0o600),
                )
                .with_context(|| format!("cannot create a temporary file beside {path}"))?;
            std::io::copy(source, &mut file)?;
            if let Some((uid, gid)) = owner {
                std::os::unix::fs::fchown(&file, Some(uid), Some(gid))?;
            }
            // After the chown, which clears set-id bits.
            file.set_permissions(Permissions::from_mode(mode))?;
            if let Some(t) = mtime {
                file.set_modified(t)?;
            }
            file.sync_all()?;
            self.root
                .rename(&tmp, rel, RenameFlags::empty())
                .with_context(|| format!("cannot move the new {path} into place"))?;
            self.root
                .open_subpath(parent, OpenFlags::O_RDONLY | OpenFlags::O_DIRECTORY)?
                .sync_all()?;
            Ok(())
        })();
        if result.is_err() {
            let _ = self.root.remove_file(&tmp);
        }
        result.with_context(|| format!("writing {path}"))
    }

    /// Makes `path` a symbolic link to `target` owned by `owner`, replacing
    /// whatever file or link was there.
    pub fn symlink(&self, path: &str, target: &str, owner: (u32, u32)) -> Result<()> {
        let rel = relative(path);
        self.root
            .mkdir_all(parent_of(rel), &Permissions::from_mode(0o755))
            .with_context(|| format!("cannot create the directory of {path}"))?;
        let tmp = crate::atomic::temporary_name(rel);
        let result = (|| -> Result<()> {
            self.root
                .create(&tmp, &InodeType::Symlink(PathBuf::from(target)))
                .with_context(|| format!("cannot create the link {path}"))?;
            let link = OwnedFd::from(self.root.resolve_nofollow(&tmp)?);
            nix::unistd::fchownat(
                &link,
                "",
                Some(owner.0.into()),
                Some(owner.1.into()),
                nix::fcntl::AtFlags::AT_EMPTY_PATH,
            )?;
            self.root.rename(&tmp, rel, RenameFlags::empty())?;
            Ok(())
        })();
        if result.is_err() {
            let _ = self.root.remove_file(&tmp);
        }
        result.with_context(|| format!("linking {path} to {target}"))
    }

    /// Makes `path` a directory with exactly `mode` and `owner` (set on the
    /// open directory), creating it and its parents when missing.
    pub fn ensure_dir(&self, path: &str, mode: u32, owner: (u32, u32)) -> Result<()> {
        let rel = relative(path);
        let handle = self
            .root
            .mkdir_all(rel, &Permissions::from_mode(0o755))
            .with_context(|| format!("cannot create the directory {path}"))?;
        let dir = handle.reopen(OpenFlags::O_RDONLY | OpenFlags::O_DIRECTORY)?;
        std::os::unix::fs::fchown(&dir, Some(owner.0), Some(owner.1))?;
        dir.set_permissions(Permissions::from_mode(mode))?;
        Ok(())
    }

    /// Removes the directory `path` if it is empty; `false` if it is not.
    pub fn remove_empty_dir(&self, path: &str) -> Result<bool> {
        match self.root.remove_dir(relative(path)) {
            Ok(()) => Ok(true),
            Err(e) if is_missing(&e) => Ok(true),
            Err(e)
                if matches!(e.kind(), ErrorKind::OsError(Some(code))
                    if code == nix::errno::Errno::ENOTEMPTY as i32
                        || code == nix::errno::Errno::EEXIST as i32) =>
            {
                Ok(false)
            }
            Err(e) => Err(e).with_context(|| format!("cannot remove {path}")),
        }
    }

    /// Where the link at `path` points.
    pub fn read_link(&self, path: &str) -> Result<String> {
        Ok(self
            .root
            .readlink(relative(path))
            .with_context(|| format!("cannot read the link {path}"))?
            .display()
            .to_string())
    }

    /// Opens the regular file at `path` for reading, a trailing link not
    /// followed.
    pub fn open_file(&self, path: &str) -> Result<File> {
        self.root
            .open_subpath(relative(path), OpenFlags::O_RDONLY | OpenFlags::O_NOFOLLOW)
            .with_context(|| format!("cannot open {path}"))
    }

    /// Opens (creating it, mode 0644, when missing) a file to lock.
    pub fn open_lock(&self, path: &str) -> Result<File> {
        let rel = relative(path);
        match self
            .root
            .open_subpath(rel, OpenFlags::O_RDWR | OpenFlags::O_NOFOLLOW)
        {
            Ok(f) => Ok(f),
            Err(e) if is_missing(&e) => self
                .root
                .create_file(
                    rel,
                    OpenFlags::O_RDWR | OpenFlags::O_EXCL | OpenFlags::O_NOFOLLOW,
                    &Permissions::from_mode(0o644),
                )
                .with_context(|| format!("cannot create {path}")),
            Err(e) => Err(e).with_context(|| format!("cannot open {path}")),
        }
    }

    /// Removes the file (or link) at `path`; nothing there is fine.
    pub fn remove(&self, path: &str) -> Result<()> {
        match self.root.remove_file(relative(path)) {
            Ok(()) => Ok(()),
            Err(e) if is_missing(&e) => Ok(()),
            Err(e) => Err(e).with_context(|| format!("cannot remove {path}")),
        }
    }

    /// The real path of an existing `path` resolved inside the root, for
    /// tools that need a path (`supervisorctl -c`, SQLite).
    pub fn real_path(&self, path: &str) -> Result<PathBuf> {
        let handle = self
            .root
            .resolve(relative(path))
            .with_context(|| format!("cannot resolve {path} inside {}", self.dir.display()))?;
        let fd = OwnedFd::from(handle);
        let real = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
            .with_context(|| format!("cannot tell where {path} is"))?;
        if !real.starts_with(&self.dir) {
            bail!("{path} resolves to {}, outside the root", real.display());
        }
        Ok(real)
    }

    /// The real path `path` would have inside the root once created: its
    /// parent resolved inside the root, its own name kept.
    pub fn real_path_for(&self, path: &str) -> Result<PathBuf> {
        let rel = relative(path);
        let (Some(parent), Some(name)) = (rel.parent(), rel.file_name()) else {
            return self.real_path(path);
        };
        let parent = parent.to_string_lossy();
        Ok(self.real_path(&format!("/{parent}"))?.join(name))
    }

    /// The names in directory `path` (resolved inside the root).
    pub fn list(&self, path: &str) -> Result<Vec<String>> {
        let dir = self.real_path(path)?;
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .with_context(|| format!("cannot read {path}"))?
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        names.sort();
        Ok(names)
    }
}

#[cfg(test)]
mod tests;
