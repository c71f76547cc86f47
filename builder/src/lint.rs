//! The online-migration linter: an `online` migration runs while the `from`
//! version is still serving, so it must be additive — the old code must keep
//! working against the new schema, and the migration must not hold locks
//! that stall the old code.
//!
//! Rules match on the statement's unquoted words (the tokenizer has already
//! set strings and comments aside), so `'DROP'` in a string never trips
//! them and a comment cannot hide a statement.

use hop_artifact::migration::{Backend, Statement};

/// One broken rule: where, which rule, and why it matters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub line: usize,
    pub rule: &'static str,
    pub why: &'static str,
}

/// Lints the statements of an online migration as they would run on
/// `backend`.
pub fn lint_online(statements: &[Statement], backend: Backend) -> Vec<Violation> {
    let mut found = Vec::new();
    for s in statements {
        let mut hit = |line: usize, rule: &'static str, why: &'static str| {
            found.push(Violation { line, rule, why });
        };
        if s.starts_with(&["DROP"]) {
            hit(
                s.line,
                "drop",
                "DROP removes an object the running version may still use",
            );
        }
        if s.starts_with(&["TRUNCATE"]) {
            hit(
                s.line,
                "truncate",
                "TRUNCATE deletes every row under an exclusive lock",
            );
        }
        if s.starts_with(&["DELETE"]) {
            hit(
                s.line,
                "delete",
                "DELETE removes rows the running version may still read",
            );
        }
        if s.starts_with(&["LOCK"])
            || s.starts_with(&["VACUUM", "FULL"])
            || s.starts_with(&["CLUSTER"])
        {
            hit(
                s.line,
                "exclusive-lock",
                "takes an exclusive lock that stalls the running version",
            );
        }
        if s.starts_with(&["RENAME"]) {
            hit(
                s.line,
                "rename",
                "RENAME breaks the running version's queries by name",
            );
        }
        if s.starts_with(&["ALTER", "TABLE"]) {
            lint_alter_table(s, backend, &mut hit);
        }
        if backend == Backend::Postgresql
            && creates_index(s)
            && s.has_sequence(&["CONCURRENTLY"]).is_none()
        {
            hit(
                s.line,
                "index-not-concurrent",
                "CREATE INDEX without CONCURRENTLY blocks writes to the table on PostgreSQL while it builds; use CREATE INDEX CONCURRENTLY",
            );
        }
    }
    found
}

fn creates_index(s: &Statement) -> bool {
    s.starts_with(&["CREATE", "INDEX"]) || s.starts_with(&["CREATE", "UNIQUE", "INDEX"])
}

fn lint_alter_table(
    s: &Statement,
    backend: Backend,
    hit: &mut impl FnMut(usize, &'static str, &'static str),
) {
    if let Some(line) = s.has_sequence(&["DROP"]) {
        hit(
            line,
            "drop",
            "ALTER TABLE … DROP removes a column, constraint or default the running version may rely on",
        );
    }
    if let Some(line) = s.has_sequence(&["RENAME"]) {
        hit(
            line,
            "rename",
            "RENAME breaks the running version's queries by name",
        );
    }
    let type_change = s
        .has_sequence(&["SET", "DATA", "TYPE"])
        .or_else(|| type_after_alter_column(s));
    if let Some(line) = type_change {
        hit(
            line,
            "type-change",
            "changing a column's type rewrites the table and can break the running version",
        );
    }
    if backend == Backend::Mariadb
        && let Some(line) = s
            .has_sequence(&["MODIFY"])
            .or_else(|| s.has_sequence(&["CHANGE"]))
    {
        hit(
            line,
            "type-change",
            "MODIFY/CHANGE redefines a column and can rewrite the table",
        );
    }
    if let Some(line) = s.has_sequence(&["SET", "NOT", "NULL"]) {
        hit(
            line,
            "set-not-null",
            "SET NOT NULL makes the running version's inserts without this column fail",
        );
    }
    if let Some(line) = s
        .has_sequence(&["ADD", "CONSTRAINT"])
        .or_else(|| s.has_sequence(&["ADD", "PRIMARY"]))
        .or_else(|| s.has_sequence(&["ADD", "UNIQUE"]))
        .or_else(|| s.has_sequence(&["ADD", "FOREIGN"]))
        .or_else(|| s.has_sequence(&["ADD", "CHECK"]))
    {
        hit(
            line,
            "add-constraint",
            "a new constraint can reject the running version's writes and scans the table under lock",
        );
    }
    if let Some(line) = not_null_without_default(s) {
        hit(
            line,
            "not-null-without-default",
            "a NOT NULL column without a DEFAULT makes the running version's inserts fail",
        );
    }
}

/// `ALTER COLUMN c TYPE …` (PostgreSQL's short form).
fn type_after_alter_column(s: &Statement) -> Option<usize> {
    s.words.windows(4).find_map(|w| {
        (w[0].0 == "ALTER" && w[1].0 == "COLUMN" && w[3].0 == "TYPE").then_some(w[0].1)
    })
}

/// `ADD [COLUMN] … NOT NULL` with no `DEFAULT` in the same statement.
fn not_null_without_default(s: &Statement) -> Option<usize> {
    let adds = s.has_sequence(&["ADD"])?;
    let not_null = s.has_sequence(&["NOT", "NULL"])?;
    if s.has_sequence(&["DEFAULT"]).is_some() || s.has_sequence(&["SET", "NOT", "NULL"]).is_some() {
        return None;
    }
    Some(not_null.max(adds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hop_artifact::migration::split_statements;

    fn rules(sql: &str, backend: Backend) -> Vec<&'static str> {
        let stmts = split_statements(sql, backend).unwrap();
        lint_online(&stmts, backend)
            .into_iter()
            .map(|v| v.rule)
            .collect()
    }

    #[test]
    fn additive_statements_pass() {
        let sql = "ALTER TABLE t ADD COLUMN c text;\nCREATE TABLE u (id int);\n\
                   ALTER TABLE t ADD COLUMN d int NOT NULL DEFAULT 0;\nINSERT INTO u VALUES (1);\n\
                   CREATE INDEX CONCURRENTLY i ON t (c);";
        assert_eq!(rules(sql, Backend::Postgresql), Vec::<&str>::new());
    }

    #[test]
    fn destructive_statements_are_named() {
        let cases = [
            ("DROP TABLE t;", "drop"),
            ("ALTER TABLE t DROP COLUMN c;", "drop"),
            ("ALTER TABLE t RENAME COLUMN a TO b;", "rename"),
            ("ALTER TABLE t ALTER COLUMN c TYPE bigint;", "type-change"),
            (
                "ALTER TABLE t ALTER COLUMN c SET DATA TYPE bigint;",
                "type-change",
            ),
            ("ALTER TABLE t ALTER COLUMN c SET NOT NULL;", "set-not-null"),
            ("TRUNCATE t;", "truncate"),
            ("CREATE INDEX i ON t (c);", "index-not-concurrent"),
            ("CREATE UNIQUE INDEX i ON t (c);", "index-not-concurrent"),
            (
                "ALTER TABLE t ADD COLUMN c int NOT NULL;",
                "not-null-without-default",
            ),
            (
                "ALTER TABLE t ADD CONSTRAINT u UNIQUE (c);",
                "add-constraint",
            ),
            ("DELETE FROM t;", "delete"),
        ];
        for (sql, rule) in cases {
            assert!(
                rules(sql, Backend::Postgresql).contains(&rule),
                "{sql} should break {rule}"
            );
        }
    }

    #[test]
    fn index_rule_is_postgresql_only_and_mariadb_modify_is_caught() {
        assert!(rules("CREATE INDEX i ON t (c);", Backend::Sqlite).is_empty());
        assert_eq!(
            rules("ALTER TABLE t MODIFY c bigint;", Backend::Mariadb),
            ["type-change"]
        );
    }

    #[test]
    fn strings_and_comments_do_not_trip_rules() {
        let sql = "-- DROP TABLE t;\nINSERT INTO log VALUES ('DROP TABLE t');";
        assert!(rules(sql, Backend::Postgresql).is_empty());
    }

    #[test]
    fn reports_the_line_of_the_offending_word() {
        let stmts = split_statements(
            "ALTER TABLE t\n  ADD COLUMN a int,\n  DROP COLUMN b;",
            Backend::Postgresql,
        )
        .unwrap();
        let v = lint_online(&stmts, Backend::Postgresql);
        assert_eq!(v[0].line, 3);
    }
}
