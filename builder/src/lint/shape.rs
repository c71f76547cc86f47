//! A statement's shape as sqlparser reads it: which table it changes, which
//! it creates, and whether an `UPDATE` touches the whole table. What the
//! rules need beyond words: a table created in the same migration is
//! invisible to the running version (nothing it does there can stall or
//! break it), and a backfill must be batched.

use std::collections::HashSet;

use hop_artifact::migration::{Backend, Statement};
use sqlparser::ast::{self, BinaryOperator, Expr, ObjectName, TableFactor};
use sqlparser::parser::Parser;

/// One statement as sqlparser reads it (`None`: it cannot).
fn parse(s: &Statement, backend: Backend) -> Option<ast::Statement> {
    let mut parsed = Parser::parse_sql(backend.dialect().as_ref(), &s.sql).ok()?;
    (parsed.len() == 1).then(|| parsed.remove(0))
}

/// `schema.table` → `table`, lower-cased (unquoted names fold).
fn name(n: &ObjectName) -> String {
    n.0.last()
        .map(|part| {
            part.to_string()
                .trim_matches(['"', '`'])
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

/// The tables each statement creates, in order.
pub fn created_tables(statements: &[Statement], backend: Backend) -> HashSet<String> {
    statements
        .iter()
        .filter(|s| s.starts_with(&["CREATE"]))
        .filter_map(|s| match parse(s, backend)? {
            ast::Statement::CreateTable(t) => Some(name(&t.name)),
            _ => None,
        })
        .collect()
}

/// The table a statement changes: `ALTER TABLE`, `CREATE INDEX … ON`,
/// `UPDATE`, `INSERT INTO`, `DELETE FROM`.
pub fn changed_table(s: &Statement, backend: Backend) -> Option<String> {
    match parse(s, backend)? {
        ast::Statement::AlterTable(a) => Some(name(&a.name)),
        ast::Statement::CreateIndex(i) => Some(name(&i.table_name)),
        ast::Statement::Update(u) => relation(&u.table.relation),
        ast::Statement::Insert(i) => match &i.table {
            ast::TableObject::TableName(n) => Some(name(n)),
            _ => None,
        },
        ast::Statement::Delete(d) => {
            let from = match &d.from {
                ast::FromTable::WithFromKeyword(t) | ast::FromTable::WithoutKeyword(t) => t,
            };
            from.first().and_then(|t| relation(&t.relation))
        }
        _ => None,
    }
}

fn relation(t: &TableFactor) -> Option<String> {
    match t {
        TableFactor::Table { name: n, .. } => Some(name(n)),
        _ => None,
    }
}

/// Whether an `UPDATE` changes every row, or every row that a backfill
/// finds (`WHERE c IS NULL`): one transaction holding a lock on each row
/// it changes while the old version serves. An `UPDATE` that picks rows by
/// value (`WHERE key = 'y'`) is not.
pub fn updates_whole_table(s: &Statement, backend: Backend) -> bool {
    if !s.starts_with(&["UPDATE"]) {
        return false;
    }
    match parse(s, backend) {
        Some(ast::Statement::Update(u)) => match &u.selection {
            None => u.limit.is_none(),
            Some(filter) => u.limit.is_none() && only_null_tests(filter),
        },
        // Unreadable: judged by its words.
        _ => s.has_sequence(&["WHERE"]).is_none(),
    }
}

/// Whether an `ALTER TABLE` adds a column with a `CHECK` of its own:
/// PostgreSQL checks it on every row under ACCESS EXCLUSIVE.
pub fn adds_column_with_check(s: &Statement, backend: Backend) -> Option<usize> {
    let line = s.has_sequence(&["CHECK"])?;
    let Some(ast::Statement::AlterTable(alter)) = parse(s, backend) else {
        return None;
    };
    alter
        .operations
        .iter()
        .any(|op| match op {
            ast::AlterTableOperation::AddColumn { column_def, .. } => column_def
                .options
                .iter()
                .any(|o| matches!(o.option, ast::ColumnOption::Check(_))),
            _ => false,
        })
        .then_some(line)
}

/// `a IS NULL`, `a IS NOT NULL`, and those joined by AND/OR.
fn only_null_tests(e: &Expr) -> bool {
    match e {
        Expr::IsNull(_) | Expr::IsNotNull(_) => true,
        Expr::Nested(inner) => only_null_tests(inner),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And | BinaryOperator::Or,
            right,
        } => only_null_tests(left) && only_null_tests(right),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use hop_artifact::migration::split_statements;

    use super::*;

    fn one(sql: &str, backend: Backend) -> Statement {
        split_statements(sql, backend).unwrap().remove(0)
    }

    #[test]
    fn reads_which_table_a_statement_creates_and_changes() {
        for backend in [Backend::Postgresql, Backend::Mariadb, Backend::Sqlite] {
            let all = split_statements(
                "CREATE TABLE audit (id bigint, actor text);\n\
                 CREATE INDEX audit_actor ON audit (actor);\n\
                 UPDATE events SET n = 0;",
                backend,
            )
            .unwrap();
            let created = created_tables(&all, backend);
            assert_eq!(created.len(), 1, "{backend}");
            assert!(created.contains("audit"));
            assert_eq!(changed_table(&all[1], backend).as_deref(), Some("audit"));
            assert_eq!(changed_table(&all[2], backend).as_deref(), Some("events"));
        }
        let pg = Backend::Postgresql;
        assert_eq!(
            changed_table(&one("ALTER TABLE public.Events ADD COLUMN x int", pg), pg).as_deref(),
            Some("events")
        );
    }

    #[test]
    fn tells_a_whole_table_update_from_one_by_value() {
        let pg = Backend::Postgresql;
        let maria = Backend::Mariadb;
        assert!(updates_whole_table(&one("UPDATE events SET n = 0", pg), pg));
        assert!(updates_whole_table(
            &one("UPDATE events SET level = 'info' WHERE level IS NULL", pg),
            pg
        ));
        assert!(!updates_whole_table(
            &one("UPDATE settings SET value = 'x' WHERE key = 'y'", pg),
            pg
        ));
        assert!(!updates_whole_table(
            &one(
                "UPDATE events SET level = 'info' WHERE level IS NULL LIMIT 1000",
                maria
            ),
            maria
        ));
        assert!(!updates_whole_table(
            &one("INSERT INTO t VALUES (1)", pg),
            pg
        ));
    }

    #[test]
    fn finds_a_check_on_an_added_column() {
        let pg = Backend::Postgresql;
        let check = |sql| adds_column_with_check(&one(sql, pg), pg).is_some();
        assert!(check("ALTER TABLE events ADD COLUMN n int CHECK (n > 0)"));
        assert!(check(
            "ALTER TABLE events ADD n int CONSTRAINT positive CHECK (n > 0)"
        ));
        assert!(!check("ALTER TABLE events ADD COLUMN n int"));
        assert!(!check(
            "ALTER TABLE events ADD CONSTRAINT c CHECK (n > 0) NOT VALID"
        ));
    }
}
