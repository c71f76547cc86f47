//! Clean up: the staging directory goes; older operations' backups and
//! staging go too (this operation's backup stays until the next hop, so a
//! completed hop can still be rolled back). The parts of a rolling hop
//! keep the backups of the same hop: a node keeps the dump `expand` took
//! there. A package hop downloaded goes once its hop committed (nothing
//! reads it again: a rollback works from the backup), and so does a
//! partial download nothing touched for a week; the downloads of hops
//! still to come on a route stay.

use std::path::Path;
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, Result};

use super::Context;
use crate::journal::Scope;

/// What cleaning up does.
pub fn actions() -> Vec<crate::action::Action> {
    vec![crate::action::Action::CleanUp]
}

pub fn apply(cx: &mut Context<'_>) -> Result<()> {
    super::stage::undo(cx)?;
    clean_downloads(&cx.state_dir.downloads(), &cx.package, SystemTime::now())?;
    let Ok(entries) = std::fs::read_dir(cx.state_dir.operations()) else {
        return Ok(());
    };
    let same_hop = format!("-{}-to-{}", cx.manifest.from, cx.manifest.to);
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == cx.op_id || (cx.scope != Scope::Host && name.ends_with(&same_hop)) {
            continue;
        }
        for sub in ["backup", "staging"] {
            let dir = entry.path().join(sub);
            if dir.exists() {
                std::fs::remove_dir_all(&dir)?;
            }
        }
    }
    Ok(())
}

/// How long a partial download nobody resumed is kept.
const ABANDONED_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);

/// Removes `package` (and its notes) if it is a download in `downloads`,
/// and every part there last written more than [`ABANDONED_AFTER`] before
/// `now`.
pub fn clean_downloads(downloads: &Path, package: &Path, now: SystemTime) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(downloads) else {
        return Ok(());
    };
    let package = std::path::absolute(package).unwrap_or_else(|_| package.to_path_buf());
    let ours = |name: &str| {
        package.parent() == Some(downloads)
            && package
                .file_name()
                .is_some_and(|p| name.starts_with(&*p.to_string_lossy()))
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_part = name.ends_with(".part") || name.ends_with(".part.json");
        let abandoned = is_part
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| now.duration_since(t).unwrap_or_default() > ABANDONED_AFTER);
        // Only regular files hop wrote: a link is never followed.
        let regular = entry.file_type().is_ok_and(|t| t.is_file());
        if regular && (ours(&name) || abandoned) {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_committed_hops_download_goes_and_so_do_abandoned_parts() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for name in [
            "a1-manager-4.0.1-to-4.1.1.hop",
            "a1-manager-4.0.1-to-4.1.1.hop.part.json",
            "b2-manager-4.1.1-to-4.2.0.hop",
            "c3-manager-4.2.0-to-4.3.0.hop.part",
            "c3-manager-4.2.0-to-4.3.0.hop.part.json",
        ] {
            std::fs::write(d.join(name), "x").unwrap();
        }
        let now = SystemTime::now();
        clean_downloads(d, &d.join("a1-manager-4.0.1-to-4.1.1.hop"), now).unwrap();
        let left = |d: &Path| {
            let mut names: Vec<String> = std::fs::read_dir(d)
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        // The next hop's download and a fresh part stay.
        assert_eq!(
            left(d),
            [
                "b2-manager-4.1.1-to-4.2.0.hop",
                "c3-manager-4.2.0-to-4.3.0.hop.part",
                "c3-manager-4.2.0-to-4.3.0.hop.part.json"
            ]
        );
        // A week and a day later, the part is abandoned; the download is not.
        let later = now + Duration::from_secs(8 * 24 * 3600);
        clean_downloads(d, Path::new("/elsewhere/x.hop"), later).unwrap();
        assert_eq!(left(d), ["b2-manager-4.1.1-to-4.2.0.hop"]);
    }
}
