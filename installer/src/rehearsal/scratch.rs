//! The scratch copy a rehearsal migrates: a temporary database on the
//! live one's server (PostgreSQL, MariaDB: `hop_scratch_<pid>_…`) or a
//! file in the rehearsal's directory (SQLite: `scratch-<pid>.db`). It is
//! dropped when its value goes (also after Ctrl-C, which stops the
//! rehearsal at the next migration); what a killed rehearsal left is
//! found by its dead process id and dropped by the next rehearsal.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use hop_artifact::migration::Backend;
use hop_migrate::scratch::ScratchDatabase;
use hop_migrate::url::DatabaseUrl;

/// A scratch copy's place.
pub enum ScratchCopy {
    Server(ScratchDatabase),
    File { url: DatabaseUrl, path: PathBuf },
}

impl ScratchCopy {
    /// An empty scratch database beside `live` (files go into `dir`).
    pub fn create(live: &DatabaseUrl, dir: &Path) -> Result<Self> {
        if live.backend() == Backend::Sqlite {
            let path = dir.join(format!("scratch-{}.db", std::process::id()));
            remove_sqlite(&path);
            return Ok(Self::File {
                url: live.clone().with_sqlite_path(path.clone()),
                path,
            });
        }
        Ok(Self::Server(
            ScratchDatabase::create(live, "rehearse")
                .context("cannot create the scratch database on the live database's server")?,
        ))
    }

    pub fn url(&self) -> &DatabaseUrl {
        match self {
            Self::Server(db) => db.url(),
            Self::File { url, .. } => url,
        }
    }

    /// Its name, for the report.
    pub fn name(&self) -> String {
        match self {
            Self::Server(db) => db.name().to_owned(),
            Self::File { path, .. } => path.display().to_string(),
        }
    }
}

impl Drop for ScratchCopy {
    fn drop(&mut self) {
        if let Self::File { path, .. } = self {
            remove_sqlite(path);
        }
    }
}

fn remove_sqlite(path: &Path) {
    for suffix in ["", "-journal", "-wal", "-shm", ".hop-lock"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// Drops what rehearsals killed before they could clean up left: scratch
/// databases on `live`'s server and scratch files in `dir`. Their names.
pub fn drop_leftovers(live: &DatabaseUrl, dir: &Path) -> Result<Vec<String>> {
    let mut dropped = Vec::new();
    if live.backend() != Backend::Sqlite {
        dropped.extend(hop_migrate::scratch::drop_leftovers(live)?);
    }
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix("scratch-")
            .and_then(|r| r.split(['.', '-']).next())
            .unwrap_or_default();
        if !pid.is_empty() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_file(entry.path());
            dropped.push(entry.path().display().to_string());
        }
    }
    Ok(dropped)
}
