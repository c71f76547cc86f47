//! Applying one phase: each migration with its history row, in one
//! transaction where the database allows, batched post migrations batch by
//! batch with their progress. The offline phase on PostgreSQL and SQLite
//! runs whole in one transaction (as Flyway's `group` mode): its
//! migrations and their history rows commit together or not at all, so a
//! failure leaves nothing of the phase and needs no restore. MariaDB's DDL
//! commits implicitly; a migration that cannot run in a transaction
//! (`CONCURRENTLY`, `VACUUM`: `hop_artifact::migration::outside_transaction`)
//! puts the phase back to one transaction per migration.

use std::time::{Duration, Instant};

use hop_artifact::migration::{
    Backend, OfflineMode, Phase, Statement, major_of, outside_transaction,
};

use super::{Applied, Migrator, Observer, PhaseReport};
use crate::error::MigrateError;
use crate::history::{HistoryRow, create_table_sql, now_text};
use crate::script::Script;
use crate::status::status_of;
use crate::validate::validate;

impl Migrator {
    /// Applies the pending migrations of `phase`, in version order, holding
    /// the lock for the run. `hop` labels the history rows (`4.0.1→4.1.1`).
    pub fn apply(
        &mut self,
        scripts: &[Script],
        phase: Phase,
        hop: &str,
        observer: &mut dyn Observer,
    ) -> Result<PhaseReport, MigrateError> {
        let was_locked = self.locked;
        self.lock()?;
        let result = self.apply_locked(scripts, phase, hop, observer);
        if !was_locked {
            self.unlock()?;
        }
        result
    }

    fn apply_locked(
        &mut self,
        scripts: &[Script],
        phase: Phase,
        hop: &str,
        observer: &mut dyn Observer,
    ) -> Result<PhaseReport, MigrateError> {
        self.conn
            .execute(&create_table_sql(self.backend()))
            .map_err(|e| MigrateError::db("creating hop_schema_history", e))?;
        for t in &self.tool_tables {
            self.conn
                .execute(t.create_sql())
                .map_err(|e| MigrateError::db(format!("creating {}", t.table()), e))?;
        }
        let history = self.conn.history()?;
        validate(&history, scripts, hop)?;
        self.read_server_major();
        let status = status_of(&history, scripts);
        let pending: Vec<&Script> = scripts
            .iter()
            .filter(|s| s.phase == phase)
            .filter(|s| status.pending().any(|e| e.version == s.version))
            .collect();
        let one_transaction = match pending.as_slice() {
            [] => true,
            [one] => !one.batch && self.transactional(&self.statements_of(one)?),
            _ => phase == Phase::Offline && self.groupable(&pending)?,
        };
        let mut report = PhaseReport {
            phase,
            pending: pending.len(),
            applied: Vec::new(),
            remaining: pending.len(),
            one_transaction,
        };
        if pending.len() > 1 && one_transaction {
            self.apply_group(&pending, hop, observer, &mut report)?;
            return Ok(report);
        }
        for script in pending {
            observer
                .starting(script)
                .map_err(|reason| MigrateError::Stopped {
                    file: script.file_name(),
                    reason,
                })?;
            let prior = history
                .iter()
                .find(|r| r.version == script.version)
                .cloned();
            let applied = self.apply_one(script, hop, prior, observer)?;
            observer.finished(script, Duration::from_millis(applied.duration_ms));
            report.applied.push(applied);
            report.remaining -= 1;
        }
        Ok(report)
    }

    fn apply_one(
        &mut self,
        script: &Script,
        hop: &str,
        prior: Option<HistoryRow>,
        observer: &mut dyn Observer,
    ) -> Result<Applied, MigrateError> {
        let statements =
            script
                .statements(self.backend())
                .map_err(|reason| MigrateError::BadScript {
                    file: script.file_name(),
                    reason,
                })?;
        if script.batch {
            return self.apply_batches(script, &statements, hop, prior, observer);
        }
        let start = Instant::now();
        let mut rows = 0;
        let mut row = started_row(script, hop);
        row.success = true;
        let fail = |line: usize, error: String, dirty: bool| MigrateError::Failed {
            file: script.file_name(),
            line,
            error,
            dirty,
        };
        if self.transactional(&statements) {
            self.conn.begin().map_err(|e| fail(1, e, false))?;
            for st in &statements {
                if let Err(e) = self.conn.execute_changes(&st.sql).and_then(|n| {
                    rows += n;
                    observer.statement_done(script, st.line)
                }) {
                    let _ = self.conn.rollback();
                    return Err(fail(st.line, e, false));
                }
            }
            row.duration_ms = start.elapsed().as_millis() as u64;
            self.commit_with_history(&row, || format!("recording {}", script.file_name()))?;
        } else {
            row.success = false;
            row.error = Some(format!("started at {} and did not finish", row.applied_at));
            self.conn.write_history(&row).map_err(|e| {
                MigrateError::db(format!("recording the start of {}", script.file_name()), e)
            })?;
            for st in &statements {
                if let Err(e) = self.conn.execute_changes(&st.sql).and_then(|n| {
                    rows += n;
                    observer.statement_done(script, st.line)
                }) {
                    row.error = Some(format!("line {}: {e}", st.line));
                    row.duration_ms = start.elapsed().as_millis() as u64;
                    let _ = self.conn.write_history(&row);
                    return Err(fail(st.line, e, true));
                }
            }
            row.success = true;
            row.error = None;
            row.duration_ms = start.elapsed().as_millis() as u64;
            self.conn
                .write_history(&row)
                .map_err(|e| MigrateError::db(format!("recording {}", script.file_name()), e))?;
        }
        Ok(Applied {
            version: script.version,
            file: script.file_name(),
            duration_ms: row.duration_ms,
            batches: 0,
            rows,
        })
    }

    /// Writes `row` into the open transaction and commits both together;
    /// on failure the transaction is rolled back and `what` names the step.
    fn commit_with_history(
        &mut self,
        row: &HistoryRow,
        what: impl FnOnce() -> String,
    ) -> Result<(), MigrateError> {
        if let Err(e) = self
            .conn
            .write_history(row)
            .and_then(|()| self.conn.commit())
        {
            let _ = self.conn.rollback();
            return Err(MigrateError::db(what(), e));
        }
        Ok(())
    }

    /// Runs a batch statement until it changes no row; each batch commits
    /// with its progress.
    fn apply_batches(
        &mut self,
        script: &Script,
        statements: &[Statement],
        hop: &str,
        prior: Option<HistoryRow>,
        observer: &mut dyn Observer,
    ) -> Result<Applied, MigrateError> {
        let [statement] = statements else {
            return Err(MigrateError::BadScript {
                file: script.file_name(),
                reason: "a batch migration must be a single statement".into(),
            });
        };
        let mut row = prior.unwrap_or_else(|| started_row(script, hop));
        loop {
            let start = Instant::now();
            let fail = |e: String| MigrateError::Failed {
                file: script.file_name(),
                line: statement.line,
                error: format!("batch {}: {e}", row.batches + 1),
                dirty: false,
            };
            self.conn.begin().map_err(fail)?;
            let changed = match self.conn.execute_count(&statement.sql) {
                Ok(n) => n,
                Err(e) => {
                    let _ = self.conn.rollback();
                    return Err(fail(e));
                }
            };
            row.batches += 1;
            row.rows_affected += changed;
            row.duration_ms += start.elapsed().as_millis() as u64;
            row.applied_at = now_text();
            row.success = changed == 0;
            self.commit_with_history(&row, || {
                format!("recording progress of {}", script.file_name())
            })?;
            if changed == 0 {
                break;
            }
            observer
                .batch_done(script, row.batches, row.rows_affected)
                .map_err(|reason| MigrateError::Stopped {
                    file: script.file_name(),
                    reason: format!(
                        "{reason} (after batch {}; the next run continues from there)",
                        row.batches
                    ),
                })?;
        }
        Ok(Applied {
            version: script.version,
            file: script.file_name(),
            duration_ms: row.duration_ms,
            batches: row.batches,
            rows: row.rows_affected,
        })
    }

    /// Whether `scripts` can run together in one transaction: none is
    /// batched, and the phase's mode on this database is one transaction
    /// ([`OfflineMode::of`], what the builder and `inspect` say too).
    fn groupable(&self, scripts: &[&Script]) -> Result<bool, MigrateError> {
        if scripts.iter().any(|s| s.batch) {
            return Ok(false);
        }
        let statements: Vec<(String, Vec<Statement>)> = scripts
            .iter()
            .map(|s| Ok((s.file_name(), self.statements_of(s)?)))
            .collect::<Result<_, MigrateError>>()?;
        let mode = OfflineMode::of(
            statements.iter().map(|(f, s)| (f.as_str(), s.as_slice())),
            self.backend(),
            self.server_major.flatten(),
        );
        Ok(mode == OfflineMode::OneTransaction)
    }

    fn statements_of(&self, script: &Script) -> Result<Vec<Statement>, MigrateError> {
        script
            .statements(self.backend())
            .map_err(|reason| MigrateError::BadScript {
                file: script.file_name(),
                reason,
            })
    }

    /// Applies `scripts` and their history rows in one transaction.
    fn apply_group(
        &mut self,
        scripts: &[&Script],
        hop: &str,
        observer: &mut dyn Observer,
        report: &mut PhaseReport,
    ) -> Result<(), MigrateError> {
        let statements: Vec<Vec<Statement>> = scripts
            .iter()
            .map(|s| self.statements_of(s))
            .collect::<Result<_, _>>()?;
        let count = scripts.len();
        let fail = |script: &Script, line: usize, error: String| MigrateError::Failed {
            file: script.file_name(),
            line,
            error: format!(
                "{error} (the phase's {count} migrations ran in one transaction: none of them is applied)"
            ),
            dirty: false,
        };
        self.conn.begin().map_err(|e| fail(scripts[0], 1, e))?;
        let mut applied = Vec::new();
        for (script, statements) in scripts.iter().zip(&statements) {
            if let Err(reason) = observer.starting(script) {
                let _ = self.conn.rollback();
                return Err(MigrateError::Stopped {
                    file: script.file_name(),
                    reason,
                });
            }
            let start = Instant::now();
            let mut rows = 0;
            for st in statements {
                if let Err(e) = self.conn.execute_changes(&st.sql).and_then(|n| {
                    rows += n;
                    observer.statement_done(script, st.line)
                }) {
                    let _ = self.conn.rollback();
                    return Err(fail(script, st.line, e));
                }
            }
            let mut row = started_row(script, hop);
            row.success = true;
            row.duration_ms = start.elapsed().as_millis() as u64;
            if let Err(e) = self.conn.write_history(&row) {
                let _ = self.conn.rollback();
                return Err(MigrateError::db(
                    format!("recording {}", script.file_name()),
                    e,
                ));
            }
            observer.finished(script, start.elapsed());
            applied.push(Applied {
                version: script.version,
                file: script.file_name(),
                duration_ms: row.duration_ms,
                batches: 0,
                rows,
            });
        }
        if let Err(e) = self.conn.commit() {
            let _ = self.conn.rollback();
            return Err(MigrateError::db(
                format!("committing the phase's {count} migrations"),
                e,
            ));
        }
        report.remaining -= applied.len();
        report.applied = applied;
        Ok(())
    }

    /// Reads the server's major version once (PostgreSQL; `None` where it
    /// does not matter or cannot be read: then the oldest rules apply).
    fn read_server_major(&mut self) {
        if self.server_major.is_none() {
            let major = match self.backend() {
                Backend::Postgresql => self.conn.facts().ok().and_then(|f| major_of(&f.version)),
                _ => None,
            };
            self.server_major = Some(major);
        }
    }

    /// Whether `statements` can run in one transaction on this database.
    fn transactional(&self, statements: &[Statement]) -> bool {
        let backend = self.backend();
        crate::dialect::dialect(backend).transactional_ddl()
            && statements
                .iter()
                .all(|s| outside_transaction(s, backend, self.server_major.flatten()).is_none())
    }
}

/// The history row of `script` as it starts: not yet successful, no
/// batches, stamped now.
pub(super) fn started_row(script: &Script, hop: &str) -> HistoryRow {
    HistoryRow {
        version: script.version,
        description: script.description.clone(),
        phase: script.phase,
        checksum: script.checksum.to_hex(),
        hop: hop.to_owned(),
        applied_at: now_text(),
        duration_ms: 0,
        success: false,
        batches: 0,
        rows_affected: 0,
        error: None,
    }
}
