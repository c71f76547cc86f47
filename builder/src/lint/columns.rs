//! What the history so far declares about each column's type (PostgreSQL),
//! read from the earlier migrations with sqlparser: what tells a type
//! change PostgreSQL does in place from one that rewrites the table.
//! Widening a `varchar(n)` or turning it into `text` is binary-coercible:
//! no rewrite, no scan (squawk's changing-column-type flags it all the
//! same; hop lets these through).

use std::collections::HashMap;

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, CharacterLength, DataType, ObjectName, Statement,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

/// Each known column's declared type, by `(table, column)`, lower-cased.
#[derive(Debug, Default)]
pub struct Columns(HashMap<(String, String), DataType>);

fn table_name(name: &ObjectName) -> String {
    name.0
        .last()
        .map(|part| part.to_string().trim_matches('"').to_ascii_lowercase())
        .unwrap_or_default()
}

fn column_name(ident: &sqlparser::ast::Ident) -> String {
    ident.value.to_ascii_lowercase()
}

/// A varchar's length (`None`: unlimited), for the types that are one.
fn varchar_length(t: &DataType) -> Option<Option<u64>> {
    let length = |l: &Option<CharacterLength>| match l {
        Some(CharacterLength::IntegerLength { length, .. }) => Some(*length),
        _ => None,
    };
    match t {
        DataType::Varchar(l) | DataType::CharacterVarying(l) | DataType::CharVarying(l) => {
            Some(length(l))
        }
        DataType::Text => Some(None),
        _ => None,
    }
}

impl Columns {
    /// Learns the columns a migration declares, renames and drops (on
    /// statements it cannot parse it learns nothing: it then knows less,
    /// and lets less through).
    pub fn learn(&mut self, sql: &str) {
        let Ok(statements) = Parser::parse_sql(&PostgreSqlDialect {}, sql) else {
            return;
        };
        for statement in statements {
            match statement {
                Statement::CreateTable(t) => {
                    let table = table_name(&t.name);
                    for c in t.columns {
                        self.0
                            .insert((table.clone(), column_name(&c.name)), c.data_type);
                    }
                }
                Statement::AlterTable(alter) => {
                    let table = table_name(&alter.name);
                    for op in alter.operations {
                        self.learn_alter(&table, op);
                    }
                }
                _ => {}
            }
        }
    }

    fn learn_alter(&mut self, table: &str, op: AlterTableOperation) {
        let key = |c: &sqlparser::ast::Ident| (table.to_owned(), column_name(c));
        match op {
            AlterTableOperation::AddColumn { column_def, .. } => {
                self.0.insert(key(&column_def.name), column_def.data_type);
            }
            AlterTableOperation::AlterColumn {
                column_name,
                op: AlterColumnOperation::SetDataType { data_type, .. },
            } => {
                self.0.insert(key(&column_name), data_type);
            }
            AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } => {
                if let Some(t) = self.0.remove(&key(&old_column_name)) {
                    self.0.insert(key(&new_column_name), t);
                }
            }
            AlterTableOperation::DropColumn { column_names, .. } => {
                for c in &column_names {
                    self.0.remove(&key(c));
                }
            }
            _ => {}
        }
    }

    /// Whether every type change in `sql` (one statement) only widens a
    /// varchar the history declared: no rewrite, no scan. `false` when the
    /// statement changes nothing's type or anything else.
    pub fn only_widens(&self, sql: &str) -> bool {
        let Ok(statements) = Parser::parse_sql(&PostgreSqlDialect {}, sql) else {
            return false;
        };
        let [Statement::AlterTable(alter)] = statements.as_slice() else {
            return false;
        };
        let table = table_name(&alter.name);
        !alter.operations.is_empty()
            && alter.operations.iter().all(|op| match op {
                AlterTableOperation::AlterColumn {
                    column_name,
                    op:
                        AlterColumnOperation::SetDataType {
                            data_type, using, ..
                        },
                } => {
                    let old = self.0.get(&(table.clone(), self::column_name(column_name)));
                    using.is_none() && old.is_some_and(|old| widens(old, data_type))
                }
                _ => false,
            })
    }
}

/// `old` → `new` keeps every value's bytes: a varchar to a longer or
/// unlimited varchar, or to text.
fn widens(old: &DataType, new: &DataType) -> bool {
    match (varchar_length(old), varchar_length(new)) {
        (Some(_), Some(None)) => true,
        (Some(Some(old)), Some(Some(new))) => new >= old,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_a_widening_from_a_rewrite() {
        let mut c = Columns::default();
        c.learn(
            "CREATE TABLE events (id bigint, name varchar(50), code varchar(10), n int);\n\
             ALTER TABLE events ADD COLUMN note character varying(20);\n\
             ALTER TABLE events RENAME COLUMN code TO kind;",
        );
        assert!(c.only_widens("ALTER TABLE events ALTER COLUMN name TYPE varchar(200)"));
        assert!(c.only_widens("ALTER TABLE events ALTER COLUMN name TYPE text"));
        assert!(c.only_widens("ALTER TABLE events ALTER COLUMN note SET DATA TYPE varchar"));
        assert!(c.only_widens("ALTER TABLE public.events ALTER COLUMN kind TYPE varchar(10)"));
        // Narrowing, another type, a USING, an unknown column: a rewrite or a scan.
        assert!(!c.only_widens("ALTER TABLE events ALTER COLUMN name TYPE varchar(20)"));
        assert!(!c.only_widens("ALTER TABLE events ALTER COLUMN n TYPE bigint"));
        assert!(!c.only_widens("ALTER TABLE events ALTER COLUMN n TYPE text"));
        assert!(!c.only_widens("ALTER TABLE events ALTER COLUMN name TYPE text USING upper(name)"));
        assert!(!c.only_widens("ALTER TABLE events ALTER COLUMN code TYPE text"));
        assert!(!c.only_widens("ALTER TABLE other ALTER COLUMN name TYPE text"));
        assert!(!c.only_widens(
            "ALTER TABLE events ALTER COLUMN name TYPE text, ALTER COLUMN n TYPE bigint"
        ));
    }
}
