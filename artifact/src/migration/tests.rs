//! Migration names and headers, accepted and refused.

use super::*;

#[test]
fn parses_names() {
    let name = MigrationName::parse("0007_add_events_kind.sql").unwrap();
    assert_eq!(name.version, 7);
    assert_eq!(name.description, "add_events_kind");
    assert_eq!(name.file_name(), "0007_add_events_kind.sql");
    let up = MigrationName::parse("0002_1.7.0_schema.up.sql").unwrap();
    assert_eq!((up.version, up.description.as_str()), (2, "1.7.0_schema"));
    assert_eq!(up.file_name(), "0002_1.7.0_schema.up.sql");
    let long = MigrationName::parse("000190_add-index.sql").unwrap();
    assert_eq!(long.version, 190);
    assert!(MigrationName::is_down("0002_1.7.0_schema.down.sql"));
    for bad in [
        "0002_1.7.0_schema.down.sql",
        "7_x.sql",
        "0007-x.sql",
        "0007_x.txt",
        "0007_a b.sql",
        "0007_a/b.sql",
        "0000_zero.sql",
        "99999999999_big.sql",
    ] {
        assert!(MigrationName::parse(bad).is_err(), "{bad} was accepted");
    }
}

#[test]
fn parses_headers() {
    let h = MigrationHeader::parse("-- hop: phase=post batch\nUPDATE t SET a=1;").unwrap();
    assert_eq!(h.phase, Phase::Post);
    assert!(h.batch);
    for bad in [
        "CREATE TABLE t(a int);",
        "-- hop: phase=later",
        "-- hop: phase=online batch",
        "-- hop: phase=online fast",
    ] {
        assert!(MigrationHeader::parse(bad).is_err(), "{bad} was accepted");
    }
}

#[test]
fn splits_on_top_level_semicolons_only() {
    let sql = "-- hop: phase=offline\nCREATE TABLE t (a text DEFAULT 'x;y');\n\
               /* ; */ INSERT INTO t VALUES ('a');\n\
               CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n";
    let stmts = split_statements(sql, Backend::Postgresql).unwrap();
    assert_eq!(stmts.len(), 3, "{stmts:#?}");
    assert_eq!(stmts[0].sql, "CREATE TABLE t (a text DEFAULT 'x;y')");
    assert_eq!(stmts[0].line, 2);
    assert_eq!(stmts[1].sql, "INSERT INTO t VALUES ('a')");
    assert_eq!(stmts[1].line, 3);
    assert!(stmts[2].sql.ends_with("LANGUAGE sql"));
}

#[test]
fn keeps_trigger_bodies_whole() {
    let sql = "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 1; DELETE FROM u; END;\nSELECT 1;";
    let stmts = split_statements(sql, Backend::Sqlite).unwrap();
    assert_eq!(stmts.len(), 2, "{stmts:#?}");
    assert!(stmts[0].sql.ends_with("END"));
}

#[test]
fn words_are_upper_cased_with_lines() {
    let stmts = split_statements("alter table t\n  drop column c;", Backend::Sqlite).unwrap();
    assert_eq!(stmts[0].has_sequence(&["DROP", "COLUMN"]), Some(2));
    assert!(stmts[0].starts_with(&["ALTER", "TABLE"]));
}
