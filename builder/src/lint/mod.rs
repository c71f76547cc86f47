//! The online-migration linter. An `online` (expand) migration runs while
//! the `from` version is still serving — on a cluster, while old nodes
//! still serve — so it must be additive (the old code keeps working on the
//! new schema) and must not hold locks that stall the old code.
//!
//! On PostgreSQL the DDL is judged by squawk's parser and lock-safety
//! rules ([`postgres`]); on MariaDB by its online DDL rules ([`mariadb`]);
//! everywhere by hop's own rules ([`hop_rules`]): DELETE, TRUNCATE,
//! exclusive locks, unbatched backfills, and what the linter cannot see
//! into. What a migration does to a table it creates itself is never a
//! finding (the running version cannot see that table); a type change
//! that only widens a varchar the history declared ([`columns`]) is not
//! either. A migration may
//! waive a finding with a reason ([`waivers`]); the package lists every
//! waiver.

mod columns;
mod hop_rules;
mod mariadb;
mod postgres;
mod shape;
mod waivers;

#[cfg(test)]
mod corpus;

use hop_artifact::migration::{Backend, Statement, major_of, outside_transaction};

pub use columns::Columns;
pub use waivers::Waiver;

/// What the linter knows beyond the migration itself: the columns the
/// earlier migrations declare, and the oldest server the hop supports.
#[derive(Debug, Default)]
pub struct History {
    /// The columns the earlier migrations declared (PostgreSQL).
    pub columns: Columns,
    /// `database.min_server_version` of this database (`"12"`).
    pub oldest_server: Option<String>,
}

/// One broken rule: where, which, why it is dangerous, and the safe
/// pattern to use instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// 1-based line in the migration file.
    pub line: usize,
    /// The rule's name (`ban-drop-column`, `delete`, …): what a waiver names.
    pub rule: String,
    /// Why it is dangerous while the old version serves.
    pub why: String,
    /// The safe pattern to use instead.
    pub instead: String,
}

impl Finding {
    fn new(line: usize, rule: &str, why: &str, instead: &str) -> Self {
        Self {
            line,
            rule: rule.to_owned(),
            why: why.to_owned(),
            instead: instead.to_owned(),
        }
    }
}

/// What the linter made of one online migration on one database.
#[derive(Debug, Default)]
pub struct Linted {
    /// Findings no waiver covers: the build refuses them.
    pub findings: Vec<Finding>,
    /// Waivers that covered a finding: listed in the package.
    pub waived: Vec<Waiver>,
    /// Malformed or unused waivers, each `LINE: message`.
    pub problems: Vec<String>,
}

/// Lints an online migration (its text and its statements as split for
/// `backend`), knowing what `history` knows.
pub fn lint_online(
    text: &str,
    statements: &[Statement],
    backend: Backend,
    history: &History,
) -> Linted {
    let mut findings = hop_rules::lint(statements, backend);
    match backend {
        Backend::Postgresql => {
            let major = history.oldest_server.as_deref().and_then(major_of);
            // hop runs the migration in a transaction unless a statement
            // cannot be in one: then squawk must not assume one either.
            let in_transaction = statements
                .iter()
                .all(|s| outside_transaction(s, backend, major).is_none());
            let squawk = postgres::lint(text, in_transaction, history.oldest_server.as_deref());
            findings.extend(squawk.into_iter().filter(|f| {
                !(f.rule == "changing-column-type"
                    && statement_at(statements, f.line)
                        .is_some_and(|s| history.columns.only_widens(&s.sql)))
            }));
        }
        Backend::Mariadb => findings.extend(mariadb::lint(statements)),
        Backend::Sqlite => {}
    }
    let created = shape::created_tables(statements, backend);
    findings.retain(|f| {
        f.rule == "opaque-statement"
            || !statement_at(statements, f.line)
                .and_then(|s| shape::changed_table(s, backend))
                .is_some_and(|table| created.contains(&table))
    });
    findings.sort_by(|a, b| (a.line, &a.rule).cmp(&(b.line, &b.rule)));
    findings.dedup_by(|a, b| a.line == b.line && a.rule == b.rule);
    let (waivers, mut problems) = waivers::parse(text);
    let (findings, waived) = waivers::apply(statements, findings, &waivers, &mut problems);
    Linted {
        findings,
        waived,
        problems,
    }
}

/// The statement a finding's `line` falls in: the last one starting at or
/// before it.
fn statement_at(statements: &[Statement], line: usize) -> Option<&Statement> {
    statements.iter().rev().find(|s| s.line <= line)
}
