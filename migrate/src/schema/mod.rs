//! A database's schema, normalised so that two databases made by the same
//! migrations describe themselves the same way, and compared object by
//! object.
//!
//! A [`Schema`] is a flat, sorted map from an object (`table events`,
//! `column events.message`, `index events.events_deployment_idx`,
//! `constraint events.events_pkey`, `view v`, `sequence s`, `type t`) to
//! its description (`text NOT NULL DEFAULT 'x'`, an index definition, …).
//! `hop-build` records the schema a hop expects before and after it; the
//! installer reads the live one to adopt a database made by another tool
//! and to find drift (a column a DBA changed by hand).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use hop_migrate::{DatabaseUrl, Migrator, Options, schema};
//! let url = DatabaseUrl::parse("sqlite:///var/lib/manager/db.sqlite", "/".as_ref())?;
//! let live = Migrator::connect(&url, Options::default())?.schema()?;
//! let expected: schema::Schema = serde_json::from_str(&std::fs::read_to_string("from.json")?)?;
//! for d in schema::compare(&expected, &live) {
//!     println!("{d}");
//! }
//! # Ok(()) }
//! ```

mod mariadb;
mod postgresql;
mod sqlite;

use std::collections::BTreeMap;
use std::fmt;

use hop_artifact::digest::Sha256Digest;
use hop_artifact::migration::Backend;
use serde::{Deserialize, Serialize};

use crate::connection::Connection;
use crate::error::MigrateError;

/// Tables migration tools keep for themselves: never part of a product's
/// schema (hop's own, golang-migrate's, Flyway's, Alembic's).
pub const TOOL_TABLES: [&str; 5] = [
    crate::history::TABLE,
    crate::cluster::TABLE,
    "schema_migrations",
    "flyway_schema_history",
    "alembic_version",
];

/// A normalised schema.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    /// Object (`kind name`) → description.
    pub objects: BTreeMap<String, String>,
}

impl Schema {
    /// Adds an object, its description with whitespace and case of
    /// keywords made uniform.
    pub fn add(&mut self, kind: &str, name: &str, description: &str) {
        self.objects
            .insert(format!("{kind} {name}"), normalise(description));
    }

    /// The digest of the canonical JSON form.
    pub fn digest(&self) -> Sha256Digest {
        Sha256Digest::of(self.to_json().as_bytes())
    }

    /// Canonical JSON (sorted keys, no spaces): what a package carries.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The product's tables (tool tables left out).
    pub fn tables(&self) -> impl Iterator<Item = &str> {
        self.objects.keys().filter_map(|k| k.strip_prefix("table "))
    }

    /// Drops every object of the tool tables.
    fn without_tool_tables(mut self) -> Self {
        self.objects.retain(|key, _| {
            let name = key.split_once(' ').map_or("", |(_, n)| n);
            let table = name.split('.').next().unwrap_or(name);
            !TOOL_TABLES.contains(&table)
        });
        self
    }
}

/// Collapses whitespace and trims, so formatting never makes a difference.
fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One way a live schema differs from the expected one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// `column events.message`.
    pub object: String,
    /// What the package expects; `None` for an object only the live
    /// database has.
    pub expected: Option<String>,
    /// What the live database has; `None` when it lacks the object.
    pub found: Option<String>,
}

impl Difference {
    /// A missing or different object (an extra one is only a warning: a
    /// DBA's index does not break the product).
    pub fn is_failure(&self) -> bool {
        self.expected.is_some()
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.expected, &self.found) {
            (Some(e), Some(x)) => write!(f, "{}: expected {e}, found {x}", self.object),
            (Some(e), None) => write!(f, "{}: expected {e}, found nothing", self.object),
            (None, Some(x)) => write!(f, "{}: not expected, found {x}", self.object),
            (None, None) => write!(f, "{}", self.object),
        }
    }
}

/// Every difference between `expected` and `live`, in object order.
pub fn compare(expected: &Schema, live: &Schema) -> Vec<Difference> {
    let mut out = Vec::new();
    for (object, want) in &expected.objects {
        match live.objects.get(object) {
            Some(have) if have == want => {}
            have => out.push(Difference {
                object: object.clone(),
                expected: Some(want.clone()),
                found: have.cloned(),
            }),
        }
    }
    for (object, have) in &live.objects {
        if !expected.objects.contains_key(object) {
            out.push(Difference {
                object: object.clone(),
                expected: None,
                found: Some(have.clone()),
            });
        }
    }
    out.sort_by(|a, b| a.object.cmp(&b.object));
    out
}

/// Reads the schema of the database `conn` is connected to.
pub(crate) fn read(conn: &mut dyn Connection, backend: Backend) -> Result<Schema, MigrateError> {
    let schema = match backend {
        Backend::Postgresql => postgresql::read(conn),
        Backend::Mariadb => mariadb::read(conn),
        Backend::Sqlite => sqlite::read(conn),
    }
    .map_err(|e| MigrateError::db("reading the schema", e))?;
    Ok(schema.without_tool_tables())
}

/// Rows of text from a catalog query; NULL as `None`.
pub(crate) type Rows = Vec<Vec<Option<String>>>;

/// The text of column `i`, empty for NULL.
fn col(row: &[Option<String>], i: usize) -> &str {
    row.get(i).and_then(|c| c.as_deref()).unwrap_or("")
}

/// `type NOT NULL DEFAULT x`, as every backend describes a column.
fn column(data_type: &str, not_null: bool, default: Option<&str>) -> String {
    let mut text = data_type.to_owned();
    text += if not_null { " NOT NULL" } else { " NULL" };
    if let Some(d) = default.filter(|d| !d.is_empty()) {
        text += " DEFAULT ";
        text += d;
    }
    text
}

/// A foreign key as MariaDB and SQLite describe it: its columns, the
/// referenced (table, columns), and the (update, delete) rules.
fn foreign_key(
    columns: &str,
    (table, referenced): (&str, &str),
    (update, delete): (&str, &str),
) -> String {
    format!(
        "FOREIGN KEY ({columns}) REFERENCES {table}({referenced}) ON UPDATE {update} ON DELETE {delete}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(objects: &[(&str, &str, &str)]) -> Schema {
        let mut s = Schema::default();
        for (kind, name, d) in objects {
            s.add(kind, name, d);
        }
        s
    }

    #[test]
    fn names_each_missing_different_and_extra_object() {
        let expected = schema(&[
            ("table", "blueprints", ""),
            ("column", "blueprints.name", "text NOT NULL"),
            ("column", "blueprints.id", "integer NOT NULL"),
        ]);
        let live = schema(&[
            ("table", "blueprints", ""),
            ("column", "blueprints.name", "character varying(64)   NULL"),
            (
                "index",
                "blueprints.by_name",
                "CREATE INDEX by_name ON blueprints (name)",
            ),
        ]);
        let diff: Vec<String> = compare(&expected, &live)
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(
            diff,
            [
                "column blueprints.id: expected integer NOT NULL, found nothing",
                "column blueprints.name: expected text NOT NULL, found character varying(64) NULL",
                "index blueprints.by_name: not expected, found CREATE INDEX by_name ON blueprints (name)",
            ]
        );
        assert_eq!(
            compare(&expected, &live)
                .iter()
                .filter(|d| d.is_failure())
                .count(),
            2
        );
        assert!(compare(&expected, &expected).is_empty());
    }

    #[test]
    fn tool_tables_are_not_the_products() {
        let s = schema(&[
            ("table", "schema_migrations", ""),
            ("column", "schema_migrations.version", "bigint NOT NULL"),
            ("table", "events", ""),
        ])
        .without_tool_tables();
        assert_eq!(s.tables().collect::<Vec<_>>(), ["events"]);
        assert_eq!(s.objects.len(), 1);
    }
}
