//! The migrator: connects, checks the server, holds the one-migrator lock,
//! validates the history against the package's scripts, and applies one
//! phase at a time.
//!
//! Each migration and its history row commit together where the database
//! allows (PostgreSQL, SQLite). Where it cannot (MariaDB DDL, PostgreSQL's
//! `CREATE INDEX CONCURRENTLY`), a row marked "started, did not finish" is
//! written first: if the migration fails or the process dies, that row
//! stays behind as a failed ("dirty") row and the next run refuses until the
//! database is restored. Batched post migrations commit each batch with its
//! progress, so an interrupted run continues where it stopped.

use std::thread::sleep;
use std::time::{Duration, Instant};

use hop_artifact::migration::{Backend, Phase};
use hop_artifact::package_manifest::ToolTable;

use crate::compat::{self, ServerFacts};
use crate::connection::{self, Connection};
use crate::error::MigrateError;
use crate::history::{HistoryRow, create_table_sql};
use crate::script::Script;
use crate::status::{Status, status_of};
use crate::url::DatabaseUrl;
use crate::validate::validate;

mod run;

use run::started_row;

/// How the migrator waits.
#[derive(Clone, Debug)]
pub struct Options {
    /// How long a statement may wait for a table lock before it fails
    /// (`lock_timeout` / `lock_wait_timeout` / `busy_timeout`), so that a
    /// migration never queues behind a long query and blocks the
    /// service's reads behind it.
    pub lock_timeout: Duration,
    /// How long to wait for another migrator to finish.
    pub lock_wait: Duration,
    /// Create the SQLite file if it does not exist (a fresh install).
    pub create_sqlite: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            lock_timeout: Duration::from_secs(5),
            lock_wait: Duration::from_secs(30),
            create_sqlite: false,
        }
    }
}

/// Hooks into a run: progress display, interruption, fault injection.
pub trait Observer {
    /// Before a migration; an `Err` stops the run before it.
    fn starting(&mut self, _script: &Script) -> Result<(), String> {
        Ok(())
    }
    /// After each statement of a migration; an `Err` fails the migration
    /// there (rolled back where the database allows).
    fn statement_done(&mut self, _script: &Script, _line: usize) -> Result<(), String> {
        Ok(())
    }
    /// After a migration is recorded as applied.
    fn finished(&mut self, _script: &Script, _elapsed: Duration) {}
    /// After each committed batch; an `Err` stops the run there (the
    /// progress is kept and the next run continues).
    fn batch_done(&mut self, _script: &Script, _batches: u64, _rows: u64) -> Result<(), String> {
        Ok(())
    }
}

/// An observer that does nothing.
pub struct Quiet;
impl Observer for Quiet {}

/// A migration applied by a run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Applied {
    /// The migration's number.
    pub version: u32,
    /// Its file name.
    pub file: String,
    /// How long it took.
    pub duration_ms: u64,
    /// How many batches ran (1 unless it is a batched `post` migration).
    pub batches: u64,
    /// Rows it changed.
    pub rows: u64,
}

/// What a run of one phase did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PhaseReport {
    /// The phase run.
    pub phase: Phase,
    /// Migrations of the phase pending before the run.
    pub pending: usize,
    /// What was applied, in order.
    pub applied: Vec<Applied>,
    /// Migrations of the phase still pending after the run.
    pub remaining: usize,
    /// Whether the run was one transaction (the phase grouped, or a single
    /// migration in its own): a failure in it would have left nothing.
    pub one_transaction: bool,
}

/// The migration engine on one database.
pub struct Migrator {
    conn: Box<dyn Connection>,
    url: DatabaseUrl,
    options: Options,
    locked: bool,
    /// PostgreSQL's major version, read once (what may run in a
    /// transaction depends on it).
    server_major: Option<Option<u32>>,
    /// Tools' history tables the migrations use, made before them.
    tool_tables: Vec<ToolTable>,
}

impl Migrator {
    /// Connects and sets the lock timeout.
    pub fn connect(url: &DatabaseUrl, options: Options) -> Result<Self, MigrateError> {
        let mut conn = connection::open(url, options.create_sqlite)?;
        conn.set_lock_timeout(options.lock_timeout)?;
        Ok(Self {
            conn,
            url: url.clone(),
            options,
            locked: false,
            server_major: None,
            tool_tables: Vec::new(),
        })
    }

    /// Makes the migrations find these tools' history tables: each is
    /// created before a run where it does not exist (and kept where it
    /// does).
    pub fn with_tool_tables(mut self, tables: &[ToolTable]) -> Self {
        self.tool_tables = tables.to_vec();
        self
    }

    /// The connection, for the engine's other parts (the cluster record).
    pub(crate) fn connection(&mut self) -> &mut dyn Connection {
        self.conn.as_mut()
    }

    /// Runs one query in a read-only transaction (SQLite: with
    /// `query_only`); its rows as text. What a vendor's check runs.
    pub fn query_read_only(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, MigrateError> {
        let conn = self.conn.as_mut();
        let doing = |e: String| MigrateError::db("running a check's query", e);
        let (enter, leave) = conn.dialect().read_only();
        conn.execute(enter).map_err(doing)?;
        let rows = conn.query_text(sql);
        let left = conn.execute(leave);
        let rows = rows.map_err(doing)?;
        left.map_err(doing)?;
        Ok(rows)
    }

    /// Runs a vendor check's query: refused unless it is one query that
    /// only reads (`hop_artifact::check_query`), then run as one statement
    /// in a read-only transaction within `timeout`; its rows as text.
    pub fn run_check(
        &mut self,
        sql: &str,
        timeout: Duration,
    ) -> Result<Vec<Vec<Option<String>>>, MigrateError> {
        hop_artifact::check_query::check(sql, self.backend())
            .map_err(|why| MigrateError::db("vetting the check's query", why))?;
        self.conn
            .query_checked(sql, timeout)
            .map_err(|e| MigrateError::db("running the check's query", e))
    }

    /// The database product.
    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// The database, as configured.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Server version, engine and character set: what compatibility checks read.
    pub fn server_facts(&mut self) -> Result<ServerFacts, MigrateError> {
        self.conn.facts()
    }

    /// Refuses a server the package does not support.
    pub fn check_compatibility(
        &mut self,
        min_version: Option<&str>,
    ) -> Result<ServerFacts, MigrateError> {
        let facts = self.conn.facts()?;
        let problems = compat::problems(self.backend(), &facts, min_version);
        if problems.is_empty() {
            Ok(facts)
        } else {
            Err(MigrateError::Incompatible(problems))
        }
    }

    /// The database's size on disk in bytes.
    pub fn database_size(&mut self) -> Result<u64, MigrateError> {
        self.conn.size()
    }

    /// The history, oldest first; empty when the table does not exist yet
    /// (reading never creates it).
    pub fn history(&mut self) -> Result<Vec<HistoryRow>, MigrateError> {
        if self.conn.history_exists()? {
            self.conn.history()
        } else {
            Ok(Vec::new())
        }
    }

    /// Takes the one-migrator lock, waiting up to `lock_wait` for another
    /// migrator to finish.
    pub fn lock(&mut self) -> Result<(), MigrateError> {
        if self.locked {
            return Ok(());
        }
        let start = Instant::now();
        loop {
            if self.conn.try_lock()? {
                self.locked = true;
                return Ok(());
            }
            if start.elapsed() >= self.options.lock_wait {
                return Err(MigrateError::Locked {
                    url: self.url.redacted(),
                    waited: start.elapsed(),
                });
            }
            sleep(Duration::from_millis(100));
        }
    }

    /// Releases the migration lock (also released when the migrator drops).
    pub fn unlock(&mut self) -> Result<(), MigrateError> {
        if self.locked {
            self.locked = false;
            self.conn.unlock()?;
        }
        Ok(())
    }

    /// Runs one statement outside any migration (creating or dropping a
    /// scratch database).
    pub fn execute_admin(&mut self, sql: &str) -> Result<(), String> {
        self.conn.execute(sql)
    }

    /// The names of the databases on the server.
    pub fn database_names(&mut self) -> Result<Vec<String>, MigrateError> {
        let Some(sql) = self.conn.dialect().list_databases() else {
            return Ok(Vec::new());
        };
        Ok(self
            .conn
            .query_text(sql)
            .map_err(|e| MigrateError::db("listing databases", e))?
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect())
    }

    /// The database's normalised schema (tool tables left out).
    pub fn schema(&mut self) -> Result<crate::schema::Schema, MigrateError> {
        let backend = self.backend();
        crate::schema::read(self.conn.as_mut(), backend)
    }

    /// Another migration tool's history in the database, if any.
    pub fn foreign_history(&mut self) -> Option<crate::adopt::Foreign> {
        crate::adopt::detect(self.conn.as_mut())
    }

    /// Adopts the database: writes *baseline* rows for the `scripts` up to
    /// `up_to` (they are in the database already, applied by another tool),
    /// labelled `baseline (<because>)`, in one transaction under the
    /// migration lock. Returns how many rows it wrote.
    pub fn baseline(
        &mut self,
        scripts: &[Script],
        up_to: u32,
        because: &str,
    ) -> Result<usize, MigrateError> {
        let was_locked = self.locked;
        self.lock()?;
        let result = (|| {
            self.conn
                .execute(&create_table_sql(self.backend()))
                .map_err(|e| MigrateError::db("creating hop_schema_history", e))?;
            if !self.conn.history()?.is_empty() {
                return Ok(0);
            }
            self.conn
                .begin()
                .map_err(|e| MigrateError::db("starting the baseline", e))?;
            let mut written = 0;
            for script in scripts.iter().filter(|s| s.version <= up_to) {
                let mut row = started_row(script, &format!("{BASELINE} ({because})"));
                row.success = true;
                if let Err(e) = self.conn.write_history(&row) {
                    let _ = self.conn.rollback();
                    return Err(MigrateError::db("writing the baseline", e));
                }
                written += 1;
            }
            self.conn
                .commit()
                .map_err(|e| MigrateError::db("committing the baseline", e))?;
            Ok(written)
        })();
        if !was_locked {
            self.unlock()?;
        }
        result
    }

    /// Where each of `scripts` stands, plus history rows the package lacks.
    pub fn status(&mut self, scripts: &[Script]) -> Result<Status, MigrateError> {
        Ok(status_of(&self.history()?, scripts))
    }

    /// Refuses a history that does not fit `scripts` (see [`validate`]).
    pub fn validate(&mut self, scripts: &[Script], hop: &str) -> Result<(), MigrateError> {
        validate(&self.history()?, scripts, hop)
    }
}

impl Drop for Migrator {
    fn drop(&mut self) {
        let _ = self.unlock();
    }
}

/// How baseline rows (migrations another tool applied) begin their `hop`
/// label.
pub const BASELINE: &str = "baseline";
