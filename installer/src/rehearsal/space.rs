//! Room for a rehearsal, checked before it starts: the dump goes into the
//! state directory, the copy onto the live database's server (SQLite: the
//! state directory too). A rehearsal that filled the server's disk would
//! take the live database down with it, so hop refuses instead.

use std::path::{Path, PathBuf};

use hop_artifact::migration::Backend;
use hop_migrate::url::DatabaseUrl;
use hop_migrate::{Migrator, Options};

use crate::progress::bytes_text;

/// Free bytes for an unprivileged writer on the file system of `dir`.
fn free(dir: &Path) -> Option<u64> {
    let s = nix::sys::statvfs::statvfs(dir).ok()?;
    Some(s.blocks_available().saturating_mul(s.fragment_size()))
}

/// Where the live database's server keeps its files, when it is on this
/// machine and says (PostgreSQL needs pg_read_all_settings for it).
fn server_dir(live: &DatabaseUrl) -> Option<PathBuf> {
    let sql = match live.backend() {
        Backend::Postgresql => "SELECT setting FROM pg_settings WHERE name = 'data_directory'",
        Backend::Mariadb => "SELECT @@datadir",
        Backend::Sqlite => return None,
    };
    let mut conn = Migrator::connect(live, Options::default()).ok()?;
    let rows = conn.query_read_only(sql).ok()?;
    let dir = PathBuf::from(rows.first()?.first()?.clone()?);
    dir.is_dir().then_some(dir)
}

/// Why there is no room for a rehearsal of a `bytes` database, if not.
pub fn lacking(live: &DatabaseUrl, state: &Path, bytes: u64) -> Option<String> {
    let copy = bytes + bytes / 5;
    let mut needs: Vec<(PathBuf, u64, &str)> = vec![(state.to_path_buf(), copy, "the dump")];
    match live.backend() {
        Backend::Sqlite => needs[0] = (state.to_path_buf(), 2 * copy, "the dump and the copy"),
        _ => {
            if let Some(dir) = server_dir(live) {
                needs.push((dir, copy, "the scratch copy on the database server"));
            }
        }
    }
    needs.into_iter().find_map(|(dir, need, what)| {
        let have = free(&dir)?;
        (have < need).then(|| {
            format!(
                "{what} needs about {} under {}, which has {} free",
                bytes_text(need),
                dir.display(),
                bytes_text(have)
            )
        })
    })
}
