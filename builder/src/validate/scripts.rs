//! `scripts`: known hook names, existing files.

use std::collections::BTreeMap;

use hop_artifact::package_manifest::Hook;

use super::Context;

pub(super) fn check(
    cx: &mut Context<'_>,
    scripts: &BTreeMap<String, String>,
) -> BTreeMap<Hook, String> {
    let mut out = BTreeMap::new();
    for (name, relative) in scripts {
        let field = format!("scripts.{name}");
        let Some(hook) = Hook::ALL.into_iter().find(|h| h.as_str() == name) else {
            let known: Vec<_> = Hook::ALL.iter().map(|h| h.as_str()).collect();
            cx.problems.add(
                &field,
                format!("unknown hook (known: {})", known.join(", ")),
            );
            continue;
        };
        let Some(path) = cx.existing_file(&field, relative) else {
            continue;
        };
        let member = format!("scripts/{name}");
        out.insert(hook, member.clone());
        cx.add_member(member, path);
    }
    out
}
