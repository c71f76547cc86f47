//! The online-migration linter. An `online` (expand) migration runs while
//! the `from` version is still serving — on a cluster, while old nodes
//! still serve — so it must be additive (the old code keeps working on the
//! new schema) and must not hold locks that stall the old code.
//!
//! On PostgreSQL the DDL is judged by squawk's parser and lock-safety
//! rules ([`postgres`]); on MariaDB by its online DDL rules ([`mariadb`]);
//! everywhere by hop's own rules ([`hop_rules`]): DELETE, TRUNCATE,
//! exclusive locks, and what the linter cannot see into. A migration may
//! waive a finding with a reason ([`waivers`]); the package lists every
//! waiver.

mod hop_rules;
mod mariadb;
mod postgres;
mod waivers;

#[cfg(test)]
mod corpus;

use hop_artifact::migration::{Backend, Statement};

pub use waivers::Waiver;

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
/// `backend`).
pub fn lint_online(text: &str, statements: &[Statement], backend: Backend) -> Linted {
    let mut findings = hop_rules::lint(statements, backend);
    match backend {
        Backend::Postgresql => findings.extend(postgres::lint(text)),
        Backend::Mariadb => findings.extend(mariadb::lint(statements)),
        Backend::Sqlite => {}
    }
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
