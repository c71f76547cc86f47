//! What a killed rpm transaction leaves beside the files it was writing,
//! removed before the next transaction (the install step and a capture's
//! restore both run one).

use anyhow::Result;

use crate::host::Host;
use crate::hostfs::Kind;

/// Removes what a killed rpm transaction leaves beside the files it was
/// writing: `path;<transaction id>` temporaries, which trip a new
/// transaction that gets the same id (it is the time in seconds).
pub fn remove<'a>(host: &Host, paths: impl Iterator<Item = &'a str>) -> Result<()> {
    let mut dirs: Vec<(String, String)> = paths
        .filter_map(|p| {
            let (dir, name) = p.rsplit_once('/')?;
            Some((
                if dir.is_empty() {
                    "/".into()
                } else {
                    dir.to_owned()
                },
                name.to_owned(),
            ))
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    let mut listed: Option<(String, Vec<String>)> = None;
    for (dir, name) in dirs {
        if listed.as_ref().is_none_or(|(d, _)| *d != dir) {
            let names = match host.fs.stat(&dir)? {
                Some((Kind::Dir, _)) => host.fs.list(&dir).unwrap_or_default(),
                _ => Vec::new(),
            };
            listed = Some((dir.clone(), names));
        }
        let Some((_, names)) = &listed else { continue };
        let prefix = format!("{name};");
        for entry in names {
            if let Some(id) = entry.strip_prefix(&prefix)
                && id.len() == 8
                && id.bytes().all(|b| b.is_ascii_hexdigit())
            {
                host.fs
                    .remove(&format!("{}/{entry}", dir.trim_end_matches('/')))?;
            }
        }
    }
    Ok(())
}
