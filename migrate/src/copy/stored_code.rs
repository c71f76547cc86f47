//! A MariaDB database's stored code — triggers, procedures, functions,
//! events — carried into a rehearsal's copy without reaching the live
//! database.
//!
//! In MariaDB a database is a schema of the one server, so a trigger whose
//! body says `INSERT INTO livedb.audit_log` would, copied as it is into
//! `hop_scratch_…`, write into the live database each time a rehearsed
//! migration fired it. So the copy's dump leaves stored code out, and hop
//! creates each object itself afterwards from `SHOW CREATE`, with every
//! name qualified by the live database rewritten to the copy's (found by
//! the SQL tokenizer, so strings and comments are left alone). An object
//! that names another database, or builds statements at run time
//! (`PREPARE`, `EXECUTE`), cannot be vetted: the rehearsal is refused,
//! naming it, before anything is copied. Events are created disabled: a
//! rehearsal runs the migrations, not the scheduled jobs.

use sqlparser::dialect::MySqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use crate::connection::{self, Connection};
use crate::error::MigrateError;
use crate::url::DatabaseUrl;

/// Databases whose names code may use: read-only views of the server.
const READ_ONLY_SCHEMAS: [&str; 2] = ["information_schema", "performance_schema"];

/// The kinds of stored code, with how to list and show each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Trigger,
    Procedure,
    Function,
    Event,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Trigger => "TRIGGER",
            Kind::Procedure => "PROCEDURE",
            Kind::Function => "FUNCTION",
            Kind::Event => "EVENT",
        }
    }

    /// The column of `SHOW CREATE <kind>` holding the statement.
    fn statement_column(self) -> usize {
        match self {
            Kind::Event => 3,
            _ => 2,
        }
    }
}

/// One object, as it will be created in the copy.
#[derive(Clone, Debug)]
struct Object {
    kind: Kind,
    name: String,
    sql_mode: String,
    /// The `CREATE …` statement with the live database's name replaced by
    /// a placeholder the copy's name is put in.
    statement: Vec<Piece>,
}

#[derive(Clone, Debug, PartialEq)]
enum Piece {
    Text(String),
    /// Where the live database's name was.
    Database,
}

/// The vetted stored code of a live database.
#[derive(Debug, Default)]
pub struct StoredCode {
    objects: Vec<Object>,
}

impl StoredCode {
    /// Reads and vets the stored code of `live`'s database; refuses (with
    /// every object it cannot carry) before anything is copied.
    pub fn read(live: &DatabaseUrl) -> Result<Self, MigrateError> {
        let mut conn = connection::open(live, false)?;
        let database = live.database();
        let others: Vec<String> = query(conn.as_mut(), "SHOW DATABASES")?
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .filter(|d| *d != database)
            .collect();
        let mut objects = Vec::new();
        let mut refused = Vec::new();
        for (kind, name) in list(conn.as_mut(), &database)? {
            let show = format!(
                "SHOW CREATE {} {}.{}",
                kind.word(),
                quote(&database),
                quote(&name)
            );
            let row = query(conn.as_mut(), &show)?
                .into_iter()
                .next()
                .unwrap_or_default();
            let cell = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
            let statement = cell(kind.statement_column());
            if statement.is_empty() {
                refused.push(format!(
                    "{} {name}: its definition cannot be read (the user may lack the privilege to see it)",
                    kind.word().to_lowercase()
                ));
                continue;
            }
            match rewrite(&statement, &database, &others, kind) {
                Ok(statement) => objects.push(Object {
                    kind,
                    name,
                    sql_mode: cell(1),
                    statement,
                }),
                Err(why) => refused.push(format!("{} {name}: {why}", kind.word().to_lowercase())),
            }
        }
        if !refused.is_empty() {
            return Err(MigrateError::Backup(format!(
                "the stored code of {database} cannot be copied for a rehearsal without a risk \
                 of writing outside the copy: {}",
                refused.join("; ")
            )));
        }
        Ok(Self { objects })
    }

    /// How many objects it holds.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Creates every object in the copy `scratch`, naming it where the
    /// live database was named.
    pub fn install(&self, scratch: &DatabaseUrl) -> Result<(), MigrateError> {
        let mut conn = connection::open(scratch, false)?;
        let name = quote(&scratch.database());
        for o in &self.objects {
            let sql: String = o
                .statement
                .iter()
                .map(|p| match p {
                    Piece::Text(t) => t.as_str(),
                    Piece::Database => name.as_str(),
                })
                .collect();
            let doing = format!("creating {} {} in the copy", o.kind.word(), o.name);
            conn.execute(&format!(
                "SET SESSION sql_mode = '{}'",
                o.sql_mode.replace('\'', "")
            ))
            .map_err(|e| MigrateError::db(&doing, e))?;
            conn.execute(&sql)
                .map_err(|e| MigrateError::db(&doing, e))?;
        }
        Ok(())
    }
}

/// Every stored object of `database`, by kind and name.
fn list(conn: &mut dyn Connection, database: &str) -> Result<Vec<(Kind, String)>, MigrateError> {
    let db = database.replace('\'', "''");
    let mut out = Vec::new();
    let sources = [
        format!(
            "SELECT TRIGGER_NAME, 'TRIGGER' FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '{db}' ORDER BY 1"
        ),
        format!(
            "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '{db}' ORDER BY 1"
        ),
        format!(
            "SELECT EVENT_NAME, 'EVENT' FROM information_schema.EVENTS WHERE EVENT_SCHEMA = '{db}' ORDER BY 1"
        ),
    ];
    for sql in sources {
        for row in query(conn, &sql)? {
            let name = row.first().cloned().flatten().unwrap_or_default();
            let kind = match row.get(1).cloned().flatten().as_deref() {
                Some("TRIGGER") => Kind::Trigger,
                Some("FUNCTION") => Kind::Function,
                Some("EVENT") => Kind::Event,
                _ => Kind::Procedure,
            };
            out.push((kind, name));
        }
    }
    Ok(out)
}

fn query(conn: &mut dyn Connection, sql: &str) -> Result<Vec<Vec<Option<String>>>, MigrateError> {
    conn.query_text(sql)
        .map_err(|e| MigrateError::db("reading the stored code to copy", e))
}

/// `name` as a MariaDB identifier.
fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// The statement with each name qualified by `database` made a
/// placeholder; an error for what cannot be carried into a copy.
fn rewrite(
    statement: &str,
    database: &str,
    others: &[String],
    kind: Kind,
) -> Result<Vec<Piece>, String> {
    let tokens = Tokenizer::new(&MySqlDialect {}, statement)
        .tokenize_with_location()
        .map_err(|e| format!("its definition cannot be read: {e}"))?;
    let offsets = Offsets::new(statement);
    let mut pieces = Vec::new();
    let mut from = 0;
    let mut before_do = true;
    for (i, t) in tokens.iter().enumerate() {
        let Token::Word(w) = &t.token else {
            continue;
        };
        if kind == Kind::Event && before_do {
            // The event's own clauses come before DO: make it disabled.
            match w.keyword {
                Keyword::DO if w.quote_style.is_none() => {
                    before_do = false;
                    let at = offsets.of(t);
                    let has_status = tokens[..i].iter().any(|t| {
                        matches!(&t.token, Token::Word(w) if w.quote_style.is_none()
                            && matches!(w.keyword, Keyword::ENABLE | Keyword::DISABLE))
                    });
                    if !has_status {
                        pieces.push(Piece::Text(format!("{}DISABLE ", &statement[from..at])));
                        from = at;
                    }
                }
                Keyword::ENABLE if w.quote_style.is_none() => {
                    let (at, end) = (offsets.of(t), end_of(&tokens, i, &offsets, statement));
                    pieces.push(Piece::Text(format!("{}DISABLE", &statement[from..at])));
                    from = end;
                }
                _ => {}
            }
            continue;
        }
        if w.quote_style.is_none() && matches!(w.keyword, Keyword::PREPARE | Keyword::EXECUTE) {
            return Err(format!(
                "it builds statements at run time ({}), which hop cannot vet",
                w.value.to_uppercase()
            ));
        }
        if !matches!(w.quote_style, None | Some('`')) || !qualifies(&tokens, i) {
            continue;
        }
        if w.value == database {
            let (at, end) = (offsets.of(t), end_of(&tokens, i, &offsets, statement));
            pieces.push(Piece::Text(statement[from..at].to_owned()));
            pieces.push(Piece::Database);
            from = end;
        } else if others.contains(&w.value)
            && !READ_ONLY_SCHEMAS.contains(&w.value.to_lowercase().as_str())
        {
            return Err(format!(
                "it names the database {} (`{}.…`), which a copy would reach as the live \
                 database does",
                w.value, w.value
            ));
        }
    }
    pieces.push(Piece::Text(statement[from..].to_owned()));
    Ok(pieces)
}

/// Whether the word at `i` is followed by `.` and a name: a qualifier.
fn qualifies(tokens: &[TokenWithSpan], i: usize) -> bool {
    let mut rest = tokens[i + 1..]
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)));
    matches!(rest.next().map(|t| &t.token), Some(Token::Period))
        && matches!(
            rest.next().map(|t| &t.token),
            Some(Token::Word(_) | Token::Mul)
        )
}

/// The byte where the token after `i` begins (or the end).
fn end_of(tokens: &[TokenWithSpan], i: usize, offsets: &Offsets, text: &str) -> usize {
    tokens.get(i + 1).map_or(text.len(), |t| offsets.of(t))
}

/// Byte offsets of the tokenizer's (line, column) locations.
struct Offsets<'a> {
    text: &'a str,
    lines: Vec<usize>,
}

impl<'a> Offsets<'a> {
    fn new(text: &'a str) -> Self {
        let mut lines = vec![0];
        lines.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { text, lines }
    }

    fn of(&self, t: &TokenWithSpan) -> usize {
        let line = usize::try_from(t.span.start.line).unwrap_or(1).max(1);
        let column = usize::try_from(t.span.start.column).unwrap_or(1).max(1);
        let start = self.lines.get(line - 1).copied().unwrap_or(self.text.len());
        self.text[start..]
            .char_indices()
            .nth(column - 1)
            .map_or(self.text.len(), |(i, _)| start + i)
    }
}

#[cfg(test)]
#[path = "stored_code_tests.rs"]
mod tests;
