//! `hop-install rehearse`.

use std::path::PathBuf;

use super::shared::{PackageArgs, RootArg, SOURCES, emit};
use crate::error::Error;
use crate::ops;
use crate::terminal::Terminal;

pub fn help() -> String {
    format!(
        "Examples:\n  hop-install rehearse manager-4.0.1-to-4.1.1.hop\n  \
hop-install apply manager-4.0.1-to-4.1.1.hop --max-downtime 2m\n\n\
Dumps the live database (only read), loads the dump into a scratch copy (a temporary\n\
database on the same server; SQLite: a copy of the file) and runs every migration of\n\
the hop on it, phase by phase, measuring each one's time, rows, lock waits and growth.\n\
When the PostgreSQL server's disk has no room for a copy, the copy goes into a private\n\
cluster instead: made with the server's own initdb under --scratch-dir, with its\n\
settings and roles, reachable only through a socket in its directory, removed after.\n\
Prints the predicted downtime window (offline migrations + stopping, installing,\n\
starting and health-gating the services, as this host's last hop took them), the\n\
predicted rollback (restoring the dump) and the slowest migrations. The scratch copy\n\
is always dropped; one a killed rehearsal left is dropped by the next. The result is\n\
kept in /var/lib/hop/rehearsals/ for `check` and `apply --max-downtime`. Exit 0 when\n\
done, 1 when a migration fails on the copy (nothing on the host changed), 2 refused.\n\n{SOURCES}"
    )
}

#[derive(clap::Args)]
pub struct RehearseArgs {
    #[command(flatten)]
    package: PackageArgs,
    #[command(flatten)]
    root: RootArg,
    /// Print the result as JSON (format hop.rehearsal/1)
    #[arg(long)]
    json: bool,
    /// PostgreSQL: copy into a private cluster (initdb) even when the server has room
    #[arg(long)]
    scratch_cluster: bool,
    /// Where a private cluster goes (a directory only root may change) [default: /var/tmp]
    #[arg(long, value_name = "DIR")]
    scratch_dir: Option<PathBuf>,
}

impl RehearseArgs {
    pub fn run(self) -> Result<u8, Error> {
        let out = Terminal::new(self.json);
        let copy = ops::rehearse::CopyOptions {
            cluster: self.scratch_cluster,
            scratch_dir: self.scratch_dir,
        };
        let r = ops::rehearse::rehearse(
            &self.root.root,
            &self.package.package,
            &self.package.source.options(),
            &copy,
            &out,
        )?;
        emit(self.json, &r, |r| r.render())?;
        Ok(0)
    }
}
