//! What a private cluster takes from the live PostgreSQL server, so the
//! copy behaves as the live database does: the server's major version
//! (its `initdb`), the database's encoding and collation, and the
//! settings that decide how fast a migration runs.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use hop_migrate::url::DatabaseUrl;
use hop_migrate::{Migrator, Options};

/// Settings copied from the live server when it sets them (memory,
/// WAL, checkpoints, planner costs, parallel workers).
const COPIED: &[&str] = &[
    "shared_buffers",
    "work_mem",
    "maintenance_work_mem",
    "effective_cache_size",
    "max_wal_size",
    "min_wal_size",
    "checkpoint_timeout",
    "checkpoint_completion_target",
    "wal_buffers",
    "wal_compression",
    "synchronous_commit",
    "fsync",
    "full_page_writes",
    "random_page_cost",
    "seq_page_cost",
    "effective_io_concurrency",
    "max_worker_processes",
    "max_parallel_workers",
    "max_parallel_workers_per_gather",
    "max_parallel_maintenance_workers",
    "jit",
];

/// The live server, as far as a private cluster copies it.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveServer {
    pub major: u32,
    pub encoding: String,
    pub collate: String,
    pub ctype: String,
    /// `(name, value in the setting's base unit)`.
    pub settings: Vec<(String, String)>,
    /// Where it keeps its files, when it says and they are on this machine.
    pub data_directory: Option<PathBuf>,
}

impl LiveServer {
    pub fn read(live: &DatabaseUrl) -> Result<Self> {
        let mut conn = Migrator::connect(live, Options::default())?;
        let mut query = |sql: &str| -> Result<Vec<Vec<String>>> {
            Ok(conn
                .query_read_only(sql)?
                .into_iter()
                .map(|r| r.into_iter().map(Option::unwrap_or_default).collect())
                .collect())
        };
        let version = query("SHOW server_version_num")?;
        let major = version
            .first()
            .and_then(|r| r.first())
            .and_then(|v| v.parse::<u32>().ok())
            .map(|n| n / 10_000)
            .ok_or_else(|| anyhow!("the live server did not say its version"))?;
        let db = query(
            "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database \
             WHERE datname = current_database()",
        )?;
        let [encoding, collate, ctype] = db
            .first()
            .and_then(|r| <[String; 3]>::try_from(r.clone()).ok())
            .ok_or_else(|| anyhow!("the live server did not say its database's encoding"))?;
        let names = COPIED
            .iter()
            .map(|n| format!("'{n}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let settings = query(&format!(
            "SELECT name, setting FROM pg_settings \
             WHERE source NOT IN ('default', 'override') AND name IN ({names}) ORDER BY name"
        ))?
        .into_iter()
        .filter_map(|r| <[String; 2]>::try_from(r).ok())
        .map(|[n, v]| (n, v))
        .collect();
        let data_directory = query("SELECT setting FROM pg_settings WHERE name = 'data_directory'")
            .ok()
            .and_then(|r| r.first()?.first().cloned())
            .map(PathBuf::from)
            .filter(|d| d.is_dir());
        Ok(Self {
            major,
            encoding,
            collate,
            ctype,
            settings,
            data_directory,
        })
    }

    /// The `-c name=value` options the cluster starts with: the live
    /// server's settings, `shared_buffers` at most a quarter of the memory
    /// available now (a rehearsal must not push the live server out of
    /// memory), no TCP, and a socket only in the cluster's directory.
    pub fn options(&self, socket_dir: &Path, available_bytes: Option<u64>) -> Vec<String> {
        let mut out: Vec<String> = self
            .settings
            .iter()
            .filter(|(_, v)| is_plain(v))
            .map(|(n, v)| match (n.as_str(), available_bytes) {
                ("shared_buffers", Some(avail)) => {
                    let pages = v.parse::<u64>().unwrap_or(16_384);
                    let cap = (avail / 4 / 8192).max(16);
                    format!("-c shared_buffers={}", pages.min(cap))
                }
                _ => format!("-c {n}={v}"),
            })
            .collect();
        out.push("-c listen_addresses=''".into());
        out.push(format!(
            "-c unix_socket_directories={}",
            socket_dir.display()
        ));
        out.push(format!("-c port={}", super::PORT));
        out
    }
}

/// A value safe in pg_ctl's `-o` (which a shell reads).
fn is_plain(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// A path safe in pg_ctl's `-o` and short enough for a socket's name.
pub fn is_plain_path(p: &Path) -> bool {
    let s = p.display().to_string();
    s.len() <= 90
        && s.starts_with('/')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-'))
}

/// Where the server programs of PostgreSQL `major` may be: Debian's
/// layout, the PGDG RPMs', then the distribution's own.
pub fn bindir_candidates(major: u32) -> Vec<PathBuf> {
    vec![
        PathBuf::from(format!("/usr/lib/postgresql/{major}/bin")),
        PathBuf::from(format!("/usr/pgsql-{major}/bin")),
        PathBuf::from("/usr/bin"),
    ]
}

/// The directory with `initdb` and `pg_ctl` of the live server's major
/// version.
pub fn bindir(major: u32) -> Result<PathBuf> {
    let candidates = bindir_candidates(major);
    for dir in &candidates {
        let initdb = dir.join("initdb");
        if !initdb.is_file() || !dir.join("pg_ctl").is_file() {
            continue;
        }
        // Through hop-exec: only what a tool needs of hop's environment.
        let version = hop_exec::Command::new(&initdb.display().to_string()).arg("--version");
        let out = hop_exec::Run::run(&hop_exec::Direct, &version)
            .with_context(|| format!("cannot run {}", initdb.display()))?;
        if version_major(&out.text) == Some(major) {
            return Ok(dir.clone());
        }
    }
    Err(anyhow!(
        "no initdb of PostgreSQL {major} (the live server's version) in {}: install the \
         server package of PostgreSQL {major}",
        candidates
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// `initdb (PostgreSQL) 15.10 (Debian 15.10-0+deb12u1)` → 15.
pub fn version_major(text: &str) -> Option<u32> {
    let v = text.split_whitespace().nth(2)?;
    v.split(['.', 'b', 'r']).next()?.parse().ok()
}

/// MemAvailable from `/proc/meminfo`'s text, in bytes.
pub fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
