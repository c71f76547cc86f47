//! The history table, `hop_schema_history`: one row per migration applied
//! (or being applied) to this database.
//!
//! | column | meaning |
//! |---|---|
//! | version, description | the migration file `NNNN_description.sql` |
//! | phase | online, offline or post |
//! | checksum | SHA-256 of the file that was applied |
//! | hop | the hop that applied it, `4.0.1→4.1.1` |
//! | applied_at, duration_ms | when it finished (or started) and how long it took |
//! | success | true once fully applied |
//! | batches, rows_affected | progress of a batched post migration |
//! | error | why it failed; NULL while a batch migration is in progress |
//!
//! So a row is *applied* (`success`), *in progress* (not success, no
//! error: a batched migration an interruption stopped; it continues), or
//! *failed*, "dirty" (not success, an error: the database may be partly
//! changed and must be restored before anything else runs).

use hop_artifact::migration::{Backend, Phase};

/// hop's history table in the product's database.
pub const TABLE: &str = "hop_schema_history";

/// One row of the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryRow {
    /// The migration's number.
    pub version: u32,
    /// Its description (the file name's words).
    pub description: String,
    /// Its phase.
    pub phase: Phase,
    /// SHA-256 of the file applied.
    pub checksum: String,
    /// The hop that applied it (`4.0.1→4.1.1`), or `baseline (…)` for an adopted one.
    pub hop: String,
    /// When it finished (RFC 3339, UTC).
    pub applied_at: String,
    /// How long it ran.
    pub duration_ms: u64,
    /// Whether it completed.
    pub success: bool,
    /// Batches run so far.
    pub batches: u64,
    /// Rows changed so far.
    pub rows_affected: u64,
    /// The database's error, when it failed.
    pub error: Option<String>,
}

/// What a history row says about its migration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowState {
    /// Completed.
    Applied,
    /// Started and not finished: a crash, or a batched migration under way.
    InProgress,
    /// Failed with an error.
    Failed,
}

impl HistoryRow {
    /// What the row says about its migration.
    pub fn state(&self) -> RowState {
        match (self.success, &self.error) {
            (true, _) => RowState::Applied,
            (false, None) => RowState::InProgress,
            (false, Some(_)) => RowState::Failed,
        }
    }

    /// `0004_add_x.sql`.
    pub fn file_name(&self) -> String {
        format!("{:04}_{}.sql", self.version, self.description)
    }
}

/// The history table's definition, the same on every backend.
macro_rules! create_table {
    () => {
        "CREATE TABLE IF NOT EXISTS hop_schema_history (
            version INTEGER PRIMARY KEY,
            description VARCHAR(200) NOT NULL,
            phase VARCHAR(10) NOT NULL,
            checksum CHAR(64) NOT NULL,
            hop VARCHAR(100) NOT NULL,
            applied_at VARCHAR(40) NOT NULL,
            duration_ms BIGINT NOT NULL,
            success BOOLEAN NOT NULL,
            batches BIGINT NOT NULL DEFAULT 0,
            rows_affected BIGINT NOT NULL DEFAULT 0,
            error TEXT
        )"
    };
}

/// `CREATE TABLE IF NOT EXISTS` for the history on `backend`.
pub fn create_table_sql(backend: Backend) -> String {
    format!(
        "{}{}",
        create_table!(),
        crate::dialect::dialect(backend).table_options()
    )
}

/// Reads the whole history, in order.
pub const SELECT_SQL: &str = "SELECT version, description, phase, checksum, hop, applied_at, \
     duration_ms, success, batches, rows_affected, error FROM hop_schema_history ORDER BY version";

/// The current time as RFC 3339 UTC, as `applied_at` stores it.
pub fn now_text() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

pub(crate) fn parse_phase(text: &str) -> Phase {
    text.parse().unwrap_or(Phase::Offline)
}
