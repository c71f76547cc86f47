//! hop's own rules, on every database: what an online migration must not
//! do because the running version would break (DROP, RENAME, DELETE, …) or
//! stall (exclusive locks), and what the linter cannot see into (a `DO`
//! block, `EXECUTE` of a string). On PostgreSQL, squawk's parser-based
//! rules ([`super::postgres`]) judge the DDL; these keep what they do not
//! say.
//!
//! Rules match on the statement's unquoted words (the tokenizer has already
//! set strings and comments aside), so `'DROP'` in a string never trips
//! them and a comment cannot hide a statement.

use hop_artifact::migration::{Backend, Statement};

use super::Finding;

const MOVE: &str = "do it in a post migration (contract), once every node runs the new version";

/// hop's rules over the statements of an online migration on `backend`.
pub fn lint(statements: &[Statement], backend: Backend) -> Vec<Finding> {
    let mut found = Vec::new();
    let postgres = backend == Backend::Postgresql;
    for s in statements {
        let mut hit = |line: usize, rule: &str, why: &str, instead: &str| {
            found.push(Finding::new(line, rule, why, instead));
        };
        if s.starts_with(&["DO"]) || s.has_sequence(&["EXECUTE"]).is_some() {
            hit(
                s.line,
                "opaque-statement",
                "the linter cannot see what a DO block or an EXECUTE of a string runs",
                "write the statements out, or waive the rule with `-- hop: allow opaque-statement because …` after review",
            );
        }
        if s.starts_with(&["DELETE"]) {
            hit(
                s.line,
                "delete",
                "DELETE removes rows the running version may still read",
                MOVE,
            );
        }
        if s.starts_with(&["TRUNCATE"]) {
            hit(
                s.line,
                "truncate",
                "TRUNCATE deletes every row under an exclusive lock",
                MOVE,
            );
        }
        if super::shape::updates_whole_table(s, backend) {
            hit(
                s.line,
                "unbatched-update",
                "an UPDATE of every row (or of every row a backfill finds) locks each row it changes until it commits, while the running version writes them",
                "backfill in a `-- hop: phase=post batch` migration that changes a bounded number of rows per run",
            );
        }
        if s.starts_with(&["LOCK"])
            || s.starts_with(&["VACUUM", "FULL"])
            || s.starts_with(&["CLUSTER"])
        {
            hit(
                s.line,
                "exclusive-lock",
                "takes an exclusive lock that stalls the running version",
                "leave table maintenance to a maintenance window, outside the upgrade",
            );
        }
        if postgres {
            postgres_extras(s, &mut hit);
            if let Some(line) = super::shape::adds_column_with_check(s, backend) {
                hit(
                    line,
                    "add-column-check",
                    "a CHECK on an added column is checked on every row under an ACCESS EXCLUSIVE lock",
                    "add the column without it, then ADD CONSTRAINT … CHECK (…) NOT VALID here and VALIDATE CONSTRAINT it in a post migration",
                );
            }
            continue;
        }
        // Where squawk does not judge the DDL (MariaDB, SQLite).
        if s.starts_with(&["DROP"]) {
            hit(
                s.line,
                "drop",
                "DROP removes an object the running version may still use",
                MOVE,
            );
        }
        if s.starts_with(&["RENAME"]) {
            hit(
                s.line,
                "rename",
                "RENAME breaks the running version's queries by name",
                RENAME_INSTEAD,
            );
        }
        if s.starts_with(&["ALTER", "TABLE"]) {
            alter_table(s, backend, &mut hit);
        }
    }
    found
}

const RENAME_INSTEAD: &str =
    "add the new name beside the old one now, write both, and drop the old one in a later release";

/// What squawk lets through on PostgreSQL: a serial column (its default
/// is volatile) and a table's switch to or from logging (a rewrite).
fn postgres_extras(s: &Statement, hit: &mut impl FnMut(usize, &str, &str, &str)) {
    if !s.starts_with(&["ALTER", "TABLE"]) {
        return;
    }
    let serial = [
        "SERIAL",
        "BIGSERIAL",
        "SMALLSERIAL",
        "SERIAL4",
        "SERIAL8",
        "SERIAL2",
    ]
    .iter()
    .find_map(|w| s.has_sequence(&[w]));
    if let (Some(_), Some(line)) = (s.has_sequence(&["ADD"]), serial) {
        hit(
            line,
            "add-serial-column",
            "a serial column's default is nextval(), which is volatile: adding it rewrites the table under an ACCESS EXCLUSIVE lock",
            "add a nullable bigint column, fill it in batches in a post migration, then attach the sequence as its default",
        );
    }
    if let Some(line) = s
        .has_sequence(&["SET", "UNLOGGED"])
        .or_else(|| s.has_sequence(&["SET", "LOGGED"]))
    {
        hit(
            line,
            "set-logged",
            "SET LOGGED/UNLOGGED rewrites the whole table under an ACCESS EXCLUSIVE lock",
            "leave the table's persistence alone during an upgrade",
        );
    }
}

fn alter_table(s: &Statement, backend: Backend, hit: &mut impl FnMut(usize, &str, &str, &str)) {
    if let Some(line) = s.has_sequence(&["DROP"]) {
        hit(
            line,
            "drop",
            "ALTER TABLE … DROP removes a column, constraint or default the running version may rely on",
            MOVE,
        );
    }
    if let Some(line) = s.has_sequence(&["RENAME"]) {
        hit(
            line,
            "rename",
            "RENAME breaks the running version's queries by name",
            RENAME_INSTEAD,
        );
    }
    let stated_online = backend == Backend::Mariadb && super::mariadb::states_online(s);
    if backend == Backend::Mariadb
        && !stated_online
        && let Some(line) = s
            .has_sequence(&["MODIFY"])
            .or_else(|| s.has_sequence(&["CHANGE"]))
    {
        hit(
            line,
            "type-change",
            "MODIFY/CHANGE redefines a column: MariaDB copies the table under a lock unless it can do it in place",
            "add a new column and backfill it, or state ALGORITHM=INSTANT (MariaDB then refuses what it cannot do instantly)",
        );
    }
    if let Some(line) = s.has_sequence(&["SET", "NOT", "NULL"]) {
        hit(
            line,
            "set-not-null",
            "SET NOT NULL makes the running version's inserts without this column fail",
            MOVE,
        );
    }
    if let Some(line) = s
        .has_sequence(&["ADD", "CONSTRAINT"])
        .or_else(|| s.has_sequence(&["ADD", "PRIMARY"]))
        .or_else(|| s.has_sequence(&["ADD", "UNIQUE"]))
        .or_else(|| s.has_sequence(&["ADD", "FOREIGN"]))
        .or_else(|| s.has_sequence(&["ADD", "CHECK"]))
    {
        hit(
            line,
            "add-constraint",
            "a new constraint can reject the running version's writes and scans the table under lock",
            "add it in a post migration, once every node writes what it allows",
        );
    }
    if let Some(line) = not_null_without_default(s) {
        hit(
            line,
            "not-null-without-default",
            "a NOT NULL column without a DEFAULT makes the running version's inserts fail",
            "add the column nullable (or with a constant DEFAULT) and make it NOT NULL in a post migration",
        );
    }
}

/// `ADD [COLUMN] … NOT NULL` with no `DEFAULT` in the same statement.
fn not_null_without_default(s: &Statement) -> Option<usize> {
    let adds = s.has_sequence(&["ADD"])?;
    let not_null = s.has_sequence(&["NOT", "NULL"])?;
    if s.has_sequence(&["DEFAULT"]).is_some() || s.has_sequence(&["SET", "NOT", "NULL"]).is_some() {
        return None;
    }
    Some(not_null.max(adds))
}
