//! `scripts`: known hook names, existing files, timeouts.

use std::collections::BTreeMap;
use std::time::Duration;

use hop_artifact::duration_text;
use hop_artifact::package_manifest::Hook;
use hop_artifact::source_manifest::SourceScript;

use super::Context;

/// The hooks' members and their timeouts.
pub(super) fn check(
    cx: &mut Context<'_>,
    scripts: &BTreeMap<String, SourceScript>,
) -> (BTreeMap<Hook, String>, BTreeMap<Hook, Duration>) {
    let mut members = BTreeMap::new();
    let mut timeouts = BTreeMap::new();
    for (name, script) in scripts {
        let field = format!("scripts.{name}");
        let Some(hook) = Hook::ALL.into_iter().find(|h| h.as_str() == name) else {
            let known: Vec<_> = Hook::ALL.iter().map(|h| h.as_str()).collect();
            cx.problems.add(
                &field,
                format!("unknown hook (known: {})", known.join(", ")),
            );
            continue;
        };
        if let Some(text) = script.timeout() {
            match duration_text::parse(text) {
                Ok(d) if d.is_zero() => cx
                    .problems
                    .add(format!("{field}.timeout"), "must be longer than 0s"),
                Ok(d) => {
                    timeouts.insert(hook, d);
                }
                Err(e) => cx.problems.add(format!("{field}.timeout"), e),
            }
        }
        let Some(path) = cx.existing_file(&field, script.path()) else {
            continue;
        };
        let member = format!("scripts/{name}");
        members.insert(hook, member.clone());
        cx.add_member(member, path);
    }
    (members, timeouts)
}
