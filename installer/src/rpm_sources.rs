//! Original RPM files of the installed version, when a host has them: the
//! copies hop keeps of the version it installed (`/var/lib/hop/rpms`), and
//! the host's `rpm_cache`. No file is trusted by its name: it is used only
//! if its header digest (SHA256HEADER, or SIGMD5 for old RPMs) is the
//! installed package's, and the `rpm_cache` only if root owns it and
//! nobody else may write it. Without verified files for every installed
//! component, hop captures them from the host instead (`capture`).

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use anyhow::Result;

use crate::host::Host;
use crate::rpmdb::{RpmDb, nevra_of_file};
use crate::runner::Runner;
use crate::state::StateDir;

/// What the search found.
#[derive(Debug, Default)]
pub struct Sources {
    /// Verified files: (installed NEVRA, file).
    pub files: Vec<(String, PathBuf)>,
    /// Files (or the cache itself) refused, each with why and what to do.
    pub refused: Vec<String>,
}

impl Sources {
    /// The verified file of `nevra`, if any.
    pub fn file_of(&self, nevra: &str) -> Option<&PathBuf> {
        self.files.iter().find(|(n, _)| n == nevra).map(|(_, f)| f)
    }

    /// Whether every one of `nevras` has a verified file.
    pub fn cover(&self, nevras: &[String]) -> bool {
        nevras.iter().all(|n| self.file_of(n).is_some())
    }
}

/// Looks for verified files of the `installed` NEVRAs.
pub fn find(host: &Host, runner: &Runner, installed: &[String]) -> Result<Sources> {
    let db = RpmDb::new(runner, &host.root);
    let mut sources = Sources::default();
    let mut dirs = vec![(StateDir::of(host).rpms(), "hop's copies".to_owned())];
    if let Some(cache) = &host.config.rpm_cache {
        // No cache directory on this host: nothing to use.
        if let Ok(dir) = host.fs.real_path(cache) {
            match trusted_dir(&dir) {
                Ok(()) => dirs.push((dir, format!("the rpm_cache {cache}"))),
                Err(why) => sources.refused.push(format!(
                    "the rpm_cache {cache} {why}: hop does not trust files anyone else can put there; \
                     make it root's and mode 0755 (or remove rpm_cache from host.yaml: hop captures \
                     the installed RPMs from the host)"
                )),
            }
        }
    }
    for (dir, what) in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths
            .into_iter()
            .filter(|p| p.extension().is_some_and(|x| x == "rpm"))
        {
            let Ok(nevra) = nevra_of_file(&path) else {
                continue;
            };
            if !installed.contains(&nevra) || sources.file_of(&nevra).is_some() {
                continue;
            }
            let same = match (db.file_header_digest(&path), db.header_digest(&nevra)) {
                (Ok(file), Ok(installed)) => file == installed,
                _ => false,
            };
            if same {
                sources.files.push((nevra, path));
            } else {
                sources.refused.push(format!(
                    "{} (in {what}) says it is {nevra}, but its header is not the installed \
                     package's: it is another build; remove it",
                    path.display()
                ));
            }
        }
    }
    Ok(sources)
}

/// Root owns the directory and only root may write it.
fn trusted_dir(dir: &std::path::Path) -> Result<(), String> {
    let meta = std::fs::symlink_metadata(dir).map_err(|e| format!("cannot be read ({e})"))?;
    if !meta.is_dir() {
        return Err("is not a directory".into());
    }
    if meta.uid() != 0 {
        return Err(format!("belongs to uid {}", meta.uid()));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "is writable by others (mode {:o})",
            meta.mode() & 0o7777
        ));
    }
    Ok(())
}
