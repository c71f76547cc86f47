//! A copy of a live database in a scratch one, for a rehearsal. The live
//! database is only read (`pg_dump`, `mariadb-dump --single-transaction`,
//! SQLite's backup API); the copy is loaded with the tools a rollback
//! uses, so the time it takes predicts a rollback's restore.
//!
//! MariaDB's rollback dump names its database (`--databases`); a copy's
//! must not, or loading it would replace the live database.

use std::path::Path;

use hop_artifact::migration::Backend;
use hop_exec::{Command, Run};

use crate::backup::{self, Dump, mariadb_connection, run};
use crate::error::MigrateError;
use crate::url::DatabaseUrl;

/// Dumps `live` into `dest` for loading into another database.
pub fn dump(live: &DatabaseUrl, dest: &Path, tools: &dyn Run) -> Result<Dump, MigrateError> {
    if live.backend() != Backend::Mariadb {
        return backup::backup(live, dest, tools);
    }
    backup::create_private(dest)?;
    run(tools, &backup::mariadb_dump(live, dest, false))?;
    backup::check_dump(live, dest, tools)?;
    Ok(Dump {
        path: dest.to_path_buf(),
        bytes: std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0),
    })
}

/// Loads a dump made by [`dump`] into the (empty) database `scratch`.
pub fn load(scratch: &DatabaseUrl, dump: &Path, tools: &dyn Run) -> Result<(), MigrateError> {
    if scratch.backend() != Backend::Mariadb {
        return backup::restore(scratch, dump, tools);
    }
    let mut load = Command::new("mariadb")
        .args(mariadb_connection(scratch))
        .arg(scratch.database())
        .secret_env("MYSQL_PWD", scratch.password());
    load.stdin = Some(dump.to_path_buf());
    run(tools, &load)?;
    Ok(())
}
