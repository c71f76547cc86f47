//! Looking at a sandbox host as a user would: its RPMs (and whether their
//! files are intact), its configs, every file's digest, its database, and
//! what its services answer.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};
use hop_artifact::digest::Sha256Digest;
use hop_migrate::DatabaseUrl;

use super::Sandbox;
use crate::product::COMPONENTS;

/// What a user checks to tell whether a host changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostSnapshot {
    pub rpms: Vec<String>,
    /// Every path the components own: digest or target, mode, owner.
    pub owned: BTreeMap<String, String>,
    pub configs: BTreeMap<String, String>,
    pub database: String,
    pub services: Vec<(String, Option<String>)>,
}

impl Sandbox {
    /// The installed RPMs, sorted.
    pub fn rpms(&self) -> Vec<String> {
        let out = Command::new("rpm")
            .args([
                "--root",
                &self.root.display().to_string(),
                "-qa",
                "--qf",
                "%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\\n",
            ])
            .output();
        sorted_lines(out.ok())
    }

    /// `rpm -V` of every component of the product: their files match the
    /// RPM database (digests, sizes, modes, owners); the output when not.
    pub fn rpm_verify(&self) -> Result<(), String> {
        let installed: Vec<&str> = COMPONENTS.iter().map(|c| c.name).collect();
        let out = Command::new("rpm")
            .args(["--root", &self.root.display().to_string(), "-V"])
            .args(&installed)
            .output()
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() && text.trim().is_empty() {
            Ok(())
        } else {
            Err(text)
        }
    }

    /// Every path the product's components own, with its SHA-256 (files)
    /// or target (links), mode, owner and group, as `ls -l` and
    /// `sha256sum` would show it.
    pub fn owned_files(&self) -> BTreeMap<String, String> {
        use std::os::unix::fs::MetadataExt;
        let names: Vec<&str> = COMPONENTS.iter().map(|c| c.name).collect();
        let out = Command::new("rpm")
            .args(["--root", &self.root.display().to_string(), "-ql"])
            .args(&names)
            .output();
        let mut owned = BTreeMap::new();
        let text = out
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        for path in text.lines().filter(|l| l.starts_with('/')) {
            let on_disk = self.path(path);
            let value = match std::fs::symlink_metadata(&on_disk) {
                Err(_) => "missing".to_owned(),
                Ok(m) => {
                    let what = if m.file_type().is_symlink() {
                        std::fs::read_link(&on_disk)
                            .map(|t| t.display().to_string())
                            .unwrap_or_default()
                    } else if m.is_file() {
                        std::fs::read(&on_disk)
                            .map(|b| Sha256Digest::of(&b).to_hex())
                            .unwrap_or_default()
                    } else {
                        "dir".into()
                    };
                    format!("{what} {:o} {}:{}", m.mode(), m.uid(), m.gid())
                }
            };
            owned.insert(path.to_owned(), value);
        }
        owned
    }

    /// SHA-256 of every file under `etc/` (configs, host.yaml, keys).
    pub fn configs(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        digest_tree(&self.root, &self.path("/etc"), &mut out);
        out
    }

    /// SHA-256 and mode of every file under the root, hop's own logs
    /// aside: equal digests mean a byte-identical host. SQLite's `-shm`
    /// files (the shared-memory index of a WAL database, which every reader
    /// of the RPM database rewrites, holding no data) are left out too.
    pub fn tree_digest(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        digest_tree(&self.root, &self.root, &mut out);
        out.retain(|path, _| !path.starts_with("var/lib/hop/logs/") && !path.ends_with("-shm"));
        out
    }

    /// The database as text (schema and rows).
    pub fn database_snapshot(&self) -> Result<String> {
        match &self.database {
            Some(db) => db.snapshot(),
            None => {
                let url = DatabaseUrl::parse(&self.database_url(), &self.root)?;
                crate::db::sqlite_snapshot(url.sqlite_path().context("path")?)
            }
        }
    }

    /// Runs SQL against the sandbox's database.
    pub fn sql(&self, sql: &str) -> Result<()> {
        let url = DatabaseUrl::parse(&self.database_url(), &self.root)?;
        self.execute_sql(&url, sql)
    }

    /// An integer from the database.
    pub fn query_i64(&self, sql: &str) -> Result<i64> {
        match &self.database {
            Some(db) => db.query_i64(sql),
            None => {
                let url = DatabaseUrl::parse(&self.database_url(), &self.root)?;
                let conn = rusqlite::Connection::open(url.sqlite_path().context("path")?)?;
                Ok(conn.query_row(sql, [], |r| r.get(0))?)
            }
        }
    }

    /// What each service's /version says (None: not answering).
    pub fn service_versions(&self) -> Vec<(String, Option<String>)> {
        COMPONENTS
            .iter()
            .filter_map(|c| {
                c.service
                    .map(|s| (c.name.to_owned(), self.http_get(s.port, "/version").ok()))
            })
            .collect()
    }

    /// The process id supervisord names for `service` (None: not running).
    pub fn service_pid(&self, service: &str) -> Option<u32> {
        let out = std::process::Command::new("supervisorctl")
            .arg("-c")
            .arg(self.path("/etc/supervisord.conf"))
            .args(["pid", service])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .ok()
            .filter(|p| *p > 0)
    }

    /// Everything a user would compare before and after.
    pub fn snapshot(&self) -> HostSnapshot {
        HostSnapshot {
            rpms: self.rpms(),
            owned: self.owned_files(),
            configs: self.configs(),
            database: self
                .database_snapshot()
                .unwrap_or_else(|e| format!("unreadable: {e:#}")),
            services: self.service_versions(),
        }
    }
}

fn digest_tree(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_symlink() {
            let target = std::fs::read_link(&path)
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            out.insert(
                path.strip_prefix(root)
                    .unwrap_or(&path)
                    .display()
                    .to_string(),
                format!("-> {target}"),
            );
        } else if path.is_dir() {
            digest_tree(root, &path, out);
        } else if let Ok(bytes) = std::fs::read(&path) {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string();
            use std::os::unix::fs::PermissionsExt;
            let mode = e
                .metadata()
                .map(|m| m.permissions().mode() & 0o7777)
                .unwrap_or(0);
            out.insert(rel, format!("{} {mode:o}", Sha256Digest::of(&bytes)));
        }
    }
}

/// The lines a command printed, sorted; none when it could not run.
pub(crate) fn sorted_lines(out: Option<std::process::Output>) -> Vec<String> {
    let mut list: Vec<String> = out
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    list.sort();
    list
}
