//! The linter against a corpus of statements, each with the verdict a
//! careful DBA gives it in an online migration: `None` when it is safe
//! while the old version serves, else the rule it must break.

use hop_artifact::migration::{Backend, split_statements};

use super::{Columns, History, lint_online};

const PG: Backend = Backend::Postgresql;
const MARIA: Backend = Backend::Mariadb;
const LITE: Backend = Backend::Sqlite;

#[rustfmt::skip]
const CORPUS: &[(Backend, &str, Option<&str>)] = &[
    // PostgreSQL: additive and lock-safe.
    (PG, "CREATE TABLE audit (id bigint PRIMARY KEY, actor text)", None),
    (PG, "ALTER TABLE events ADD COLUMN text varchar(500)", None),
    (PG, "ALTER TABLE events ADD COLUMN level text DEFAULT 'info'", None),
    (PG, "ALTER TABLE events ADD COLUMN n int NOT NULL DEFAULT 0", None),
    (PG, "ALTER TABLE events ADD COLUMN at timestamptz DEFAULT now()", None),
    (PG, "CREATE INDEX CONCURRENTLY events_level ON events (level)", None),
    (PG, "CREATE UNIQUE INDEX CONCURRENTLY u ON events (id, level)", None),
    (PG, "ALTER TABLE events ADD CONSTRAINT f FOREIGN KEY (deployment_id) REFERENCES deployments (id) NOT VALID", None),
    (PG, "ALTER TABLE events ADD CONSTRAINT c CHECK (level IS NOT NULL) NOT VALID", None),
    (PG, "ALTER TABLE events VALIDATE CONSTRAINT c", None),
    (PG, "INSERT INTO plugins (name) VALUES ('builtin')", None),
    (PG, "UPDATE settings SET value = 'x' WHERE key = 'y'", None),
    (PG, "CREATE VIEW v AS SELECT id FROM events", None),
    (PG, "CREATE SEQUENCE s", None),
    (PG, "CREATE TYPE mood AS ENUM ('ok', 'sad')", None),
    (PG, "ALTER TYPE mood ADD VALUE 'happy'", None),
    (PG, "COMMENT ON TABLE events IS 'DROP TABLE events'", None),
    (PG, "REINDEX INDEX CONCURRENTLY events_level", None),
    (PG, "ALTER TABLE events ALTER COLUMN level SET DEFAULT 'info'", None),
    (PG, "ALTER TABLE events ALTER COLUMN level DROP NOT NULL", None),
    // PostgreSQL: what it must refuse.
    (PG, "ALTER TABLE events ADD COLUMN u uuid DEFAULT gen_random_uuid()", Some("adding-field-with-default")),
    (PG, "ALTER TABLE events ADD COLUMN s serial", Some("add-serial-column")),
    (PG, "ALTER TABLE events ADD COLUMN s bigserial", Some("add-serial-column")),
    (PG, "ALTER TABLE events ADD COLUMN g int GENERATED ALWAYS AS (id + 1) STORED", Some("adding-field-with-default")),
    (PG, "REINDEX TABLE events", Some("require-concurrent-reindex")),
    (PG, "ALTER TABLE events SET UNLOGGED", Some("set-logged")),
    (PG, "ALTER TABLE events SET LOGGED", Some("set-logged")),
    (PG, "ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'", Some("renaming-object")),
    (PG, "DO $$ BEGIN EXECUTE 'DROP TABLE events'; END $$", Some("opaque-statement")),
    (PG, "DO $$ BEGIN PERFORM 1; END $$", Some("opaque-statement")),
    (PG, "ALTER TABLE events ADD CONSTRAINT f FOREIGN KEY (deployment_id) REFERENCES deployments (id)", Some("adding-foreign-key-constraint")),
    (PG, "ALTER TABLE events ADD CONSTRAINT c CHECK (level IS NOT NULL)", Some("constraint-missing-not-valid")),
    (PG, "ALTER TABLE events ADD CONSTRAINT u UNIQUE (id)", Some("disallowed-unique-constraint")),
    (PG, "ALTER TABLE events ADD PRIMARY KEY (id)", Some("adding-serial-primary-key-field")),
    (PG, "CREATE INDEX events_level ON events (level)", Some("require-concurrent-index-creation")),
    (PG, "DROP INDEX events_level", Some("ban-drop-index")),
    (PG, "DROP TABLE events", Some("ban-drop-table")),
    (PG, "ALTER TABLE events DROP COLUMN message", Some("ban-drop-column")),
    (PG, "ALTER TABLE events DROP CONSTRAINT c", Some("ban-drop-constraint")),
    (PG, "ALTER TABLE events ALTER COLUMN level DROP DEFAULT", Some("ban-drop-default")),
    (PG, "ALTER TABLE events RENAME COLUMN message TO text", Some("renaming-column")),
    (PG, "ALTER TABLE events RENAME TO happenings", Some("renaming-table")),
    (PG, "ALTER TABLE events ALTER COLUMN id TYPE bigint", Some("changing-column-type")),
    (PG, "ALTER TABLE events ALTER COLUMN level SET NOT NULL", Some("adding-not-nullable-field")),
    (PG, "ALTER TABLE events ADD COLUMN n int NOT NULL", Some("adding-required-field")),
    (PG, "DROP VIEW v", Some("ban-drop-view")),
    (PG, "DROP TYPE mood", Some("ban-drop-type")),
    (PG, "DROP SEQUENCE s", Some("ban-drop-sequence")),
    (PG, "DROP FUNCTION f()", Some("ban-drop-function")),
    (PG, "ALTER TABLE events SET SCHEMA archive", Some("ban-set-schema")),
    (PG, "TRUNCATE events", Some("truncate")),
    (PG, "DELETE FROM events WHERE id < 10", Some("delete")),
    (PG, "LOCK TABLE events IN ACCESS EXCLUSIVE MODE", Some("exclusive-lock")),
    (PG, "VACUUM FULL events", Some("exclusive-lock")),
    (PG, "CLUSTER events USING events_pkey", Some("exclusive-lock")),
    (PG, "ALTER TABLE events DISABLE TRIGGER ALL", Some("ban-disable-trigger")),
    (PG, "REVOKE SELECT ON events FROM reader", Some("ban-revoke")),
    // PostgreSQL, round two: data changes and scans under a lock.
    (PG, "UPDATE events SET level = 'info'", Some("unbatched-update")),
    (PG, "ALTER TABLE events ADD COLUMN level2 text; UPDATE events SET level2 = level", Some("unbatched-update")),
    (PG, "UPDATE events SET level = 'info' WHERE level IS NULL", Some("unbatched-update")),
    (PG, "UPDATE events SET level = 'info' WHERE level IS NULL OR (message IS NULL)", Some("unbatched-update")),
    (PG, "ALTER TABLE events ADD COLUMN n int CHECK (n > 0)", Some("add-column-check")),
    (PG, "ALTER TABLE events ADD COLUMN n int CONSTRAINT positive CHECK (n > 0)", Some("add-column-check")),
    // … and what is safe: widening a varchar the history declared
    // (binary-coercible), and anything on a table the migration creates.
    (PG, "ALTER TABLE events ALTER COLUMN message TYPE varchar(2000)", None),
    (PG, "ALTER TABLE events ALTER COLUMN message TYPE text", None),
    (PG, "ALTER TABLE events ALTER COLUMN message SET DATA TYPE varchar", None),
    (PG, "ALTER TABLE events ALTER COLUMN message TYPE varchar(100)", Some("changing-column-type")),
    (PG, "ALTER TABLE events ALTER COLUMN message TYPE text USING lower(message)", Some("changing-column-type")),
    (PG, "ALTER TABLE events ALTER COLUMN deployment_id TYPE text", Some("changing-column-type")),
    (PG, "CREATE TABLE audit (id bigint, event_id bigint); CREATE INDEX audit_event ON audit (event_id)", None),
    (PG, "CREATE TABLE audit (id bigint, event_id bigint); ALTER TABLE audit ADD CONSTRAINT audit_event FOREIGN KEY (event_id) REFERENCES events (id)", None),
    (PG, "CREATE TABLE audit (id bigint, n int); ALTER TABLE audit ADD CONSTRAINT audit_id UNIQUE (id)", None),
    (PG, "CREATE TABLE audit (id bigint, n int); ALTER TABLE audit ADD CONSTRAINT positive CHECK (n > 0)", None),
    (PG, "CREATE TABLE audit (id bigint, n int); UPDATE audit SET n = 0", None),
    (PG, "CREATE TABLE audit (id bigint); CREATE INDEX events_level ON events (level)", Some("require-concurrent-index-creation")),
    // MariaDB.
    (MARIA, "CREATE TABLE audit (id BIGINT PRIMARY KEY)", None),
    (MARIA, "ALTER TABLE events ADD COLUMN level VARCHAR(10)", None),
    (MARIA, "ALTER TABLE events ADD COLUMN level VARCHAR(10) AFTER id", None),
    (MARIA, "ALTER TABLE events ADD INDEX events_level (level)", None),
    (MARIA, "CREATE INDEX events_level ON events (level)", None),
    (MARIA, "ALTER TABLE events MODIFY level VARCHAR(20), ALGORITHM=INSTANT", None),
    (MARIA, "ALTER TABLE events MODIFY level VARCHAR(20), ALGORITHM=INPLACE, LOCK=NONE", None),
    (MARIA, "ALTER TABLE events MODIFY level VARCHAR(20)", Some("type-change")),
    (MARIA, "ALTER TABLE events CHANGE level severity VARCHAR(10)", Some("type-change")),
    (MARIA, "ALTER TABLE events MODIFY level VARCHAR(10) FIRST", Some("type-change")),
    (MARIA, "ALTER TABLE events DROP PRIMARY KEY, ADD PRIMARY KEY (id, level)", Some("mariadb-not-online")),
    (MARIA, "ALTER TABLE events CONVERT TO CHARACTER SET utf8mb4", Some("mariadb-not-online")),
    (MARIA, "ALTER TABLE events ENGINE=InnoDB", Some("mariadb-not-online")),
    (MARIA, "ALTER TABLE events ADD FULLTEXT INDEX ft (message)", Some("mariadb-not-online")),
    (MARIA, "ALTER TABLE events DROP COLUMN message", Some("drop")),
    (MARIA, "RENAME TABLE events TO happenings", Some("rename")),
    (MARIA, "ALTER TABLE events ADD COLUMN n INT NOT NULL", Some("not-null-without-default")),
    (MARIA, "ALTER TABLE events ADD CONSTRAINT u UNIQUE (id)", Some("add-constraint")),
    (MARIA, "DELETE FROM events", Some("delete")),
    (MARIA, "EXECUTE stmt", Some("opaque-statement")),
    // MariaDB, round two.
    (MARIA, "UPDATE events SET level = 'info'", Some("unbatched-update")),
    (MARIA, "ALTER TABLE events ADD COLUMN level2 VARCHAR(10); UPDATE events SET level2 = level", Some("unbatched-update")),
    (MARIA, "UPDATE events SET level = 'info' WHERE level IS NULL LIMIT 1000", None),
    (MARIA, "UPDATE settings SET value = 'x' WHERE name = 'y'", None),
    (MARIA, "OPTIMIZE TABLE events", Some("mariadb-not-online")),
    (MARIA, "ALTER TABLE events ADD COLUMN seq INT AUTO_INCREMENT UNIQUE", Some("mariadb-not-online")),
    (MARIA, "ALTER TABLE events AUTO_INCREMENT = 1000", None),
    (MARIA, "CREATE TABLE audit (id BIGINT, n INT); ALTER TABLE audit ADD CONSTRAINT audit_id UNIQUE (id)", None),
    (MARIA, "CREATE TABLE audit (id BIGINT, n INT); ALTER TABLE audit ADD COLUMN m INT NOT NULL", None),
    // SQLite.
    (LITE, "ALTER TABLE events ADD COLUMN level TEXT", None),
    (LITE, "CREATE INDEX events_level ON events (level)", None),
    (LITE, "DROP TABLE events", Some("drop")),
    (LITE, "ALTER TABLE events RENAME COLUMN message TO text", Some("rename")),
    (LITE, "UPDATE events SET level = 'info'", Some("unbatched-update")),
    (LITE, "CREATE TABLE audit (id INTEGER); UPDATE audit SET id = 1", None),
];

/// What the corpus's earlier migrations declared (the demo product's
/// `events` as 4.0.1 made it).
const HISTORY: &str = "CREATE TABLE events (id bigint PRIMARY KEY, deployment_id bigint, \
                       message varchar(500), level varchar(10));";

fn history(backend: Backend) -> History {
    let mut columns = Columns::default();
    if backend == PG {
        columns.learn(HISTORY);
    }
    History {
        columns,
        oldest_server: (backend == PG).then(|| "12".to_owned()),
    }
}

fn rules(backend: Backend, sql: &str) -> Vec<String> {
    let text = format!("-- hop: phase=online\n{sql};\n");
    let statements = split_statements(&text, backend).unwrap();
    lint_online(&text, &statements, backend, &history(backend))
        .findings
        .into_iter()
        .map(|f| f.rule)
        .collect()
}

#[test]
fn the_linter_gives_a_careful_dbas_verdict_on_every_statement_of_the_corpus() {
    assert!(CORPUS.len() >= 60, "{} statements", CORPUS.len());
    let mut wrong = Vec::new();
    for (backend, sql, verdict) in CORPUS {
        let found = rules(*backend, sql);
        let right = match verdict {
            None => found.is_empty(),
            Some(rule) => found.iter().any(|r| r == rule),
        };
        if !right {
            wrong.push(format!(
                "{backend}: {sql}\n    expected {verdict:?}, found {found:?}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn every_finding_says_why_and_what_to_do_instead() {
    for (backend, sql, verdict) in CORPUS {
        if verdict.is_none() {
            continue;
        }
        let text = format!("-- hop: phase=online\n{sql};\n");
        let statements = split_statements(&text, *backend).unwrap();
        for f in lint_online(&text, &statements, *backend, &history(*backend)).findings {
            assert_eq!(f.line, 2, "{sql}");
            assert!(!f.why.is_empty() && !f.instead.is_empty(), "{sql}: {f:?}");
        }
    }
}

#[test]
fn a_waiver_with_a_reason_lets_one_statement_through_and_is_reported() {
    let text = "-- hop: phase=online\n\
                -- hop: allow opaque-statement because it only grants to the reporting role\n\
                DO $$ BEGIN EXECUTE 'GRANT SELECT ON events TO reporting'; END $$;\n\
                DO $$ BEGIN PERFORM 1; END $$;\n";
    let statements = split_statements(text, PG).unwrap();
    let linted = lint_online(text, &statements, PG, &history(PG));
    assert_eq!(linted.waived.len(), 1);
    assert_eq!(linted.waived[0].line, 2);
    assert_eq!(
        linted.waived[0].reason,
        "it only grants to the reporting role"
    );
    // The second DO block is not waived.
    assert_eq!(linted.findings.len(), 1);
    assert_eq!(linted.findings[0].line, 4);
    assert!(linted.problems.is_empty());

    // No reason, or a waiver of nothing: problems.
    let text = "-- hop: phase=online\n-- hop: allow delete\nDELETE FROM t;\n\
                -- hop: allow drop because old\nALTER TABLE t ADD COLUMN c text;\n";
    let statements = split_statements(text, LITE).unwrap();
    let linted = lint_online(text, &statements, LITE, &history(LITE));
    assert_eq!(linted.problems.len(), 2, "{:?}", linted.problems);
    assert_eq!(linted.findings.len(), 1);
}
