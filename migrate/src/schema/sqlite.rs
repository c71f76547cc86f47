//! SQLite's schema from `sqlite_master` and its pragmas: tables, columns
//! (declared type, NOT NULL, default, primary key), indexes (automatic
//! ones included), foreign keys, views and triggers. CHECK constraints
//! live only in a table's SQL text and are not compared.

use super::{Rows, Schema, col, column, foreign_key};
use crate::connection::Connection;

const TABLES: &str = "m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";

pub(super) fn read(conn: &mut dyn Connection) -> Result<Schema, String> {
    let mut q = |sql: String| -> Result<Rows, String> { conn.query_text(&sql) };
    let mut s = Schema::default();
    for r in q(format!("SELECT m.name FROM sqlite_master m WHERE {TABLES}"))? {
        s.add("table", col(&r, 0), "");
    }
    for r in q(format!(
        "SELECT m.name, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk \
         FROM sqlite_master m, pragma_table_info(m.name) p WHERE {TABLES}"
    ))? {
        let mut text = column(col(&r, 2), col(&r, 3) == "1", r[4].as_deref());
        if col(&r, 5) != "0" {
            text += &format!(" PRIMARY KEY {}", col(&r, 5));
        }
        s.add("column", &format!("{}.{}", col(&r, 0), col(&r, 1)), &text);
    }
    for r in q(format!(
        "SELECT m.name, i.name, i.\"unique\", i.origin, \
                (SELECT group_concat(c.name, ', ') FROM pragma_index_info(i.name) c) \
         FROM sqlite_master m, pragma_index_list(m.name) i WHERE {TABLES}"
    ))? {
        let unique = if col(&r, 2) == "1" { "UNIQUE " } else { "" };
        s.add(
            "index",
            &format!("{}.{}", col(&r, 0), col(&r, 1)),
            &format!("{unique}({}) origin {}", col(&r, 4), col(&r, 3)),
        );
    }
    for r in q(format!(
        "SELECT m.name, f.id, f.\"table\", group_concat(f.\"from\", ', '), group_concat(f.\"to\", ', '), \
                f.on_update, f.on_delete \
         FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE {TABLES} GROUP BY m.name, f.id"
    ))? {
        s.add(
            "constraint",
            &format!("{}.fk{}", col(&r, 0), col(&r, 1)),
            &foreign_key(
                col(&r, 3),
                (col(&r, 2), col(&r, 4)),
                (col(&r, 5), col(&r, 6)),
            ),
        );
    }
    for r in
        q("SELECT type, name, sql FROM sqlite_master WHERE type IN ('view', 'trigger')".into())?
    {
        s.add(col(&r, 0), col(&r, 1), col(&r, 2));
    }
    Ok(s)
}
