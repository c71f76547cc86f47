//! `cargo xtask cycles DIR`: the top-level modules of a crate's source
//! directory that depend on each other in a circle. A cycle means neither
//! module can be read, tested or moved without the other; the installer
//! has none, and `make check` keeps it so.
//!
//! A module depends on another when any of its files names a path
//! `crate::other…` (in a `use` or in code), read with `syn`; test modules
//! (`#[cfg(test)]`, `tests.rs`, `*_tests.rs`) and doc links do not count.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result};
use syn::visit::Visit;

/// Each top-level module and the modules it names.
pub type Graph = BTreeMap<String, BTreeSet<String>>;

/// The module graph of the crate whose `lib.rs` is in `src`.
pub fn graph(src: &Path) -> Result<Graph> {
    let mut graph = Graph::new();
    visit_dir(src, src, &mut graph)?;
    Ok(graph)
}

fn visit_dir(src: &Path, dir: &Path, graph: &mut Graph) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type()?.is_dir() {
            visit_dir(src, &path, graph)?;
            continue;
        }
        let Some(stem) = name.strip_suffix(".rs") else {
            continue;
        };
        if stem == "tests" || stem.ends_with("_tests") {
            continue;
        }
        let relative = path.strip_prefix(src)?;
        let top = match relative.components().next() {
            Some(c) if relative.components().count() > 1 => c.as_os_str().to_string_lossy(),
            _ => stem.into(),
        };
        if top == "lib" || top == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let file =
            syn::parse_file(&text).with_context(|| format!("cannot parse {}", path.display()))?;
        let mut names = CrateNames::default();
        names.visit_file(&file);
        names.0.remove(top.as_ref());
        graph.entry(top.into_owned()).or_default().extend(names.0);
    }
    Ok(())
}

/// The first segment after `crate::` of every path in a file.
#[derive(Default)]
struct CrateNames(BTreeSet<String>);

impl CrateNames {
    fn use_tree(&mut self, tree: &syn::UseTree, after_crate: bool) {
        match tree {
            syn::UseTree::Path(p) if after_crate => {
                self.0.insert(p.ident.to_string());
            }
            syn::UseTree::Path(p) if p.ident == "crate" => self.use_tree(&p.tree, true),
            syn::UseTree::Name(n) if after_crate => {
                self.0.insert(n.ident.to_string());
            }
            syn::UseTree::Rename(r) if after_crate => {
                self.0.insert(r.ident.to_string());
            }
            syn::UseTree::Group(g) => g.items.iter().for_each(|t| self.use_tree(t, after_crate)),
            _ => {}
        }
    }
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg") && a.parse_args::<syn::Ident>().is_ok_and(|cfg| cfg == "test")
    })
}

impl<'ast> Visit<'ast> for CrateNames {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if !is_test_only(&m.attrs) {
            syn::visit::visit_item_mod(self, m);
        }
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if !is_test_only(&f.attrs) {
            syn::visit::visit_item_fn(self, f);
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        if !is_test_only(&u.attrs) {
            self.use_tree(&u.tree, false);
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let mut segments = p.segments.iter();
        if let (Some(first), Some(second)) = (segments.next(), segments.next())
            && first.ident == "crate"
        {
            self.0.insert(second.ident.to_string());
        }
        syn::visit::visit_path(self, p);
    }
}

/// The modules that depend on each other in a circle, each circle sorted
/// (Tarjan's strongly connected components of more than one module).
pub fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct Walk<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        found: Vec<Vec<String>>,
    }
    impl<'g> Walk<'g> {
        fn visit(&mut self, v: &'g str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            for w in self.graph.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.stack.contains(&w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let at = self.stack.iter().rposition(|s| *s == v).unwrap_or(0);
                let mut circle: Vec<String> = self.stack.drain(at..).map(str::to_owned).collect();
                if circle.len() > 1 {
                    circle.sort();
                    self.found.push(circle);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found.sort();
    walk.found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph_of(edges: &[(&str, &str)]) -> Graph {
        let mut g = Graph::new();
        for (a, b) in edges {
            g.entry((*a).into()).or_default().insert((*b).into());
            g.entry((*b).into()).or_default();
        }
        g
    }

    #[test]
    fn a_circle_is_found_and_a_chain_is_not() {
        let g = graph_of(&[("journal", "recovery"), ("recovery", "journal"), ("a", "b")]);
        assert_eq!(cycles(&g), vec![vec!["journal", "recovery"]]);
        let g = graph_of(&[("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]);
        assert_eq!(cycles(&g), vec![vec!["a", "b", "c"]]);
        assert!(cycles(&graph_of(&[("a", "b"), ("b", "c")])).is_empty());
    }

    #[test]
    fn uses_and_paths_count_tests_and_docs_do_not() {
        let file = syn::parse_file(
            "//! See [`crate::docs_only`].\n\
             use crate::{journal::Undo, host};\n\
             use crate::state_dir::StateDir as Dir;\n\
             fn f() { crate::fault::hit(); }\n\
             #[cfg(test)] mod tests { use crate::testing; }\n",
        )
        .unwrap();
        let mut names = CrateNames::default();
        names.visit_file(&file);
        let names: Vec<_> = names.0.into_iter().collect();
        assert_eq!(names, ["fault", "host", "journal", "state_dir"]);
    }

    #[test]
    fn the_installer_has_no_module_cycle() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../installer/src");
        let g = graph(&src).unwrap();
        assert!(g.contains_key("journal") && g["operation"].contains("journal"));
        assert_eq!(cycles(&g), Vec::<Vec<String>>::new());
    }
}
