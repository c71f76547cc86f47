//! MariaDB's schema from `information_schema`, for the connection's
//! database: tables, columns (full type, nullability, default, extra),
//! indexes, foreign keys, checks, views and sequences.

use super::{Rows, Schema, col, column, foreign_key};
use crate::connection::Connection;

pub(super) fn read(conn: &mut dyn Connection) -> Result<Schema, String> {
    let mut q = |sql: &str| -> Result<Rows, String> { conn.query_text(sql) };
    let database = q("SELECT DATABASE()")?
        .first()
        .map(|r| col(r, 0).to_owned())
        .unwrap_or_default();
    let unqualified = |text: &str| text.replace(&format!("`{database}`."), "");
    let mut s = Schema::default();
    for r in q(
        "SELECT table_name, table_type FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_type IN ('BASE TABLE', 'SEQUENCE')",
    )? {
        let kind = if col(&r, 1) == "SEQUENCE" {
            "sequence"
        } else {
            "table"
        };
        s.add(kind, col(&r, 0), "");
    }
    for r in q(
        "SELECT c.table_name, c.column_name, c.column_type, c.is_nullable, c.column_default, c.extra \
         FROM information_schema.columns c JOIN information_schema.tables t \
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = DATABASE() AND t.table_type = 'BASE TABLE'",
    )? {
        let mut text = column(col(&r, 2), col(&r, 3) == "NO", r[4].as_deref());
        if !col(&r, 5).is_empty() {
            text += " ";
            text += col(&r, 5);
        }
        s.add("column", &format!("{}.{}", col(&r, 0), col(&r, 1)), &text);
    }
    for r in q("SELECT table_name, index_name, non_unique, \
                GROUP_CONCAT(column_name ORDER BY seq_in_index SEPARATOR ', '), index_type \
         FROM information_schema.statistics WHERE table_schema = DATABASE() \
         GROUP BY table_name, index_name, non_unique, index_type")?
    {
        let unique = if col(&r, 2) == "0" { "UNIQUE " } else { "" };
        s.add(
            "index",
            &format!("{}.{}", col(&r, 0), col(&r, 1)),
            &format!("{unique}{} ({})", col(&r, 4), col(&r, 3)),
        );
    }
    for r in q("SELECT k.table_name, k.constraint_name, \
                GROUP_CONCAT(k.column_name ORDER BY k.ordinal_position SEPARATOR ', '), \
                k.referenced_table_name, \
                GROUP_CONCAT(k.referenced_column_name ORDER BY k.ordinal_position SEPARATOR ', '), \
                r.update_rule, r.delete_rule \
         FROM information_schema.key_column_usage k \
         JOIN information_schema.referential_constraints r \
           ON r.constraint_schema = k.table_schema AND r.constraint_name = k.constraint_name \
          AND r.table_name = k.table_name \
         WHERE k.table_schema = DATABASE() AND k.referenced_table_name IS NOT NULL \
         GROUP BY k.table_name, k.constraint_name, k.referenced_table_name, r.update_rule, r.delete_rule")?
    {
        s.add(
            "constraint",
            &format!("{}.{}", col(&r, 0), col(&r, 1)),
            &foreign_key(
                col(&r, 2),
                (col(&r, 3), col(&r, 4)),
                (col(&r, 5), col(&r, 6)),
            ),
        );
    }
    for r in q(
        "SELECT table_name, constraint_name, check_clause FROM information_schema.check_constraints \
         WHERE constraint_schema = DATABASE()",
    )? {
        s.add(
            "constraint",
            &format!("{}.{}", col(&r, 0), col(&r, 1)),
            &format!("CHECK ({})", col(&r, 2)),
        );
    }
    for r in q(
        "SELECT table_name, view_definition FROM information_schema.views \
         WHERE table_schema = DATABASE()",
    )? {
        s.add("view", col(&r, 0), &unqualified(col(&r, 1)));
    }
    Ok(s)
}
