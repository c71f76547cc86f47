//! Migration files: their names, their phase header and their statements.
//!
//! A migration is `NNNN_description.sql` whose first line declares its phase:
//!
//! ```sql
//! -- hop: phase=post batch
//! UPDATE events SET kind = 'x' WHERE id IN (SELECT id FROM events WHERE kind IS NULL LIMIT 1000);
//! ```
//!
//! A migrations directory holds portable files and, optionally, per-backend
//! variants in `postgresql/`, `mariadb/` or `sqlite/` with the same file name;
//! a variant replaces the portable file on that backend.

use std::fmt;
use std::str::FromStr;

mod transaction;

pub use transaction::{OfflineMode, major_of, outside_transaction};

use serde::{Deserialize, Serialize};
use sqlparser::dialect::{Dialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::tokenizer::{Token, Tokenizer};

/// When a migration runs during an upgrade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Expand: before services stop; additive only.
    Online,
    /// In the downtime window; anything goes.
    Offline,
    /// Contract/backfill: after services are healthy again; may be batched.
    Post,
}

impl Phase {
    /// Every phase, in the order an operation runs them.
    pub const ALL: [Phase; 3] = [Phase::Online, Phase::Offline, Phase::Post];

    /// The name manifests and headers use.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Online => "online",
            Phase::Offline => "offline",
            Phase::Post => "post",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Phase {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "online" => Ok(Phase::Online),
            "offline" => Ok(Phase::Offline),
            "post" => Ok(Phase::Post),
            other => Err(format!(
                "unknown phase {other:?} (expected online, offline or post)"
            )),
        }
    }
}

/// A database product the migration engine supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// PostgreSQL.
    Postgresql,
    /// MariaDB (or MySQL).
    Mariadb,
    /// SQLite, the embedded default.
    Sqlite,
}

impl Backend {
    /// Every backend.
    pub const ALL: [Backend; 3] = [Backend::Postgresql, Backend::Mariadb, Backend::Sqlite];

    /// The name manifests and database URLs use.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Postgresql => "postgresql",
            Backend::Mariadb => "mariadb",
            Backend::Sqlite => "sqlite",
        }
    }

    /// The SQL dialect sqlparser reads this database's statements with.
    pub fn dialect(self) -> Box<dyn Dialect> {
        match self {
            Backend::Postgresql => Box::new(PostgreSqlDialect {}),
            Backend::Mariadb => Box::new(MySqlDialect {}),
            Backend::Sqlite => Box::new(SQLiteDialect {}),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Backend::ALL
            .into_iter()
            .find(|b| b.as_str() == s)
            .ok_or_else(|| {
                format!("unknown database {s:?} (expected postgresql, mariadb or sqlite)")
            })
    }
}

/// The parts of a migration file name: `0007_add_events_kind.sql`, or
/// golang-migrate's `0007_add_events_kind.up.sql`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationName {
    /// The number that orders migrations.
    pub version: u32,
    /// The words after the number, underscores kept.
    pub description: String,
    /// The file name as written (what messages and members use).
    pub file: String,
}

impl MigrationName {
    /// Parses `NNNN_description.sql` or `NNNN_description.up.sql`: at least
    /// four digits, an underscore, a description of letters, digits, `_`,
    /// `.` and `-`. Numbers only have to increase: real histories have gaps.
    pub fn parse(file_name: &str) -> Result<Self, String> {
        let expected = "expected NNNN_description.sql or NNNN_description.up.sql (e.g. 0007_add_events_kind.sql)";
        if Self::is_down(file_name) {
            return Err(format!(
                "{file_name:?} is a down migration; hop does not run them"
            ));
        }
        let stem = file_name
            .strip_suffix(".up.sql")
            .or_else(|| file_name.strip_suffix(".sql"))
            .ok_or_else(|| format!("{file_name:?} does not end in .sql; {expected}"))?;
        let (number, description) = stem
            .split_once('_')
            .ok_or_else(|| format!("{file_name:?} has no _description; {expected}"))?;
        if number.len() < 4 || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "{file_name:?} does not start with a number of at least four digits; {expected}"
            ));
        }
        if description.is_empty()
            || !description
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        {
            return Err(format!(
                "{file_name:?}: the description may only use letters, digits, _, . and -; {expected}"
            ));
        }
        let version = number
            .parse::<u32>()
            .map_err(|_| format!("{file_name:?}: the number is larger than 4294967295"))?;
        if version == 0 {
            return Err(format!("{file_name:?}: migrations are numbered from 0001"));
        }
        Ok(Self {
            version,
            description: description.to_owned(),
            file: file_name.to_owned(),
        })
    }

    /// golang-migrate's `NNNN_description.down.sql`: hop never runs them.
    pub fn is_down(file_name: &str) -> bool {
        file_name.ends_with(".down.sql")
    }

    /// The file name as written.
    pub fn file_name(&self) -> String {
        self.file.clone()
    }
}

/// What the first line of a migration declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MigrationHeader {
    /// When the migration runs.
    pub phase: Phase,
    /// A `post` migration run again and again until it changes no row.
    pub batch: bool,
}

impl MigrationHeader {
    /// Parses the first line: `-- hop: phase=online|offline|post [batch]`.
    pub fn parse(sql: &str) -> Result<Self, String> {
        let first = sql.lines().next().unwrap_or("").trim();
        let expected =
            "the first line must be `-- hop: phase=online|offline|post` (post may add `batch`)";
        let rest = first
            .strip_prefix("--")
            .map(str::trim_start)
            .and_then(|r| r.strip_prefix("hop:"))
            .ok_or_else(|| format!("missing phase line; {expected}"))?;
        let mut phase = None;
        let mut batch = false;
        for word in rest.split_whitespace() {
            if let Some(value) = word.strip_prefix("phase=") {
                phase = Some(value.parse::<Phase>()?);
            } else if word == "batch" {
                batch = true;
            } else {
                return Err(format!(
                    "unknown word {word:?} in the phase line; {expected}"
                ));
            }
        }
        let phase = phase.ok_or_else(|| format!("the phase line has no phase=; {expected}"))?;
        if batch && phase != Phase::Post {
            return Err("`batch` is only allowed on phase=post migrations".to_owned());
        }
        Ok(Self { phase, batch })
    }
}

/// One SQL statement of a migration file, with where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The statement's text, as written, without the closing `;`.
    pub sql: String,
    /// 1-based line of the statement's first token.
    pub line: usize,
    /// The statement's unquoted words, upper-cased, each with its line: what
    /// linting rules match on.
    pub words: Vec<(String, usize)>,
}

impl Statement {
    /// Whether the statement's words contain `seq` consecutively.
    pub fn has_sequence(&self, seq: &[&str]) -> Option<usize> {
        self.words
            .windows(seq.len())
            .find(|w| w.iter().zip(seq).all(|((word, _), s)| word == s))
            .map(|w| w[0].1)
    }

    /// Whether the statement starts with the given words.
    pub fn starts_with(&self, seq: &[&str]) -> bool {
        self.words.len() >= seq.len() && self.words.iter().zip(seq).all(|((w, _), s)| w == s)
    }
}

/// Splits a migration into statements with the tokenizer of `backend`, so
/// that `;` inside strings, comments, dollar-quoted bodies and trigger
/// bodies does not split.
pub fn split_statements(sql: &str, backend: Backend) -> Result<Vec<Statement>, String> {
    let dialect = backend.dialect();
    let tokens = Tokenizer::new(dialect.as_ref(), sql)
        .tokenize_with_location()
        .map_err(|e| format!("cannot read the SQL: {e}"))?;
    let offsets = LineOffsets::new(sql);
    let mut statements = Vec::new();
    let mut start: Option<(usize, usize)> = None; // byte offset, line
    let mut words: Vec<(String, usize)> = Vec::new();
    let mut block_depth = 0usize;
    let flush = |start: &mut Option<(usize, usize)>,
                 words: &mut Vec<(String, usize)>,
                 end: usize,
                 out: &mut Vec<Statement>| {
        if let Some((begin, line)) = start.take() {
            let text = sql[begin..end].trim_end();
            out.push(Statement {
                sql: text.to_owned(),
                line,
                words: std::mem::take(words),
            });
        }
    };
    for token in &tokens {
        let line = token.span.start.line as usize;
        let offset = offsets.byte_offset(token.span.start.line, token.span.start.column);
        match &token.token {
            Token::Whitespace(_) | Token::EOF => continue,
            Token::SemiColon if block_depth == 0 => {
                flush(&mut start, &mut words, offset, &mut statements);
                continue;
            }
            _ => {}
        }
        if start.is_none() {
            start = Some((offset, line));
        }
        if let Token::Word(word) = &token.token
            && word.quote_style.is_none()
        {
            let upper = word.value.to_ascii_uppercase();
            if opens_block(&words) && (upper == "BEGIN" || upper == "CASE") {
                block_depth += 1;
            } else if upper == "END" && block_depth > 0 {
                block_depth -= 1;
            }
            words.push((upper, line));
        }
    }
    flush(&mut start, &mut words, sql.len(), &mut statements);
    Ok(statements)
}

/// Trigger, procedure and function bodies hold `;`-separated statements
/// between BEGIN and END.
fn opens_block(words: &[(String, usize)]) -> bool {
    let mut iter = words.iter().map(|(w, _)| w.as_str());
    if iter.next() != Some("CREATE") {
        return false;
    }
    iter.take(4)
        .any(|w| matches!(w, "TRIGGER" | "PROCEDURE" | "FUNCTION"))
}

/// Maps the tokenizer's (line, column) locations back to byte offsets.
struct LineOffsets<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineOffsets<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { text, starts }
    }

    fn byte_offset(&self, line: u64, column: u64) -> usize {
        let Some(&line_start) = self.starts.get(line.saturating_sub(1) as usize) else {
            return self.text.len();
        };
        let rest = &self.text[line_start..];
        let chars_before = column.saturating_sub(1) as usize;
        line_start
            + rest
                .char_indices()
                .nth(chars_before)
                .map_or(rest.len(), |(i, _)| i)
    }
}

#[cfg(test)]
mod tests;
