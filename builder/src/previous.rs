//! `--previous PKG`: the order of a product's history, checked against the
//! package of the release before. A migration the previous package shipped
//! must be here unchanged (a database may already hold it), and a new
//! migration must be numbered above the previous package's last one (a
//! database at the previous version would otherwise have to run it out of
//! order). Each problem names both files.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use hop_artifact::digest::Sha256Digest;
use hop_artifact::reader::PackageReader;

use crate::validate::Plan;

/// The problems of `plan` against the package at `previous`, one sentence
/// each (empty when the history continues it properly).
pub fn problems(plan: &Plan, previous: &Path) -> Result<Vec<String>> {
    let file = std::fs::File::open(previous)
        .with_context(|| format!("cannot open {}", previous.display()))?;
    let prev = PackageReader::open_untrusted(file)
        .with_context(|| format!("{} is not a readable package", previous.display()))?
        .manifest()
        .clone();
    let name = previous.file_name().map_or_else(
        || previous.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let m = &plan.manifest;
    let mut out = Vec::new();
    if prev.to != m.from {
        out.push(format!(
            "--previous {name} upgrades to {}, but this hop starts at {}",
            prev.to, m.from
        ));
    }
    let source_digest = |member: &str| -> Option<Sha256Digest> {
        let src = plan.sources.iter().find(|s| s.path == member)?;
        Sha256Digest::of_file(&src.file).ok().map(|(d, _)| d)
    };
    let prev_digest = |member: &str| prev.member(member).map(|x| x.sha256);
    let current: BTreeMap<u32, _> = m.migrations.iter().map(|x| (x.version, x)).collect();
    for old in &prev.migrations {
        let Some(new) = current.get(&old.version) else {
            out.push(format!(
                "{} shipped in {name} is missing here: a shipped migration stays in the history",
                old.file_name()
            ));
            continue;
        };
        if new.file_name() != old.file_name() {
            out.push(format!(
                "{} is numbered {:04}, which {name} shipped as {}",
                new.file_name(),
                old.version,
                old.file_name()
            ));
            continue;
        }
        let mut pairs = vec![(old.file.clone(), new.file.clone())];
        for (backend, file) in &old.variants {
            pairs.push((file.clone(), new.file_for(*backend).to_owned()));
        }
        for (was, is) in pairs {
            if prev_digest(&was) != source_digest(&is) {
                out.push(format!(
                    "{is} changed since {name} shipped it as {was}: a shipped migration must not \
                     change (databases already hold it); write a new migration instead"
                ));
            }
        }
    }
    if let Some(last) = prev.migrations.iter().max_by_key(|x| x.version) {
        for new in m
            .migrations
            .iter()
            .filter(|x| x.version < last.version)
            .filter(|x| !prev.migrations.iter().any(|o| o.version == x.version))
        {
            out.push(format!(
                "{} is numbered below {}, the last migration {name} shipped: number it above {:04}",
                new.file_name(),
                last.file_name(),
                last.version
            ));
        }
        if let Some(from_last) = m.from_last_migration
            && from_last != last.version
        {
            out.push(format!(
                "from_last_migration is {from_last:04}, but {name} (the release before) ends at {}",
                last.file_name()
            ));
        }
    }
    Ok(out)
}
