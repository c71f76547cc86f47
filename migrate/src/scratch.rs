//! Throwaway databases on a server: hop-build makes the expected schemas
//! in one, and a rehearsal migrates a copy of the live data in one. Each
//! is dropped when its value goes, and leftovers of processes that died
//! are found by their name and dropped too.
//!
//! A server may be shared by several machines (one `--schema-db` for a
//! whole release CI, a database host for several manager nodes), so a
//! name says whose it is: `hop_scratch_<host>_<pid>_<start>_<n>_<purpose>`,
//! with `<host>` a digest of this machine's id and `<start>` the process's
//! start time. Only a database of this machine whose process is gone (or
//! whose pid now names a later process) is a leftover; another machine's,
//! and names in an older form, are never dropped.

use hop_artifact::migration::Backend;

use crate::dialect::dialect;
use crate::error::MigrateError;
use crate::url::DatabaseUrl;
use crate::{Migrator, Options};

/// The name prefix every scratch database carries.
pub const PREFIX: &str = "hop_scratch_";

/// A database created for a while on a server.
pub struct ScratchDatabase {
    server: DatabaseUrl,
    name: String,
    url: DatabaseUrl,
    keep: bool,
}

impl ScratchDatabase {
    /// Creates `hop_scratch_<pid>_<n>_<purpose>` on the server `server`
    /// names (a URL of any database there the user can connect to and
    /// create databases from), after dropping leftovers of dead processes.
    pub fn create(server: &DatabaseUrl, purpose: &str) -> Result<Self, MigrateError> {
        if server.backend() == Backend::Sqlite {
            return Err(MigrateError::Backup(
                "a scratch database needs a PostgreSQL or MariaDB server URL".into(),
            ));
        }
        drop_leftovers(server)?;
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let purpose: String = purpose
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(12)
            .collect();
        let me = Owner::this_process();
        let name = format!("{PREFIX}{}_{n}_{purpose}", me.tag()).to_lowercase();
        let mut admin = Migrator::connect(server, Options::default())?;
        admin
            .execute_admin(&format!("CREATE DATABASE {name}"))
            .map_err(|e| MigrateError::db(format!("creating the scratch database {name}"), e))?;
        let url = server.with_database(&name);
        Ok(Self {
            server: server.clone(),
            name,
            url,
            keep: false,
        })
    }

    /// Where the scratch database is.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Its name (`hop_scratch_…`).
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if !self.keep {
            let _ = drop_database(&self.server, &self.name);
        }
    }
}

fn drop_database(server: &DatabaseUrl, name: &str) -> Result<(), MigrateError> {
    let mut admin = Migrator::connect(server, Options::default())?;
    let major = hop_artifact::migration::major_of(&admin.server_facts()?.version);
    let statements = dialect(server.backend()).drop_database(name, major);
    let mut last = Ok(());
    // A session just ended may hold the database a moment longer.
    for _ in 0..20 {
        last = statements
            .iter()
            .try_for_each(|sql| admin.execute_admin(sql));
        if last.is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    last.map_err(|e| MigrateError::db(format!("dropping the scratch database {name}"), e))
}

/// Who made a scratch database: the machine and the process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// Eight hex digits of a digest of the machine's id.
    pub host: String,
    /// The process id.
    pub pid: u32,
    /// The process's start time (clock ticks since boot).
    pub start: u64,
}

impl Owner {
    /// This process on this machine.
    pub fn this_process() -> Self {
        let pid = std::process::id();
        Self {
            host: host_tag(),
            pid,
            start: start_time(pid).unwrap_or(0),
        }
    }

    /// `<host>_<pid>_<start>`.
    fn tag(&self) -> String {
        format!("{}_{}_{}", self.host, self.pid, self.start)
    }

    /// The owner a scratch database's name states; `None` for names in
    /// an older form (no machine in them).
    pub fn of_name(name: &str) -> Option<Self> {
        let mut parts = name.strip_prefix(PREFIX)?.split('_');
        let host = parts.next()?;
        if host.len() != 8 || !host.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(Self {
            host: host.to_owned(),
            pid: parts.next()?.parse().ok()?,
            start: parts.next()?.parse().ok()?,
        })
    }

    /// Whether this is a process of this machine that no longer runs.
    pub fn is_gone_from(&self, host: &str) -> bool {
        self.host == host && start_time(self.pid) != Some(self.start)
    }
}

/// This machine: /etc/machine-id, else its host name, digested.
fn host_tag() -> String {
    let id = std::fs::read_to_string("/etc/machine-id")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .unwrap_or_default();
    hop_artifact::digest::Sha256Digest::of(id.trim().as_bytes()).to_string()[..8].to_owned()
}

/// The start time of process `pid` (field 22 of /proc/PID/stat).
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Drops this machine's scratch databases whose process is gone.
pub fn drop_leftovers(server: &DatabaseUrl) -> Result<Vec<String>, MigrateError> {
    let mut admin = Migrator::connect(server, Options::default())?;
    let names = admin.database_names()?;
    let host = host_tag();
    let mut dropped = Vec::new();
    for name in names {
        if Owner::of_name(&name).is_some_and(|o| o.is_gone_from(&host)) {
            drop_database(server, &name)?;
            dropped.push(name);
        }
    }
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_machines_scratch_databases_of_gone_processes_are_leftovers() {
        let me = Owner::this_process();
        let name = format!("{PREFIX}{}_0_schema", me.tag());
        assert_eq!(Owner::of_name(&name), Some(me.clone()));
        assert!(!me.is_gone_from(&me.host), "this process runs");
        let gone = Owner {
            start: me.start + 1,
            ..me.clone()
        };
        assert!(gone.is_gone_from(&me.host), "a reused pid is not its maker");
        assert!(
            !gone.is_gone_from("0badf00d"),
            "another machine's is never ours"
        );
        // The older form names no machine: never dropped.
        assert_eq!(Owner::of_name("hop_scratch_4242_0_rehearse"), None);
        assert!(name.len() <= 63, "{name} is too long for PostgreSQL");
    }
}
