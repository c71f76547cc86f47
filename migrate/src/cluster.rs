//! The cluster's record in its shared database: which node runs which
//! version (`hop_cluster_nodes`). A node writes its own row when it
//! commits a hop; `status` on any node reads them all. Whether a hop's
//! contract is pending is not stored: the schema history says it (the
//! hop's online migrations applied, its post migrations not).

use hop_artifact::migration::Backend;
use serde::Serialize;

use crate::Migrator;
use crate::dialect::dialect;
use crate::error::MigrateError;

/// The table the cluster's nodes are recorded in.
pub const TABLE: &str = "hop_cluster_nodes";

/// One node as the database records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeRow {
    /// The node's name (host.yaml's `node`, else its host name).
    pub node: String,
    /// The version it runs.
    pub version: String,
    /// The hop that put it there (`4.0.1→4.1.1`), or what rolled it back.
    pub hop: String,
    /// When the row was written (RFC 3339).
    pub updated_at: String,
    /// Which machine (and root) wrote it: two nodes given one name are
    /// told apart by it. Absent in rows of older hops.
    pub machine: Option<String>,
}

/// Why `machine` may not record itself as `node`: another machine did.
pub fn name_taken(rows: &[NodeRow], node: &str, machine: &str) -> Option<String> {
    rows.iter()
        .find(|r| r.node == node && r.machine.as_deref().is_some_and(|m| m != machine))
        .map(|r| {
            format!(
                "the node name {node} is already recorded for another machine (which runs {}, \
                 since {}): two nodes with one name would share one record, and contract would \
                 miss one; give each node its own `node:` in host.yaml",
                r.version, r.updated_at
            )
        })
}

/// Whether `name` may name a node: letters, digits, `.`, `-` and `_`, at
/// most 100 characters (a host name fits).
pub fn valid_node_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

fn create_sql(backend: Backend) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {TABLE} (
            node VARCHAR(100) PRIMARY KEY,
            version VARCHAR(100) NOT NULL,
            hop VARCHAR(200) NOT NULL,
            updated_at VARCHAR(40) NOT NULL,
            machine VARCHAR(64)
        ){}",
        dialect(backend).table_options()
    )
}

/// Whether the table has the `machine` column (tables of older hops do not).
fn has_machine_sql(backend: Backend) -> String {
    dialect(backend).column_exists(TABLE, "machine")
}

fn exists_sql(backend: Backend) -> String {
    dialect(backend).table_exists(TABLE)
}

/// `text` as an SQL string literal. Every value written here is checked
/// first (node names, versions, hop labels), so this only guards.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl Migrator {
    /// Records that `node` (on `machine`) runs `version`, put there by
    /// `hop`; refused when another machine recorded that name.
    pub fn record_node(
        &mut self,
        node: &str,
        machine: &str,
        version: &str,
        hop: &str,
    ) -> Result<(), MigrateError> {
        if !valid_node_name(node) {
            return Err(MigrateError::db(
                "recording the cluster node",
                format!("{node:?} is not a node name (letters, digits, '.', '-', '_')"),
            ));
        }
        let backend = self.backend();
        let conn = self.connection();
        let doing = |e: String| MigrateError::db(format!("recording node {node} in {TABLE}"), e);
        conn.execute(&create_sql(backend)).map_err(doing)?;
        if conn
            .query_text(&has_machine_sql(backend))
            .map_err(doing)?
            .is_empty()
        {
            conn.execute(&format!(
                "ALTER TABLE {TABLE} ADD COLUMN machine VARCHAR(64)"
            ))
            .map_err(doing)?;
        }
        if let Some(why) = name_taken(&self.nodes()?, node, machine) {
            return Err(MigrateError::db(
                format!("recording node {node} in {TABLE}"),
                why,
            ));
        }
        let conn = self.connection();
        conn.begin().map_err(doing)?;
        let write = conn
            .execute(&format!(
                "DELETE FROM {TABLE} WHERE node = {}",
                literal(node)
            ))
            .and_then(|()| {
                conn.execute(&format!(
                    "INSERT INTO {TABLE} (node, version, hop, updated_at, machine) \
                     VALUES ({}, {}, {}, {}, {})",
                    literal(node),
                    literal(version),
                    literal(hop),
                    literal(&crate::history::now_text()),
                    literal(machine)
                ))
            });
        match write {
            Ok(()) => conn.commit().map_err(doing),
            Err(e) => {
                let _ = conn.rollback();
                Err(doing(e))
            }
        }
    }

    /// Every node the database records, by name; none when no node ever
    /// committed a hop rolling.
    pub fn nodes(&mut self) -> Result<Vec<NodeRow>, MigrateError> {
        let backend = self.backend();
        let conn = self.connection();
        let doing = |e: String| MigrateError::db(format!("reading {TABLE}"), e);
        if conn
            .query_text(&exists_sql(backend))
            .map_err(doing)?
            .is_empty()
        {
            return Ok(Vec::new());
        }
        let machine = if conn
            .query_text(&has_machine_sql(backend))
            .map_err(doing)?
            .is_empty()
        {
            "NULL"
        } else {
            "machine"
        };
        let rows = conn
            .query_text(&format!(
                "SELECT node, version, hop, updated_at, {machine} FROM {TABLE} ORDER BY node"
            ))
            .map_err(doing)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let mut cells = r.into_iter();
                let mut next = || cells.next().flatten();
                NodeRow {
                    node: next().unwrap_or_default(),
                    version: next().unwrap_or_default(),
                    hop: next().unwrap_or_default(),
                    updated_at: next().unwrap_or_default(),
                    machine: next(),
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names_are_host_names() {
        assert!(valid_node_name("manager-1.example.com"));
        assert!(valid_node_name("node_2"));
        assert!(!valid_node_name(""));
        assert!(!valid_node_name("a'b"));
        assert!(!valid_node_name("a b"));
        assert!(!valid_node_name(&"n".repeat(101)));
    }

    #[test]
    fn nodes_are_recorded_and_replaced_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let url = crate::DatabaseUrl::parse("sqlite:///db.sqlite", dir.path()).unwrap();
        let options = crate::Options {
            create_sqlite: true,
            ..crate::Options::default()
        };
        let mut m = Migrator::connect(&url, options).unwrap();
        assert!(m.nodes().unwrap().is_empty());
        m.record_node("n1", "m1", "4.0.1", "4.0.1→4.1.1 rolled back")
            .unwrap();
        m.record_node("n2", "m2", "4.1.1", "4.0.1→4.1.1").unwrap();
        m.record_node("n1", "m1", "4.1.1", "4.0.1→4.1.1").unwrap();
        // Another machine calling itself n1 is refused, and n1's row stays.
        let taken = m
            .record_node("n1", "m3", "4.0.1", "4.0.1→4.1.1")
            .unwrap_err()
            .to_string();
        assert!(
            taken.contains("already recorded for another machine"),
            "{taken}"
        );
        let nodes: Vec<(String, String)> = m
            .nodes()
            .unwrap()
            .into_iter()
            .map(|n| (n.node, n.version))
            .collect();
        assert_eq!(
            nodes,
            [("n1".into(), "4.1.1".into()), ("n2".into(), "4.1.1".into())]
        );
        assert!(m.record_node("bad name", "m1", "4.1.1", "x").is_err());
        // hop's own table is not part of the product's schema.
        let schema = m.schema().unwrap();
        assert!(
            schema.objects.keys().all(|k| !k.contains(TABLE)),
            "{schema:?}"
        );
    }
}
