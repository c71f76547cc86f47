//! A copy of a live database in a scratch one, for a rehearsal. The live
//! database is only read (`pg_dump`, `mariadb-dump --single-transaction`,
//! SQLite's backup API); the copy is loaded with the tools a rollback
//! uses, so the time it takes predicts a rollback's restore.
//!
//! MariaDB's rollback dump names its database (`--databases`); a copy's
//! must not, or loading it would replace the live database. Nor may a
//! copy's stored code reach the live database, whose schema is on the
//! same server: see [`stored_code`].

pub mod stored_code;

use std::path::Path;

use hop_artifact::migration::Backend;
use hop_exec::{Command, Run};

use crate::backup::mariadb::{self, DumpKind};
use crate::backup::{self, Dump, run};
use crate::error::MigrateError;
use crate::url::DatabaseUrl;
pub use stored_code::StoredCode;

/// A dump for a copy, and (MariaDB) the vetted stored code that goes
/// into the copy after it.
pub struct CopyDump {
    /// The dump file.
    pub dump: Dump,
    /// MariaDB's triggers, routines and events, rewritten for the copy.
    pub code: StoredCode,
}

/// Refuses, before anything is copied, a database whose stored code a
/// copy could not carry safely (MariaDB; the other backends' dumps carry
/// their code themselves).
pub fn vet(live: &DatabaseUrl) -> Result<(), MigrateError> {
    if live.backend() == Backend::Mariadb {
        StoredCode::read(live)?;
    }
    Ok(())
}

/// Dumps `live` into `dest` for loading into another database. On
/// MariaDB its stored code is vetted first (a refusal comes before the
/// dump) and kept out of the dump.
pub fn dump(live: &DatabaseUrl, dest: &Path, tools: &dyn Run) -> Result<CopyDump, MigrateError> {
    if live.backend() != Backend::Mariadb {
        return Ok(CopyDump {
            dump: backup::backup(live, dest, tools)?,
            code: StoredCode::default(),
        });
    }
    let code = StoredCode::read(live)?;
    backup::create_private(dest)?;
    run(tools, &mariadb::dump(live, dest, DumpKind::DataForCopy))?;
    backup::check_dump(live, dest, tools)?;
    Ok(CopyDump {
        dump: Dump {
            path: dest.to_path_buf(),
            bytes: std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0),
        },
        code,
    })
}

/// Loads a dump made by [`dump`] into the (empty) database `scratch`,
/// then creates the stored code there.
pub fn load(scratch: &DatabaseUrl, copy: &CopyDump, tools: &dyn Run) -> Result<(), MigrateError> {
    let dump = copy.dump.path.as_path();
    if scratch.backend() != Backend::Mariadb {
        return backup::restore(scratch, dump, tools);
    }
    let mut load = Command::new(crate::tools::mariadb_client())
        .args(mariadb::connection(scratch))
        .arg(scratch.database())
        .secret_env("MYSQL_PWD", scratch.password());
    load.stdin = Some(dump.to_path_buf());
    run(tools, &load)?;
    copy.code.install(scratch)
}
