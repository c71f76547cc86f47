//! Routes through hops: which packages take a host from its version to a
//! target. The graph's nodes are versions and its edges packages; the route
//! has the fewest hops, ties going to the newest intermediate versions.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs::File;
use std::path::{Path, PathBuf};

use hop_artifact::reader::PackageReader;
use hop_artifact::signature::TrustedKeys;
use hop_artifact::version::Version;
use serde::Serialize;

/// A package whose signed head was read (its payload is checked later).
#[derive(Clone, Debug, Serialize)]
pub struct Hop {
    pub path: PathBuf,
    pub from: Version,
    pub to: Version,
    /// The hop pins versions while a cluster rolls (`during_roll` configs).
    pub pins: bool,
}

/// A file that is not a usable hop for this host, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Ignored {
    pub path: PathBuf,
    pub reason: String,
}

/// Reads the heads of the packages in `inputs` (files, or directories of
/// `*.hop`), keeping those of `product` signed by a trusted key.
pub fn collect(
    inputs: &[PathBuf],
    trusted: &TrustedKeys,
    product: &str,
) -> (Vec<Hop>, Vec<Ignored>) {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "hop"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    let mut hops = Vec::new();
    let mut ignored = Vec::new();
    for path in files {
        let head = File::open(&path)
            .map_err(|e| e.to_string())
            .and_then(|f| PackageReader::open(f, trusted).map_err(|e| e.to_string()));
        match head {
            Ok(reader) => {
                let m = reader.manifest().clone();
                if m.product != product {
                    ignored.push(Ignored {
                        path,
                        reason: format!("a package for {}, not {product}", m.product),
                    });
                } else {
                    hops.push(Hop {
                        path,
                        from: m.from.clone(),
                        to: m.to.clone(),
                        pins: m.pins_during_roll(),
                    });
                }
            }
            Err(reason) => ignored.push(Ignored { path, reason }),
        }
    }
    (hops, ignored)
}

/// The route from `from` to `to`, or why there is none.
pub fn find<'a>(hops: &'a [Hop], from: &Version, to: &Version) -> Result<Vec<&'a Hop>, String> {
    if from == to {
        return Ok(Vec::new());
    }
    // Hops still needed to reach `to`, from each version that can.
    let mut remaining: BTreeMap<&Version, usize> = BTreeMap::from([(to, 0)]);
    let mut queue = VecDeque::from([to]);
    while let Some(v) = queue.pop_front() {
        let d = remaining[v];
        for h in hops.iter().filter(|h| &h.to == v) {
            if !remaining.contains_key(&h.from) {
                remaining.insert(&h.from, d + 1);
                queue.push_back(&h.from);
            }
        }
    }
    let Some(&length) = remaining.get(from) else {
        return Err(explain(hops, from, to, &remaining));
    };
    let mut route = Vec::with_capacity(length);
    let mut at = from;
    for left in (0..length).rev() {
        let next = hops
            .iter()
            .filter(|h| &h.from == at && remaining.get(&h.to) == Some(&left))
            .max_by(|a, b| a.to.cmp(&b.to).then(b.path.cmp(&a.path)))
            .ok_or_else(|| format!("no route from {at}"))?;
        route.push(next);
        at = &next.to;
    }
    Ok(route)
}

/// Names the missing hop.
fn explain(
    hops: &[Hop],
    from: &Version,
    to: &Version,
    reaching: &BTreeMap<&Version, usize>,
) -> String {
    if !hops.iter().any(|h| &h.from == from) {
        return format!(
            "no package upgrades from {from} (the version this host runs); the hop {from} → … is missing"
        );
    }
    if !hops.iter().any(|h| &h.to == to) {
        return format!("no package upgrades to {to}; the hop … → {to} is missing");
    }
    let mut reached: BTreeSet<&Version> = BTreeSet::from([from]);
    let mut queue = VecDeque::from([from]);
    while let Some(v) = queue.pop_front() {
        for h in hops.iter().filter(|h| &h.from == v) {
            if reached.insert(&h.to) {
                queue.push_back(&h.to);
            }
        }
    }
    let highest = reached
        .iter()
        .filter(|v| **v < to)
        .max()
        .copied()
        .unwrap_or(from);
    let resumes = reaching.keys().filter(|v| **v > highest).min().copied();
    match resumes {
        Some(next) => format!(
            "the packages take this host from {from} to {highest}, and {to} can be reached from {next}, \
             but no package upgrades {highest} → {next}: that hop is missing"
        ),
        None => format!(
            "the packages take this host from {from} to {highest} at most; no route reaches {to}"
        ),
    }
}

/// The graph in Graphviz DOT, the chosen route highlighted.
pub fn dot(hops: &[Hop], route: &[&Hop], from: &Version, to: &Version) -> String {
    let mut versions: BTreeSet<&Version> = BTreeSet::from([from, to]);
    for h in hops {
        versions.insert(&h.from);
        versions.insert(&h.to);
    }
    let mut out = String::from(
        "digraph hops {\n  rankdir=LR;\n  node [shape=box, fontname=\"sans-serif\"];\n",
    );
    for v in versions {
        let (label, style) = if v == from {
            (
                format!("{v}\\n(installed)"),
                ", style=filled, fillcolor=lightblue",
            )
        } else if v == to {
            (
                format!("{v}\\n(target)"),
                ", style=filled, fillcolor=palegreen",
            )
        } else {
            (v.to_string(), "")
        };
        out += &format!("  \"{v}\" [label=\"{label}\"{style}];\n");
    }
    for h in hops {
        let chosen = route.iter().any(|r| std::ptr::eq(*r, h));
        let name = h
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let style = if chosen {
            ", color=red, penwidth=3"
        } else {
            ", color=gray50, style=dashed"
        };
        out += &format!(
            "  \"{}\" -> \"{}\" [label=\"{name}\"{style}];\n",
            h.from, h.to
        );
    }
    out += "}\n";
    out
}

/// `4.0.1 → 4.1.1 → 4.2.0`.
pub fn describe(route: &[&Hop], from: &Version) -> String {
    std::iter::once(from.to_string())
        .chain(route.iter().map(|h| h.to.to_string()))
        .collect::<Vec<_>>()
        .join(" → ")
}

pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(from: &str, to: &str, name: &str) -> Hop {
        let v = |s: &str| Version::parse(s).unwrap();
        Hop {
            path: PathBuf::from(name),
            from: v(from),
            to: v(to),
            pins: false,
        }
    }

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    /// A hop as (from, to, package name).
    type HopSpec<'a> = (&'a str, &'a str, &'a str);

    /// The route from `from` to `to` over `hops` (from, to, name), as
    /// `from → … → to`.
    fn route(hops: &[HopSpec], from: &str, to: &str) -> String {
        let hops: Vec<Hop> = hops.iter().map(|(f, t, n)| hop(f, t, n)).collect();
        let found = find(&hops, &v(from), &v(to)).unwrap();
        describe(&found, &v(from))
    }

    #[test]
    fn takes_the_fewest_hops_and_breaks_ties_by_the_newest_version_between() {
        let cases: [(&[HopSpec], &str, &str, &str); 2] = [
            (
                &[
                    ("4.0.1", "4.1.1", "a"),
                    ("4.1.1", "4.2.0", "b"),
                    ("4.0.1", "4.2.0", "direct"),
                    ("4.2.0", "4.3.0", "c"),
                ],
                "4.0.1",
                "4.3.0",
                "4.0.1 → 4.2.0 → 4.3.0",
            ),
            (
                &[
                    ("1.0", "1.1", "old"),
                    ("1.0", "1.2", "new"),
                    ("1.1", "2.0", "x"),
                    ("1.2", "2.0", "y"),
                ],
                "1.0",
                "2.0",
                "1.0 → 1.2 → 2.0",
            ),
        ];
        for (hops, from, to, expected) in cases {
            assert_eq!(route(hops, from, to), expected);
        }
    }

    #[test]
    fn names_the_missing_hop() {
        let hops = [hop("4.0.1", "4.1.1", "a"), hop("4.2.0", "4.3.0", "c")];
        let why = find(&hops, &v("4.0.1"), &v("4.3.0")).unwrap_err();
        assert!(why.contains("no package upgrades 4.1.1 → 4.2.0"), "{why}");
        let why = find(&hops, &v("3.4.2"), &v("4.3.0")).unwrap_err();
        assert!(why.contains("no package upgrades from 3.4.2"), "{why}");
        let why = find(&hops, &v("4.0.1"), &v("5.0")).unwrap_err();
        assert!(why.contains("no package upgrades to 5.0"), "{why}");
    }
}
