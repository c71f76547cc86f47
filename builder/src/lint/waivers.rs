//! Waivers: `-- hop: allow RULE because REASON` on the line before a
//! statement lets that statement break RULE. Every waiver needs a reason,
//! and a waiver that waives nothing is an error (it is stale, or names the
//! wrong rule).

use hop_artifact::migration::Statement;

use super::Finding;

/// A waiver as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiver {
    /// The line of the comment.
    pub line: usize,
    /// The rule it waives.
    pub rule: String,
    /// Why, in the release engineer's words.
    pub reason: String,
}

/// The waivers of a migration's text; a malformed one is a problem.
pub fn parse(text: &str) -> (Vec<Waiver>, Vec<String>) {
    let mut waivers = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(rest) = line
            .trim_start()
            .strip_prefix("--")
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix("hop:"))
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix("allow"))
        else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let rule = words.next().unwrap_or_default().to_owned();
        let reason = match rest.split_once(" because ") {
            Some((_, r)) if !r.trim().is_empty() => r.trim().to_owned(),
            _ => {
                problems.push(format!(
                    "{}: a waiver needs a rule and a reason: `-- hop: allow RULE because …`",
                    i + 1
                ));
                continue;
            }
        };
        waivers.push(Waiver {
            line: i + 1,
            rule,
            reason,
        });
    }
    (waivers, problems)
}

/// The statement a line belongs to: the last one starting at or before it.
fn statement_of(statements: &[Statement], line: usize) -> Option<usize> {
    statements.iter().rposition(|s| s.line <= line)
}

/// The statement a waiver applies to: the first one starting after it.
fn waived_statement(statements: &[Statement], waiver: &Waiver) -> Option<usize> {
    statements.iter().position(|s| s.line > waiver.line)
}

/// Splits `findings` into those that stand and those a waiver covers;
/// a waiver that covers nothing is a problem.
pub fn apply(
    statements: &[Statement],
    findings: Vec<Finding>,
    waivers: &[Waiver],
    problems: &mut Vec<String>,
) -> (Vec<Finding>, Vec<Waiver>) {
    let mut used = vec![false; waivers.len()];
    let mut standing = Vec::new();
    for f in findings {
        let stmt = statement_of(statements, f.line);
        let waiver = waivers.iter().position(|w| {
            w.rule == f.rule && stmt.is_some() && waived_statement(statements, w) == stmt
        });
        match waiver {
            Some(i) => used[i] = true,
            None => standing.push(f),
        }
    }
    let mut applied = Vec::new();
    for (w, used) in waivers.iter().zip(used) {
        if used {
            applied.push(w.clone());
        } else {
            problems.push(format!(
                "{}: the waiver of {} waives nothing (no finding of that rule in the next statement)",
                w.line, w.rule
            ));
        }
    }
    (standing, applied)
}
