//! The scratch copy a rehearsal migrates: a temporary database on the
//! live one's server (PostgreSQL, MariaDB: `hop_scratch_<pid>_…`), one in
//! a private PostgreSQL cluster (see [`super::cluster`]) or a file in the
//! rehearsal's directory (SQLite: `scratch-<pid>.db`). It is
//! dropped when its value goes (also after Ctrl-C, which stops the
//! rehearsal at the next migration); what a killed rehearsal left is
//! found by its dead process id and dropped by the next rehearsal.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use hop_migrate::dialect::dialect;
use hop_migrate::scratch::ScratchDatabase;
use hop_migrate::url::DatabaseUrl;

use super::private_server::{self, Plan, PrivateServer};
use crate::runner::Runner;

/// A scratch copy's place.
pub enum ScratchCopy {
    Server(ScratchDatabase),
    /// Fields drop in order: the database, then its cluster.
    Cluster(ScratchDatabase, Box<PrivateServer>),
    File {
        url: DatabaseUrl,
        path: PathBuf,
    },
}

impl ScratchCopy {
    /// An empty scratch database: in the private cluster `cluster` plans
    /// when there is one, else beside `live` (files go into `dir`).
    pub fn create(
        live: &DatabaseUrl,
        cluster: Option<&Plan>,
        dir: &Path,
        runner: &Runner,
    ) -> Result<Self> {
        if dialect(live.backend()).is_file() {
            let path = dir.join(format!("scratch-{}.db", std::process::id()));
            remove_sqlite(&path);
            return Ok(Self::File {
                url: live.clone().with_sqlite_path(path.clone()),
                path,
            });
        }
        if let Some(plan) = cluster {
            let cluster = PrivateServer::create(live, plan, dir, runner)?;
            let db = ScratchDatabase::create(cluster.url(), "rehearse")
                .context("cannot create the scratch database in the private cluster")?;
            return Ok(Self::Cluster(db, Box::new(cluster)));
        }
        Ok(Self::Server(
            ScratchDatabase::create(live, "rehearse")
                .context("cannot create the scratch database on the live database's server")?,
        ))
    }

    pub fn url(&self) -> &DatabaseUrl {
        match self {
            Self::Server(db) | Self::Cluster(db, _) => db.url(),
            Self::File { url, .. } => url,
        }
    }

    /// Its name, for the progress lines.
    pub fn name(&self) -> String {
        match self {
            Self::Server(db) => db.name().to_owned(),
            Self::Cluster(db, c) => format!("{} in {}", db.name(), c.describe()),
            Self::File { path, .. } => path.display().to_string(),
        }
    }

    /// Where it is, for the report.
    pub fn describe(&self) -> String {
        match self {
            Self::Server(_) => "a temporary database on the live server".into(),
            Self::Cluster(_, c) => c.describe(),
            Self::File { .. } => "a copy of the file in the state directory".into(),
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
/// databases on `live`'s server, private clusters and scratch files in
/// `dir`. Their names.
pub fn drop_leftovers(live: &DatabaseUrl, dir: &Path, runner: &Runner) -> Result<Vec<String>> {
    let mut dropped = private_server::drop_leftovers(dir, runner);
    if !dialect(live.backend()).is_file() {
        dropped.extend(hop_migrate::scratch::drop_leftovers(live)?);
    }
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix("scratch-")
            .or_else(|| name.strip_prefix("roles-"))
            .and_then(|r| r.split(['.', '-']).next())
            .unwrap_or_default();
        if !pid.is_empty() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_file(entry.path());
            dropped.push(entry.path().display().to_string());
        }
    }
    Ok(dropped)
}
