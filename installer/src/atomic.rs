//! Durable, safe file updates in hop's own state directory: write a
//! temporary file with a random name (created `O_EXCL|O_NOFOLLOW`, so no
//! planted file or link is ever opened), set its mode on the open file,
//! fsync it, rename it over the target, fsync the directory. A crash leaves
//! the old file or the new one, never a torn one.
//!
//! Files on the host itself (configs) go through [`crate::hostfs`], which
//! also resolves every path inside the host's root.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;

/// A temporary name beside `path` that nobody can predict.
pub fn temporary_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nonce: u64 = rand::random();
    path.with_file_name(format!(".{name}.hop-{nonce:016x}"))
}

/// Replaces `path` with `data` atomically and durably, with `mode`.
pub fn write(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = temporary_name(path);
    let result = (|| {
        let mut file = create_new(&tmp, mode)?;
        file.write_all(data)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Creates a new file that must not exist (no link is followed), with
/// exactly `mode`.
pub fn create_new(path: &Path, mode: u32) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags((OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC).bits())
        .open(path)?;
    // The umask may have taken bits away; set them on the open file.
    file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    Ok(file)
}

/// Creates or truncates a private (0600) file of hop's, never following a
/// link at its name.
pub fn create_private(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags((OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC).bits())
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() || meta.nlink() != 1 {
        return Err(io::Error::other(format!(
            "{} is not a plain file of hop's",
            path.display()
        )));
    }
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

/// Appends a line to a private (0600) file of hop's, durably.
pub fn append_line(path: &Path, line: &str) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags((OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC).bits())
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    writeln!(file, "{line}")?;
    file.sync_data()
}

/// Flushes a directory's entries (a rename or a new file in it) to disk.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Creates a directory (and parents) readable only by its owner; an
/// existing one is made private through its open handle, never by path.
pub fn private_dir(path: &Path) -> io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)?;
    let dir = OpenOptions::new()
        .read(true)
        .custom_flags((OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC).bits())
        .open(path)?;
    if dir.metadata()?.mode() & 0o7777 != 0o700 {
        dir.set_permissions(std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Creates a fresh private directory and makes its entry in the parent
/// durable.
pub fn new_private_dir(path: &Path) -> io::Result<()> {
    private_dir(path)?;
    if let Some(parent) = path.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Reads a JSON file hop wrote: an error names the file, and says it is
/// damaged when it does not parse.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    use anyhow::Context;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is damaged", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_writes_through_a_planted_link() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let target = dir.path().join("state.json");
        // A link planted where a guessable temporary name would be.
        let pid = std::process::id();
        std::os::unix::fs::symlink(
            &victim,
            dir.path().join(format!(".state.json.hop-tmp-{pid}")),
        )
        .unwrap();
        write(&target, b"new", 0o600).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(std::fs::metadata(&target).unwrap().mode() & 0o7777, 0o600);
        std::os::unix::fs::symlink(&victim, dir.path().join("link")).unwrap();
        assert!(create_new(&dir.path().join("link"), 0o600).is_err());
        assert!(create_private(&dir.path().join("link")).is_err());
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    }
}
