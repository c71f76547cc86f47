//! PostgreSQL through the `postgres` crate.

use std::str::FromStr;
use std::time::Duration;

use postgres::{Client, NoTls};

use super::{Connection, INSERT_COLUMNS};
use crate::compat::{ServerFacts, leading_version};
use crate::error::MigrateError;
use crate::history::{HistoryRow, SELECT_SQL, parse_phase};
use crate::url::DatabaseUrl;

/// The advisory lock key: "hop_migr" as a big-endian integer.
const LOCK_KEY: i64 = 0x686f_705f_6d69_6772;

pub(crate) struct Pg {
    client: Client,
}

fn message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut text = db.message().to_owned();
            if let Some(detail) = db.detail() {
                text += &format!(" ({detail})");
            }
            text
        }
        None => e.to_string(),
    }
}

impl Pg {
    pub(crate) fn connect(url: &DatabaseUrl) -> Result<Self, MigrateError> {
        let unreachable = |reason: String| MigrateError::Unreachable {
            url: url.redacted(),
            reason,
        };
        let config =
            postgres::Config::from_str(url.secret_url()).map_err(|e| unreachable(e.to_string()))?;
        let client = config
            .connect(NoTls)
            .map_err(|e| unreachable(message(&e)))?;
        Ok(Self { client })
    }
}

impl Connection for Pg {
    fn facts(&mut self) -> Result<ServerFacts, MigrateError> {
        let row = self
            .client
            .query_one("SHOW server_version", &[])
            .map_err(|e| MigrateError::db("reading the server version", message(&e)))?;
        let text: String = row.get(0);
        Ok(ServerFacts {
            version: leading_version(&text),
            version_text: text,
            ..Default::default()
        })
    }

    fn set_lock_timeout(&mut self, timeout: Duration) -> Result<(), MigrateError> {
        self.client
            .batch_execute(&format!(
                "SET lock_timeout = '{}ms'",
                timeout.as_millis().max(1)
            ))
            .map_err(|e| MigrateError::db("setting lock_timeout", message(&e)))
    }

    fn try_lock(&mut self) -> Result<bool, MigrateError> {
        self.client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY])
            .map(|r| r.get(0))
            .map_err(|e| MigrateError::db("taking the migration lock", message(&e)))
    }

    fn unlock(&mut self) -> Result<(), MigrateError> {
        self.client
            .query_one("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY])
            .map(drop)
            .map_err(|e| MigrateError::db("releasing the migration lock", message(&e)))
    }

    fn execute(&mut self, sql: &str) -> Result<(), String> {
        self.client.batch_execute(sql).map_err(|e| message(&e))
    }

    fn execute_count(&mut self, sql: &str) -> Result<u64, String> {
        self.client.execute(sql, &[]).map_err(|e| message(&e))
    }

    fn execute_changes(&mut self, sql: &str) -> Result<u64, String> {
        // The simple protocol, as `execute`: any statement, and each
        // one's command tag says how many rows it touched.
        let messages = self.client.simple_query(sql).map_err(|e| message(&e))?;
        Ok(messages
            .iter()
            .map(|m| match m {
                postgres::SimpleQueryMessage::CommandComplete(n) => *n,
                _ => 0,
            })
            .sum())
    }

    fn query_text(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
        let messages = self.client.simple_query(sql).map_err(|e| message(&e))?;
        Ok(messages
            .iter()
            .filter_map(|m| match m {
                postgres::SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_owned))
                        .collect(),
                ),
                _ => None,
            })
            .collect())
    }

    fn query_checked(
        &mut self,
        sql: &str,
        timeout: Duration,
    ) -> Result<Vec<Vec<Option<String>>>, String> {
        let ms = timeout.as_millis().max(1);
        self.execute(&format!(
            "BEGIN READ ONLY; SET LOCAL statement_timeout = {ms}; SET LOCAL lock_timeout = {ms}; \
             SET LOCAL idle_in_transaction_session_timeout = {ms}"
        ))?;
        // Parsed alone first: the extended protocol refuses a second
        // statement, so the text run below is that one statement.
        let rows = match self.client.prepare(sql) {
            Ok(_) => self.query_text(sql),
            Err(e) => Err(message(&e)),
        };
        let ended = self.execute("ROLLBACK");
        let rows = rows?;
        ended?;
        Ok(rows)
    }

    fn dialect(&self) -> &'static dyn crate::dialect::Dialect {
        crate::dialect::dialect(hop_artifact::migration::Backend::Postgresql)
    }

    fn history_exists(&mut self) -> Result<bool, MigrateError> {
        self.client
            .query_one("SELECT to_regclass('hop_schema_history') IS NOT NULL", &[])
            .map(|r| r.get(0))
            .map_err(|e| MigrateError::db("looking for the history table", message(&e)))
    }

    fn size(&mut self) -> Result<u64, MigrateError> {
        self.client
            .query_one("SELECT pg_database_size(current_database())", &[])
            .map(|r| r.get::<_, i64>(0) as u64)
            .map_err(|e| MigrateError::db("reading the database size", message(&e)))
    }

    fn history(&mut self) -> Result<Vec<HistoryRow>, MigrateError> {
        let rows = self
            .client
            .query(SELECT_SQL, &[])
            .map_err(|e| MigrateError::db("reading the migration history", message(&e)))?;
        Ok(rows
            .iter()
            .map(|r| HistoryRow {
                version: r.get::<_, i32>(0) as u32,
                description: r.get(1),
                phase: parse_phase(r.get(2)),
                checksum: r.get(3),
                hop: r.get(4),
                applied_at: r.get(5),
                duration_ms: r.get::<_, i64>(6) as u64,
                success: r.get(7),
                batches: r.get::<_, i64>(8) as u64,
                rows_affected: r.get::<_, i64>(9) as u64,
                error: r.get(10),
            })
            .collect())
    }

    fn write_history(&mut self, row: &HistoryRow) -> Result<(), String> {
        let version = row.version as i32;
        let duration = row.duration_ms as i64;
        let batches = row.batches as i64;
        let rows = row.rows_affected as i64;
        let phase = row.phase.as_str();
        let params: [&(dyn postgres::types::ToSql + Sync); 11] = [
            &version,
            &row.description,
            &phase,
            &row.checksum,
            &row.hop,
            &row.applied_at,
            &duration,
            &row.success,
            &batches,
            &rows,
            &row.error,
        ];
        let updated = self
            .client
            .execute(
                "UPDATE hop_schema_history SET description = $2, phase = $3, checksum = $4, hop = $5, \
                 applied_at = $6, duration_ms = $7, success = $8, batches = $9, rows_affected = $10, \
                 error = $11 WHERE version = $1",
                &params,
            )
            .map_err(|e| message(&e))?;
        if updated == 0 {
            self.client
                .execute(
                    &format!(
                        "INSERT INTO hop_schema_history ({INSERT_COLUMNS}) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                    ),
                    &params,
                )
                .map_err(|e| message(&e))?;
        }
        Ok(())
    }
}
