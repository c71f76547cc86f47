//! MariaDB through the `mysql` crate.

use std::time::Duration;

use mysql::prelude::Queryable;
use mysql::{Conn, Opts, Row};

use super::{Connection, INSERT_COLUMNS};
use crate::compat::{ServerFacts, leading_version};
use crate::error::MigrateError;
use crate::history::{HistoryRow, SELECT_SQL, parse_phase};
use crate::url::DatabaseUrl;

pub(crate) struct Maria {
    conn: Conn,
    /// GET_LOCK names are server-wide: one per database.
    lock_name: String,
}

fn message(e: &mysql::Error) -> String {
    match e {
        mysql::Error::MySqlError(m) => format!("{} (error {})", m.message, m.code),
        other => other.to_string(),
    }
}

impl Maria {
    pub(crate) fn connect(url: &DatabaseUrl) -> Result<Self, MigrateError> {
        let unreachable = |reason: String| MigrateError::Unreachable {
            url: url.redacted(),
            reason,
        };
        let text = url.secret_url();
        let text = match text.strip_prefix("mariadb://") {
            Some(rest) => format!("mysql://{rest}"),
            None => text.to_owned(),
        };
        let opts = Opts::from_url(&text).map_err(|e| unreachable(e.to_string()))?;
        let conn = Conn::new(opts).map_err(|e| unreachable(message(&e)))?;
        Ok(Self {
            conn,
            lock_name: format!("hop_schema_history:{}", url.database()),
        })
    }

    fn query_row(&mut self, doing: &str, sql: &str) -> Result<Row, MigrateError> {
        self.conn
            .query_first::<Row, _>(sql)
            .map_err(|e| MigrateError::db(doing, message(&e)))?
            .ok_or_else(|| MigrateError::db(doing, "no row"))
    }
}

/// A row's values as text (NULL as `None`).
fn row_text(row: Row) -> Vec<Option<String>> {
    row.unwrap()
        .into_iter()
        .map(|v| match v {
            mysql::Value::NULL => None,
            mysql::Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
            mysql::Value::Int(i) => Some(i.to_string()),
            mysql::Value::UInt(u) => Some(u.to_string()),
            mysql::Value::Float(f) => Some(f.to_string()),
            mysql::Value::Double(d) => Some(d.to_string()),
            other => Some(other.as_sql(true).trim_matches('\'').to_owned()),
        })
        .collect()
}

impl Connection for Maria {
    fn facts(&mut self) -> Result<ServerFacts, MigrateError> {
        let row = self.query_row(
            "reading the server version",
            "SELECT VERSION(), @@default_storage_engine",
        )?;
        let version_text: String = row.get(0).unwrap_or_default();
        let engine: Option<String> = row.get(1);
        let schema = self.query_row(
            "reading the database's character set",
            "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA \
             WHERE SCHEMA_NAME = DATABASE()",
        )?;
        Ok(ServerFacts {
            version: leading_version(&version_text),
            version_text,
            default_engine: engine,
            charset: schema.get(0),
            collation: schema.get(1),
        })
    }

    fn set_lock_timeout(&mut self, timeout: Duration) -> Result<(), MigrateError> {
        let secs = timeout.as_secs().max(1);
        self.conn
            .query_drop(format!(
                "SET SESSION lock_wait_timeout = {secs}, SESSION innodb_lock_wait_timeout = {secs}"
            ))
            .map_err(|e| MigrateError::db("setting lock_wait_timeout", message(&e)))
    }

    fn try_lock(&mut self) -> Result<bool, MigrateError> {
        let got: Option<Option<i64>> = self
            .conn
            .exec_first("SELECT GET_LOCK(?, 0)", (self.lock_name.as_str(),))
            .map_err(|e| MigrateError::db("taking the migration lock", message(&e)))?;
        Ok(got.flatten() == Some(1))
    }

    fn unlock(&mut self) -> Result<(), MigrateError> {
        self.conn
            .exec_drop("SELECT RELEASE_LOCK(?)", (self.lock_name.as_str(),))
            .map_err(|e| MigrateError::db("releasing the migration lock", message(&e)))
    }

    fn execute(&mut self, sql: &str) -> Result<(), String> {
        self.conn.query_drop(sql).map_err(|e| message(&e))
    }

    fn execute_count(&mut self, sql: &str) -> Result<u64, String> {
        self.conn.query_drop(sql).map_err(|e| message(&e))?;
        Ok(self.conn.affected_rows())
    }

    fn execute_changes(&mut self, sql: &str) -> Result<u64, String> {
        self.execute_count(sql)
    }

    fn query_text(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
        let rows: Vec<Row> = self.conn.query(sql).map_err(|e| message(&e))?;
        Ok(rows.into_iter().map(row_text).collect())
    }

    fn query_checked(
        &mut self,
        sql: &str,
        timeout: Duration,
    ) -> Result<Vec<Vec<Option<String>>>, String> {
        let seconds = timeout.as_secs_f64().max(0.001);
        self.execute(&format!("SET SESSION max_statement_time = {seconds:.3}"))?;
        self.execute("START TRANSACTION READ ONLY")?;
        // A prepared statement is one statement: a second is refused.
        let rows: Result<Vec<Row>, String> = self.conn.exec(sql, ()).map_err(|e| message(&e));
        let ended = self.execute("ROLLBACK");
        let reset = self.execute("SET SESSION max_statement_time = 0");
        let rows = rows?;
        ended?;
        reset?;
        Ok(rows.into_iter().map(row_text).collect())
    }

    fn dialect(&self) -> &'static dyn crate::dialect::Dialect {
        crate::dialect::dialect(hop_artifact::migration::Backend::Mariadb)
    }

    fn history_exists(&mut self) -> Result<bool, MigrateError> {
        let n: Option<i64> = self
            .conn
            .query_first(
                "SELECT COUNT(*) FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'hop_schema_history'",
            )
            .map_err(|e| MigrateError::db("looking for the history table", message(&e)))?;
        Ok(n.unwrap_or(0) > 0)
    }

    fn size(&mut self) -> Result<u64, MigrateError> {
        let n: Option<Option<u64>> = self
            .conn
            .query_first(
                "SELECT CAST(COALESCE(SUM(data_length + index_length), 0) AS UNSIGNED) \
                 FROM information_schema.TABLES WHERE table_schema = DATABASE()",
            )
            .map_err(|e| MigrateError::db("reading the database size", message(&e)))?;
        Ok(n.flatten().unwrap_or(0))
    }

    fn history(&mut self) -> Result<Vec<HistoryRow>, MigrateError> {
        let rows: Vec<Row> = self
            .conn
            .query(SELECT_SQL)
            .map_err(|e| MigrateError::db("reading the migration history", message(&e)))?;
        Ok(rows
            .into_iter()
            .map(|r| HistoryRow {
                version: r.get::<u32, _>(0).unwrap_or(0),
                description: r.get(1).unwrap_or_default(),
                phase: parse_phase(&r.get::<String, _>(2).unwrap_or_default()),
                checksum: r.get(3).unwrap_or_default(),
                hop: r.get(4).unwrap_or_default(),
                applied_at: r.get(5).unwrap_or_default(),
                duration_ms: r.get(6).unwrap_or(0),
                success: r.get::<bool, _>(7).unwrap_or(false),
                batches: r.get(8).unwrap_or(0),
                rows_affected: r.get(9).unwrap_or(0),
                error: r.get::<Option<String>, _>(10).flatten(),
            })
            .collect())
    }

    fn write_history(&mut self, row: &HistoryRow) -> Result<(), String> {
        let values = (
            row.description.as_str(),
            row.phase.as_str(),
            row.checksum.as_str(),
            row.hop.as_str(),
            row.applied_at.as_str(),
            row.duration_ms,
            row.success,
            row.batches,
            row.rows_affected,
            row.error.as_deref(),
            row.version,
        );
        self.conn
            .exec_drop(
                "UPDATE hop_schema_history SET description = ?, phase = ?, checksum = ?, hop = ?, \
                 applied_at = ?, duration_ms = ?, success = ?, batches = ?, rows_affected = ?, \
                 error = ? WHERE version = ?",
                values,
            )
            .map_err(|e| message(&e))?;
        if self.conn.affected_rows() == 0 {
            // MariaDB counts rows *changed*: an UPDATE that rewrites the same
            // values reports 0, so insert only when the row is truly absent.
            let exists: Option<i64> = self
                .conn
                .exec_first(
                    "SELECT COUNT(*) FROM hop_schema_history WHERE version = ?",
                    (row.version,),
                )
                .map_err(|e| message(&e))?;
            if exists.unwrap_or(0) == 0 {
                self.conn
                    .exec_drop(
                        format!(
                            "INSERT INTO hop_schema_history ({INSERT_COLUMNS}) \
                             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                        ),
                        mysql::Params::Positional(vec![
                            row.version.into(),
                            row.description.as_str().into(),
                            row.phase.as_str().into(),
                            row.checksum.as_str().into(),
                            row.hop.as_str().into(),
                            row.applied_at.as_str().into(),
                            row.duration_ms.into(),
                            row.success.into(),
                            row.batches.into(),
                            row.rows_affected.into(),
                            row.error.as_deref().into(),
                        ]),
                    )
                    .map_err(|e| message(&e))?;
            }
        }
        Ok(())
    }
}
