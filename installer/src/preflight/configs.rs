//! Checks of the config destinations: each must be a regular file or
//! absent, in directories that resolve inside the host's root. A link at a
//! config's place, or a link in its directories leading out of the root,
//! is refused before anything changes.

use hop_artifact::PackageManifest;

use super::{CheckId, Level, Preflight};
use crate::host::Host;
use crate::hostfs::Kind;

pub(super) fn configs(p: &mut Preflight, host: &Host, m: &PackageManifest) {
    let mut problems = Vec::new();
    for c in &m.configs {
        for path in [c.dest.clone(), format!("{}.hopnew", c.dest)] {
            if let Err(why) = writable_place(host, &path) {
                problems.push(why);
            }
        }
    }
    if problems.is_empty() {
        p.add(
            CheckId::Configs,
            Level::Ok,
            format!(
                "{} destination(s) are regular files or new",
                m.configs.len()
            ),
        );
    } else {
        p.add(CheckId::Configs, Level::Failure, problems.join("; "));
    }
}

/// Whether hop may write a regular file at `path`: nothing or a regular
/// file there, and every directory above it a directory inside the root
/// (or not there yet).
fn writable_place(host: &Host, path: &str) -> Result<(), String> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    for depth in 1..=parts.len() {
        let prefix = format!("/{}", parts[..depth].join("/"));
        let last = depth == parts.len();
        let kind = match host.fs.stat(&prefix) {
            Ok(Some((kind, _))) => kind,
            Ok(None) => return Ok(()),
            Err(e) => return Err(format!("{prefix}: {e:#}")),
        };
        match (kind, last) {
            (Kind::File, true) => return Ok(()),
            (Kind::Dir, false) => {}
            (Kind::Symlink, false) => {
                if let Err(e) = host.fs.real_path(&prefix) {
                    let target = std::fs::read_link(host.path(&prefix))
                        .map(|t| t.display().to_string())
                        .unwrap_or_default();
                    return Err(format!(
                        "{prefix} is a link to {target}, which does not resolve inside the host's root ({e:#}); \
                         make it a directory or a link inside the root"
                    ));
                }
            }
            (kind, true) => {
                return Err(format!(
                    "{path} is {}; hop writes configs as regular files: replace it with the file it stands for",
                    kind.describe()
                ));
            }
            (kind, false) => {
                return Err(format!(
                    "{prefix} is {}, not a directory, so {path} cannot be written",
                    kind.describe()
                ));
            }
        }
    }
    Ok(())
}
