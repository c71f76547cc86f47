//! `migrations`: `NNNN_description.sql` (or `.up.sql`) files, numbered in
//! increasing order — gaps allowed, as Flyway and golang-migrate allow —
//! without duplicates, each with a valid phase line; golang-migrate's
//! `.down.sql` files are left out (noted); per-database variants match a
//! portable file; online migrations pass the linter on every database the
//! hop supports.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hop_artifact::migration::{
    Backend, MigrationHeader, MigrationName, Phase, Statement, split_statements,
};
use hop_artifact::package_manifest::Migration;

use super::Context;
use hop_artifact::package_manifest::LintWaiver;

use crate::lint::{History, lint_online};

const FIELD: &str = "migrations";

/// The largest migration file read.
const MAX_MIGRATION_BYTES: u64 = 16 << 20;

/// A migration file found on disk.
struct Found {
    name: MigrationName,
    relative: String,
    path: PathBuf,
    text: String,
    header: Option<MigrationHeader>,
}

pub(super) fn check(
    cx: &mut Context<'_>,
    dir: Option<&str>,
    oldest: &BTreeMap<Backend, String>,
) -> Vec<Migration> {
    let Some(dir) = dir else {
        return Vec::new();
    };
    let dir_rel = dir.trim_end_matches('/');
    let root = cx.resolve(dir_rel);
    if !root.is_dir() {
        cx.problems
            .add(FIELD, format!("{dir_rel} is not a directory"));
        return Vec::new();
    }
    let mut portable: BTreeMap<u32, Found> = BTreeMap::new();
    let mut downs: Vec<String> = Vec::new();
    let mut variants: BTreeMap<Backend, Vec<Found>> = BTreeMap::new();
    for (relative, path, subdir) in list(cx, &root, dir_rel) {
        let backend = match subdir.map(|name| name.parse::<Backend>()) {
            None => None,
            Some(Ok(b)) => Some(b),
            Some(Err(_)) => {
                cx.problems.add(
                    FIELD,
                    format!("{relative}: variants go in postgresql/, mariadb/ or sqlite/"),
                );
                continue;
            }
        };
        if path
            .file_name()
            .is_some_and(|n| MigrationName::is_down(&n.to_string_lossy()))
        {
            downs.push(relative);
            continue;
        }
        let Some(found) = read(cx, relative, path) else {
            continue;
        };
        match backend {
            Some(b) => variants.entry(b).or_default().push(found),
            None => {
                if let Some(other) = portable.get(&found.name.version) {
                    cx.problems.add(
                        FIELD,
                        format!(
                            "{} and {} share the number {:04}",
                            other.relative, found.relative, found.name.version
                        ),
                    );
                } else {
                    portable.insert(found.name.version, found);
                }
            }
        }
    }
    if !downs.is_empty() {
        cx.notes.push(format!(
            "ignored {} down migration(s), which hop never runs: {}",
            downs.len(),
            downs.join(", ")
        ));
    }

    let mut out: BTreeMap<u32, Migration> = BTreeMap::new();
    for (version, found) in &portable {
        let Some(header) = found.header else { continue };
        out.insert(
            *version,
            Migration {
                version: *version,
                description: found.name.description.clone(),
                phase: header.phase,
                batch: header.batch,
                file: format!("migrations/{}", found.name.file_name()),
                variants: BTreeMap::new(),
                phases: BTreeMap::new(),
            },
        );
        cx.add_member(
            format!("migrations/{}", found.name.file_name()),
            found.path.clone(),
        );
    }
    for (backend, found_list) in &variants {
        if !oldest.contains_key(backend) {
            cx.problems.add(
                FIELD,
                format!("{dir_rel}/{backend}/ holds variants, but database.min_server_version does not list {backend}"),
            );
        }
        for found in found_list {
            let Some(base) = portable
                .get(&found.name.version)
                .filter(|b| b.name == found.name)
            else {
                cx.problems.add(
                    FIELD,
                    format!(
                        "{}: a variant needs a portable file of the same name in {dir_rel}/",
                        found.relative
                    ),
                );
                continue;
            };
            // A variant may run in another phase (what is online on one
            // database may copy the table on another); `batch` must agree.
            let phase = match (found.header, base.header) {
                (Some(v), Some(b)) if v.batch != b.batch => {
                    cx.problems.add(
                        FIELD,
                        format!(
                            "{}:1: its phase line says `batch` where {} does not, or the other way round",
                            found.relative, base.relative
                        ),
                    );
                    None
                }
                (Some(v), Some(b)) => (v.phase != b.phase).then_some(v.phase),
                _ => None,
            };
            let member = format!("migrations/{backend}/{}", found.name.file_name());
            if let Some(m) = out.get_mut(&found.name.version) {
                m.variants.insert(*backend, member.clone());
                if let Some(phase) = phase {
                    m.phases.insert(*backend, phase);
                }
            }
            cx.add_member(member, found.path.clone());
        }
    }

    for (backend, server) in oldest {
        // What the earlier migrations declared, for the linter.
        let mut history = History {
            oldest_server: Some(server.clone()),
            ..History::default()
        };
        for found in portable.values() {
            let variant = variants
                .get(backend)
                .and_then(|v| v.iter().find(|f| f.name == found.name));
            let member = match variant {
                Some(_) => format!("migrations/{backend}/{}", found.name.file_name()),
                None => format!("migrations/{}", found.name.file_name()),
            };
            let found = variant.unwrap_or(found);
            check_sql(cx, found, *backend, &member, &history);
            if *backend == Backend::Postgresql {
                history.columns.learn(&found.text);
            }
        }
    }
    out.into_values().collect()
}

/// Lists the files at the top and one level down (with that folder's
/// name), reporting anything else.
fn list(
    cx: &mut Context<'_>,
    root: &Path,
    dir_rel: &str,
) -> Vec<(String, PathBuf, Option<String>)> {
    let mut files = Vec::new();
    let mut walk = vec![(root.to_path_buf(), dir_rel.to_owned(), None)];
    while let Some((dir, rel, subdir)) = walk.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                cx.problems.add(FIELD, format!("{rel}: {e}"));
                continue;
            }
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = format!("{rel}/{name}");
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() && subdir.is_none() {
                walk.push((entry.path(), relative, Some(name)));
            } else if kind.is_file() {
                files.push((relative, entry.path(), subdir.clone()));
            } else {
                cx.problems.add(
                    FIELD,
                    format!("{relative}: only .sql files and per-database folders belong here"),
                );
            }
        }
    }
    files.sort();
    files
}

fn read(cx: &mut Context<'_>, relative: String, path: PathBuf) -> Option<Found> {
    let file_name = path.file_name()?.to_string_lossy().into_owned();
    let name = match MigrationName::parse(&file_name) {
        Ok(n) => n,
        Err(e) => {
            cx.problems.add(FIELD, format!("{relative}: {e}"));
            return None;
        }
    };
    if std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) > MAX_MIGRATION_BYTES {
        cx.problems.add(
            FIELD,
            format!("{relative}: larger than {MAX_MIGRATION_BYTES} bytes"),
        );
        return None;
    }
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            cx.problems.add(FIELD, format!("{relative}: {e}"));
            return None;
        }
    };
    let header = MigrationHeader::parse(&text)
        .map_err(|e| cx.problems.add(FIELD, format!("{relative}:1: {e}")))
        .ok();
    Some(Found {
        name,
        relative,
        path,
        text,
        header,
    })
}

/// `from_last_migration` names one of the package's migrations (a hop
/// with migrations must say where its `from` version's end).
pub(super) fn check_from_last(
    cx: &mut Context<'_>,
    from_last: Option<u32>,
    migrations: &[Migration],
    from: &str,
) {
    match from_last {
        None if !migrations.is_empty() => cx.problems.add(
            "from_last_migration",
            format!(
                "missing: give the number of the last migration {from} shipped (what a database at {from} holds)"
            ),
        ),
        Some(n) if n != 0 && !migrations.iter().any(|m| m.version == n) => cx.problems.add(
            "from_last_migration",
            format!("{n:04} is not one of the package's migrations"),
        ),
        _ => {}
    }
}

fn check_sql(
    cx: &mut Context<'_>,
    found: &Found,
    backend: Backend,
    member: &str,
    history: &History,
) {
    let Some(header) = found.header else { return };
    let statements = match split_statements(&found.text, backend) {
        Ok(s) => s,
        Err(e) => {
            cx.problems
                .add(FIELD, format!("{} ({backend}): {e}", found.relative));
            return;
        }
    };
    if statements.is_empty() {
        cx.problems
            .add(FIELD, format!("{}: holds no SQL statement", found.relative));
    }
    for s in &statements {
        if is_transaction_control(s) {
            cx.problems.add(
                FIELD,
                format!("{}:{}: transaction control ({}) is not allowed: hop runs each migration in its own transaction", found.relative, s.line, s.words[0].0),
            );
        }
    }
    if header.batch {
        let dml = statements.len() == 1
            && ["UPDATE", "DELETE", "INSERT"]
                .iter()
                .any(|w| statements[0].starts_with(&[w]));
        if !dml {
            cx.problems.add(
                FIELD,
                format!("{}: a batch migration is one UPDATE, DELETE or INSERT that changes a bounded number of rows per run", found.relative),
            );
        }
    }
    if header.phase == Phase::Online {
        lint(cx, found, &statements, backend, member, history);
    }
}

/// Lints an online migration: each finding is a problem that names the
/// file, line, rule, the danger and the safe pattern; each waiver that
/// covered one goes into the package.
fn lint(
    cx: &mut Context<'_>,
    found: &Found,
    statements: &[Statement],
    backend: Backend,
    member: &str,
    history: &History,
) {
    let linted = lint_online(&found.text, statements, backend, history);
    for p in linted.problems {
        cx.problems.add(FIELD, format!("{}:{p}", found.relative));
    }
    for f in linted.findings {
        cx.problems.add(
            FIELD,
            format!(
                "{}:{}: online migration is not safe while the old version serves [{}] on {backend}: {}; instead: {}",
                found.relative, f.line, f.rule, f.why, f.instead
            ),
        );
    }
    for w in linted.waived {
        let waiver = LintWaiver {
            file: member.to_owned(),
            line: w.line,
            rule: w.rule,
            reason: w.reason,
        };
        if !cx.waivers.contains(&waiver) {
            cx.waivers.push(waiver);
        }
    }
}

fn is_transaction_control(s: &Statement) -> bool {
    let first = s.words.first().map(|(w, _)| w.as_str());
    matches!(
        first,
        Some("BEGIN" | "COMMIT" | "ROLLBACK" | "SAVEPOINT" | "RELEASE" | "END")
    ) || s.starts_with(&["START", "TRANSACTION"])
}
