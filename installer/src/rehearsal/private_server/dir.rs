//! The private directory a cluster lives in: `hop-rehearsal-<pid>` under
//! a parent only root can change (a sticky one such as /var/tmp will
//! do), created new (never one that was there), owned by the user the
//! cluster runs as through its open handle, mode 0700.

use std::fs::OpenOptions;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use nix::fcntl::OFlag;
use nix::unistd::{Uid, User};

/// Why `user` cannot use a directory under `parent`, if it cannot.
pub fn unusable_parent(parent: &Path, user: &User) -> Option<String> {
    let meta = match std::fs::metadata(parent) {
        Ok(m) if m.is_dir() => m,
        Ok(_) => return Some(format!("{} is not a directory", parent.display())),
        Err(e) => return Some(format!("{}: {e}", parent.display())),
    };
    let writable_by_others = meta.mode() & 0o022 != 0;
    let sticky = meta.mode() & 0o1000 != 0;
    if meta.uid() != 0 || (writable_by_others && !sticky) {
        return Some(format!(
            "{} can be changed by users other than root",
            parent.display()
        ));
    }
    let resolved = std::fs::canonicalize(parent).ok()?;
    resolved.ancestors().find_map(|dir| {
        let m = std::fs::metadata(dir).ok()?;
        let may_enter = m.mode() & 0o001 != 0
            || (m.uid() == user.uid.as_raw() && m.mode() & 0o100 != 0)
            || (m.gid() == user.gid.as_raw() && m.mode() & 0o010 != 0);
        (!may_enter).then(|| {
            format!(
                "the user {} (whom the cluster runs as) cannot enter {}",
                user.name,
                dir.display()
            )
        })
    })
}

/// This process's cluster directory under `parent`.
pub fn path_under(parent: &Path) -> PathBuf {
    parent.join(format!("hop-rehearsal-{}", std::process::id()))
}

/// Creates [`path_under`] `parent` for `user`.
pub fn create(parent: &Path, user: &User) -> Result<PathBuf> {
    let dir = path_under(parent);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let handle = OpenOptions::new()
        .read(true)
        .custom_flags((OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC).bits())
        .open(&dir)
        .with_context(|| format!("cannot open {}", dir.display()))?;
    let meta = handle.metadata()?;
    if meta.uid() != 0 || !meta.is_dir() {
        bail!("{} is not the directory hop just made", dir.display());
    }
    nix::unistd::fchown(&handle, Some(user.uid), Some(user.gid))
        .with_context(|| format!("cannot give {} to {}", dir.display(), user.name))?;
    Ok(dir)
}

/// The user a cluster copying the live server runs as: the owner of the
/// live server's files when they are here, else `postgres`.
pub fn run_as(data_directory: Option<&Path>) -> Result<User> {
    let owner = data_directory
        .and_then(|d| std::fs::metadata(d).ok())
        .map(|m| Uid::from_raw(m.uid()))
        .filter(|u| !u.is_root());
    let user = match owner {
        Some(uid) => User::from_uid(uid)?,
        None => User::from_name("postgres")?,
    };
    match user {
        Some(u) if !u.uid.is_root() => Ok(u),
        _ => bail!(
            "no user to run a private PostgreSQL cluster as (PostgreSQL refuses root): \
             the live server's files are not on this host and there is no user postgres"
        ),
    }
}
