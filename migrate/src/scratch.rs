//! Throwaway databases on a server: hop-build makes the expected schemas
//! in one, and a rehearsal migrates a copy of the live data in one. Each
//! is dropped when its value goes, and leftovers of processes that died
//! are found by their name (`hop_scratch_<pid>_…`) and dropped too.

use hop_artifact::migration::Backend;

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
            .take(20)
            .collect();
        let name = format!("{PREFIX}{}_{n}_{purpose}", std::process::id()).to_lowercase();
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
    let sql = match server.backend() {
        Backend::Postgresql => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        _ => format!("DROP DATABASE IF EXISTS {name}"),
    };
    admin
        .execute_admin(&sql)
        .map_err(|e| MigrateError::db(format!("dropping the scratch database {name}"), e))
}

/// Drops scratch databases whose process is gone.
pub fn drop_leftovers(server: &DatabaseUrl) -> Result<Vec<String>, MigrateError> {
    let mut admin = Migrator::connect(server, Options::default())?;
    let names = admin.database_names()?;
    let mut dropped = Vec::new();
    for name in names {
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        let pid = rest.split('_').next().unwrap_or("");
        if !pid.is_empty() && !std::path::Path::new("/proc").join(pid).exists() {
            drop_database(server, &name)?;
            dropped.push(name);
        }
    }
    Ok(dropped)
}
