//! `components`: each RPM exists and its header carries the name and
//! version the manifest says.

use std::collections::BTreeSet;

use hop_artifact::package_manifest::Component;
use hop_artifact::source_manifest::SourceComponent;

use super::Context;

pub(super) fn check(cx: &mut Context<'_>, components: &[SourceComponent]) -> Vec<Component> {
    if components.is_empty() {
        cx.problems
            .add("components", "list at least one RPM of the `to` version");
    }
    let mut names = BTreeSet::new();
    let mut files = BTreeSet::new();
    let mut out = Vec::new();
    for (i, c) in components.iter().enumerate() {
        let field = format!("components[{i}]");
        if !names.insert(c.name.as_str()) {
            cx.problems.add(
                format!("{field}.name"),
                format!("component {} is listed twice", c.name),
            );
        }
        let Some(path) = cx.existing_file(&format!("{field}.rpm"), &c.rpm) else {
            continue;
        };
        // Header only: the payload is never read into memory here.
        let header = match rpm::PackageMetadata::open(&path) {
            Ok(h) => h,
            Err(e) => {
                cx.problems.add(
                    format!("{field}.rpm"),
                    format!("{} is not a readable RPM: {e}", c.rpm),
                );
                continue;
            }
        };
        let fact = |r: Result<&str, rpm::Error>| r.map(str::to_owned).unwrap_or_default();
        let name = fact(header.get_name());
        let version = fact(header.get_version());
        if name != c.name {
            cx.problems.add(
                format!("{field}.name"),
                format!("{} is the RPM of {name:?}, not {:?}", c.rpm, c.name),
            );
        }
        if version != c.version {
            cx.problems.add(
                format!("{field}.version"),
                format!("{} carries version {version:?}, not {:?}", c.rpm, c.version),
            );
        }
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let member = format!("rpms/{file_name}");
        if !files.insert(member.clone()) {
            cx.problems.add(
                format!("{field}.rpm"),
                format!("another component already uses {file_name}"),
            );
            continue;
        }
        if let Err(e) = hop_artifact::package_manifest::check_member_path(&member) {
            cx.problems.add(format!("{field}.rpm"), e);
            continue;
        }
        out.push(Component {
            name,
            epoch: header.get_epoch().unwrap_or(0),
            version,
            release: fact(header.get_release()),
            arch: fact(header.get_arch()),
            file: member.clone(),
        });
        cx.add_member(member, path);
    }
    out
}
