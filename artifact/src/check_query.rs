//! What a vendor check's query may be: one `SELECT` that only reads,
//! judged on the SQL parser's tree for each database the package
//! supports. The builder refuses anything else, and the installer asks
//! again before it runs a query, so a package made another way is held to
//! the same rule.
//!
//! A read-only transaction already stops writes to tables; what it does
//! not stop is refused here by name: sessions of their own (`dblink`),
//! signals to other sessions (`pg_terminate_backend`), locks, sequence
//! moves, the server's files, settings, notifications, and functions that
//! run SQL text the parser cannot see (`query_to_xml`). Row locks (`FOR
//! UPDATE`) and `SELECT … INTO` are refused too.
//!
//! ```
//! use hop_artifact::check_query::check;
//! use hop_artifact::migration::Backend;
//! assert!(check("SELECT email FROM users GROUP BY email HAVING COUNT(*) > 1", Backend::Postgresql).is_ok());
//! assert!(check("SELECT pg_terminate_backend(pid) FROM pg_stat_activity", Backend::Postgresql).is_err());
//! ```

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, ObjectNamePart, SetExpr, Statement, visit_expressions, visit_statements,
};
use sqlparser::dialect::{Dialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

use crate::migration::Backend;

/// Functions a check may not call, whole names (lowercase).
const REFUSED: [&str; 31] = [
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_signal_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_switch_wal",
    "pg_promote",
    "pg_create_restore_point",
    "pg_backup_start",
    "pg_backup_stop",
    "pg_start_backup",
    "pg_stop_backup",
    "pg_stat_file",
    "pg_file_write",
    "pg_notify",
    "pg_logical_emit_message",
    "pg_replication_slot_advance",
    "pg_drop_replication_slot",
    "set_config",
    "nextval",
    "setval",
    "lastval",
    "query_to_xml",
    "query_to_xmlschema",
    "query_to_xml_and_xmlschema",
    "cursor_to_xml",
    "get_lock",
    "release_lock",
    "release_all_locks",
    "load_file",
    "load_extension",
];

/// Families of functions a check may not call, by name prefix.
const REFUSED_PREFIXES: [&str; 9] = [
    "dblink",
    "pg_advisory",
    "pg_try_advisory",
    "lo_",
    "pg_read_",
    "pg_ls_",
    "pg_logical_slot_",
    "pg_create_",
    "sys_e", // lib_mysqludf_sys: sys_exec, sys_eval
];

fn dialect(backend: Backend) -> Box<dyn Dialect> {
    match backend {
        Backend::Postgresql => Box::new(PostgreSqlDialect {}),
        Backend::Mariadb => Box::new(MySqlDialect {}),
        Backend::Sqlite => Box::new(SQLiteDialect {}),
    }
}

/// Whether `sql` is one query that only reads, on `backend`; why not.
pub fn check(sql: &str, backend: Backend) -> Result<(), String> {
    let statements = Parser::parse_sql(dialect(backend).as_ref(), sql)
        .map_err(|e| format!("the query cannot be parsed ({e}); write one plain SELECT"))?;
    let [statement] = statements.as_slice() else {
        return Err(format!(
            "give exactly one query (found {} statements)",
            statements.len()
        ));
    };
    let Statement::Query(query) = statement else {
        return Err("a check's query must be a SELECT".into());
    };
    if !query.locks.is_empty() {
        return Err("a check's query only reads; it locks rows (FOR UPDATE/SHARE)".into());
    }
    if let ControlFlow::Break(why) = visit_statements(statement, |s| match s {
        Statement::Query(q) => reads_only(&q.body),
        _ => ControlFlow::Break(format!(
            "a check's query only reads; it holds a {} statement, which changes rows",
            first_word(&s.to_string())
        )),
    }) {
        return Err(why);
    }
    if let ControlFlow::Break(why) = visit_expressions(statement, |e| match e {
        Expr::Function(f) => refused_call(&f.name.0),
        _ => ControlFlow::Continue(()),
    }) {
        return Err(why);
    }
    Ok(())
}

/// A query body that writes (`WITH d AS (DELETE …)`, `SELECT … INTO`).
fn reads_only(body: &SetExpr) -> ControlFlow<String> {
    match body {
        SetExpr::Select(s) if s.into.is_some() => {
            ControlFlow::Break("a check's query only reads; it says SELECT … INTO".into())
        }
        SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
            ControlFlow::Break("a check's query only reads; it changes rows".into())
        }
        SetExpr::SetOperation { left, right, .. } => {
            reads_only(left)?;
            reads_only(right)
        }
        _ => ControlFlow::Continue(()),
    }
}

fn refused_call(parts: &[ObjectNamePart]) -> ControlFlow<String> {
    let Some(ObjectNamePart::Identifier(last)) = parts.last() else {
        return ControlFlow::Continue(());
    };
    let name = last.value.to_lowercase();
    if REFUSED.contains(&name.as_str()) || REFUSED_PREFIXES.iter().any(|p| name.starts_with(p)) {
        return ControlFlow::Break(format!(
            "a check's query only reads; it calls {name}(), which acts outside the query \
             (other sessions, locks, files, settings or SQL the check cannot vet)"
        ));
    }
    ControlFlow::Continue(())
}

fn first_word(text: &str) -> String {
    text.split_whitespace().next().unwrap_or("").to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PG: Backend = Backend::Postgresql;
    const MARIA: Backend = Backend::Mariadb;

    #[test]
    fn plain_reading_queries_pass() {
        for sql in [
            "SELECT email, COUNT(*) FROM users GROUP BY email HAVING COUNT(*) > 1",
            "WITH d AS (SELECT 1 AS x) SELECT * FROM d",
            "SELECT 'DELETE' FROM t",
            "SELECT name FROM a UNION SELECT name FROM b",
            "SELECT lower(name), now() FROM t WHERE id IN (SELECT id FROM u)",
        ] {
            assert!(check(sql, PG).is_ok(), "{sql}: {:?}", check(sql, PG));
            assert!(check(sql, MARIA).is_ok(), "{sql}: {:?}", check(sql, MARIA));
        }
    }

    #[test]
    fn what_escapes_a_read_only_transaction_is_refused() {
        let cases: [(&str, Backend, &str); 12] = [
            (
                "SELECT 1; COMMIT; DELETE FROM users",
                PG,
                "exactly one query",
            ),
            ("DELETE FROM users", PG, "must be a SELECT"),
            (
                "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
                PG,
                "changes rows",
            ),
            ("SELECT * INTO copy FROM t", PG, "SELECT … INTO"),
            ("SELECT * FROM t FOR UPDATE", PG, "locks rows"),
            (
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity",
                PG,
                "pg_terminate_backend()",
            ),
            (
                "SELECT dblink_exec('dbname=live', 'DELETE FROM users')",
                PG,
                "dblink_exec()",
            ),
            (
                "SELECT * FROM t WHERE x = (SELECT pg_catalog.pg_advisory_lock(1))",
                PG,
                "pg_advisory_lock()",
            ),
            (
                "SELECT query_to_xml('select 1', true, true, '')",
                PG,
                "query_to_xml()",
            ),
            ("SELECT nextval('s')", PG, "nextval()"),
            ("SELECT GET_LOCK('x', 10)", MARIA, "get_lock()"),
            ("SELECT LOAD_FILE('/etc/shadow')", MARIA, "load_file()"),
        ];
        for (sql, backend, why) in cases {
            let err = check(sql, backend).expect_err(sql);
            assert!(err.contains(why), "{sql}: {err}");
        }
    }
}
