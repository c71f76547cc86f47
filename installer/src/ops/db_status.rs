//! `hop-install db status`: the schema history, and the migrations of the
//! installed version still pending. Read-only: it never creates the
//! history table.

use std::path::Path;

use hop_migrate::status::{State, Status, status_of};
use hop_migrate::{Migrator, Options};
use serde::Serialize;

use crate::error::Refusal;
use crate::session::Session;

#[derive(Serialize)]
pub struct DbStatus {
    pub database: String,
    /// The version whose migrations `pending` is measured against.
    pub installed: Option<String>,
    pub migrations: Status,
}

pub fn db_status(root: &Path) -> Result<DbStatus, Refusal> {
    let session = Session::reading(root)?;
    let url = session
        .host
        .database_url()
        .map_err(|e| Refusal::from_error(&e))?;
    let mut migrator =
        Migrator::connect(&url, Options::default()).map_err(|e| Refusal::new(e.to_string()))?;
    let history = migrator
        .history()
        .map_err(|e| Refusal::new(e.to_string()))?;
    let installed = session.state.installed();
    let (version, scripts) = match crate::package::load_manifest(&installed.join("hop.yaml")) {
        Ok(m) => {
            let scripts = crate::package::scripts(&m, &installed, url.backend())
                .map_err(|e| Refusal::from_error(&e))?;
            (Some(m.to.to_string()), scripts)
        }
        Err(_) => (None, Vec::new()),
    };
    Ok(DbStatus {
        database: url.redacted(),
        installed: version,
        migrations: status_of(&history, &scripts),
    })
}

pub fn render(s: &DbStatus) -> String {
    let mut out = format!(
        "database {} — migrations of {}\n",
        s.database,
        s.installed
            .as_deref()
            .unwrap_or("(no version installed by hop yet: history only)")
    );
    out += &format!("{:<44} {:<8} STATE\n", "MIGRATION", "PHASE");
    for e in &s.migrations.entries {
        let state = match &e.state {
            State::Pending => "pending".to_owned(),
            State::Applied {
                hop, applied_at, ..
            } if hop.starts_with(hop_migrate::engine::BASELINE) => {
                format!("{hop}: recorded {applied_at} when hop adopted the database")
            }
            State::Applied {
                hop,
                applied_at,
                duration_ms,
            } => format!("applied {applied_at} by {hop} in {duration_ms}ms"),
            State::InProgress { batches, rows } => {
                format!("in progress: {batches} batches, {rows} rows")
            }
            State::Failed { error } => format!("FAILED: {error}"),
        };
        out += &format!("{:<44} {:<8} {state}\n", e.file, e.phase.as_str());
    }
    let pending = s.migrations.pending().count();
    out += &format!("{pending} pending\n");
    out
}
