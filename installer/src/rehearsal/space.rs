//! Room for a rehearsal, decided before it starts: the dump goes into the
//! state directory; the copy onto the live database's server, or, when
//! that disk is tight (PostgreSQL), into a private cluster under the
//! scratch directory; SQLite's copy into the state directory. A rehearsal
//! that filled the server's disk would take the live database down with
//! it, so hop refuses when no place has room.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use hop_artifact::migration::Backend;
use hop_migrate::dialect::dialect;
use hop_migrate::url::DatabaseUrl;

use crate::progress::bytes_text;

/// Where the scratch copy goes.
#[derive(Clone, Debug, PartialEq)]
pub enum Place {
    /// A temporary database on the live server (SQLite: a file beside the dump).
    Beside,
    /// A private PostgreSQL cluster under this directory.
    Cluster(PathBuf),
}

/// A file system as seen from one directory.
#[derive(Clone, Debug)]
pub struct Disk {
    pub dir: PathBuf,
    pub device: u64,
    pub free: u64,
}

impl Disk {
    /// Free bytes for an unprivileged writer on the file system of `dir`.
    pub fn of(dir: &Path) -> Option<Self> {
        let s = nix::sys::statvfs::statvfs(dir).ok()?;
        Some(Self {
            dir: dir.to_path_buf(),
            device: std::fs::metadata(dir).ok()?.dev(),
            free: s.blocks_available().saturating_mul(s.fragment_size()),
        })
    }
}

/// Checks that what goes on each file system fits there together.
fn fits(needs: &[(&Disk, u64, &str)]) -> Result<(), String> {
    for (disk, _, _) in needs {
        let on_it: Vec<_> = needs.iter().filter(|n| n.0.device == disk.device).collect();
        let total: u64 = on_it.iter().map(|n| n.1).sum();
        if total > disk.free {
            let what = on_it.iter().map(|n| n.2).collect::<Vec<_>>().join(" and ");
            return Err(format!(
                "{what}: about {} needed under {}, which has {} free",
                bytes_text(total),
                disk.dir.display(),
                bytes_text(disk.free)
            ));
        }
    }
    Ok(())
}

/// Where a rehearsal of a `bytes` database goes, or why it cannot run.
/// `server` is the live server's disk when it is on this host;
/// `cluster` the scratch directory's; `force_cluster` asks for a private
/// cluster even when the server has room.
pub fn decide(
    backend: Backend,
    bytes: u64,
    state: &Disk,
    server: Option<&Disk>,
    cluster: Option<&Disk>,
    force_cluster: bool,
) -> Result<Place, String> {
    let copy = bytes + bytes / 5;
    let dump = (state, copy, "the dump");
    if dialect(backend).is_file() {
        return fits(&[(state, 2 * copy, "the dump and the copy")]).map(|()| Place::Beside);
    }
    let beside = if force_cluster {
        Err("--scratch-cluster asks for a private cluster".to_string())
    } else {
        match server {
            Some(s) => fits(&[dump, (s, copy, "the scratch copy on the database server")]),
            None => fits(&[dump]),
        }
    };
    let Err(why) = beside else {
        return Ok(Place::Beside);
    };
    if !dialect(backend).has_private_server() {
        return Err(why);
    }
    let Some(c) = cluster else {
        return Err(format!(
            "{why}; and the scratch directory for a private cluster is missing"
        ));
    };
    match fits(&[dump, (c, copy, "a private cluster")]) {
        Ok(()) => Ok(Place::Cluster(c.dir.clone())),
        Err(e) if force_cluster => Err(e),
        Err(e) => Err(format!("{why}; in a private cluster instead, {e}")),
    }
}

/// Where the live database's server keeps its files, when it is on this
/// machine and says (PostgreSQL needs pg_read_all_settings for it).
fn server_dir(live: &DatabaseUrl) -> Option<PathBuf> {
    let sql = hop_migrate::dialect::dialect(live.backend()).data_directory()?;
    let mut conn = hop_migrate::Migrator::connect(live, hop_migrate::Options::default()).ok()?;
    let rows = conn.query_read_only(sql).ok()?;
    let dir = PathBuf::from(rows.first()?.first()?.clone()?);
    dir.is_dir().then_some(dir)
}

/// [`decide`] on this host's disks.
pub fn place(
    live: &DatabaseUrl,
    state: &Path,
    bytes: u64,
    scratch_dir: Option<&Path>,
    force_cluster: bool,
) -> Result<Place, String> {
    let state = Disk::of(state).ok_or_else(|| format!("cannot read {}", state.display()))?;
    let server = server_dir(live).and_then(|d| Disk::of(&d));
    let cluster = scratch_dir.and_then(Disk::of);
    decide(
        live.backend(),
        bytes,
        &state,
        server.as_ref(),
        cluster.as_ref(),
        force_cluster,
    )
}
