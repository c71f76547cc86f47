//! `configs`: sources exist, destinations are absolute and unique, modes
//! are octal text.

use std::collections::BTreeSet;

use hop_artifact::digest::Sha256Digest;
use hop_artifact::package_manifest::{ConfigFile, check_host_path, parse_mode};
use hop_artifact::source_manifest::{ModeValue, SourceConfig};

use super::Context;

/// Permissions of a config whose manifest entry gives none.
const DEFAULT_MODE: u32 = 0o644;

pub(super) fn check(cx: &mut Context<'_>, configs: &[SourceConfig]) -> Vec<ConfigFile> {
    let mut dests = BTreeSet::new();
    let mut out = Vec::new();
    for (i, c) in configs.iter().enumerate() {
        let field = format!("configs[{i}]");
        let source = cx.existing_file(&format!("{field}.source"), &c.source);
        let dest_ok = match check_host_path(&c.dest) {
            Ok(()) => true,
            Err(e) => {
                cx.problems.add(format!("{field}.dest"), e);
                false
            }
        };
        if !dests.insert(c.dest.as_str()) {
            cx.problems.add(
                format!("{field}.dest"),
                format!("{} is the destination of another config", c.dest),
            );
        }
        let mode = match &c.mode {
            None => Some(DEFAULT_MODE),
            Some(ModeValue::Text(t)) => parse_mode(t)
                .map_err(|e| cx.problems.add(format!("{field}.mode"), e))
                .ok(),
            Some(ModeValue::Number(n)) => {
                cx.problems.add(
                    format!("{field}.mode"),
                    format!("write the mode as a quoted octal string, e.g. \"0640\" (YAML reads {n} as a decimal number)"),
                );
                None
            }
        };
        let from_sha256 = c.from_source.as_deref().and_then(|from| {
            let path = cx.existing_file(&format!("{field}.from_source"), from)?;
            Sha256Digest::of_file(&path)
                .map(|(d, _)| d)
                .map_err(|e| {
                    cx.problems
                        .add(format!("{field}.from_source"), format!("{from}: {e}"))
                })
                .ok()
        });
        if c.preserve_local_edits && c.from_source.is_none() {
            cx.problems.add(
                format!("{field}.from_source"),
                "preserve_local_edits needs from_source (the file as the from version shipped \
                 it): without it every host's file looks edited, is kept, and the new config \
                 never takes effect",
            );
        }
        let during_roll = c
            .during_roll
            .as_deref()
            .and_then(|path| cx.existing_file(&format!("{field}.during_roll"), path));
        let (Some(source), Some(mode), true) = (source, mode, dest_ok) else {
            continue;
        };
        let member = format!("configs{}", c.dest);
        if let Err(e) = hop_artifact::package_manifest::check_member_path(&member) {
            cx.problems.add(format!("{field}.dest"), e);
            continue;
        }
        let during_roll = during_roll.map(|file| {
            let pinned = format!("configs/during-roll{}", c.dest);
            cx.add_member(pinned.clone(), file);
            pinned
        });
        out.push(ConfigFile {
            file: member.clone(),
            dest: c.dest.clone(),
            mode,
            preserve_local_edits: c.preserve_local_edits,
            from_sha256,
            during_roll,
        });
        cx.add_member(member, source);
    }
    out
}
