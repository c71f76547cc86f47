//! Tests of the vetting and rewriting of MariaDB's stored code.

use super::*;

fn render(pieces: &[Piece]) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => t.as_str(),
            Piece::Database => "`copy`",
        })
        .collect()
}

fn carried(sql: &str, kind: Kind) -> Result<String, String> {
    rewrite(
        sql,
        "livedb",
        &["otherdb".into(), "information_schema".into()],
        kind,
    )
    .map(|p| render(&p))
}

#[test]
fn names_qualified_by_the_live_database_are_the_copys() {
    let sql = "CREATE DEFINER=`root`@`localhost` TRIGGER tr AFTER UPDATE ON t FOR EACH ROW \
               INSERT INTO livedb.audit_log (x) SELECT `livedb`.`t2`.x FROM `livedb` . t2 \
               WHERE NEW.id = 1 AND note = 'livedb.audit_log' -- livedb.x\n";
    assert_eq!(
        carried(sql, Kind::Trigger).unwrap(),
        "CREATE DEFINER=`root`@`localhost` TRIGGER tr AFTER UPDATE ON t FOR EACH ROW \
         INSERT INTO `copy`.audit_log (x) SELECT `copy`.`t2`.x FROM `copy` . t2 \
         WHERE NEW.id = 1 AND note = 'livedb.audit_log' -- livedb.x\n"
    );
}

#[test]
fn code_naming_another_database_or_building_statements_is_refused() {
    let other = carried(
        "CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW INSERT INTO otherdb.log VALUES (1)",
        Kind::Trigger,
    )
    .unwrap_err();
    assert!(other.contains("names the database otherdb"), "{other}");
    let dynamic = carried(
        "CREATE PROCEDURE p() BEGIN PREPARE s FROM @q; EXECUTE s; END",
        Kind::Procedure,
    )
    .unwrap_err();
    assert!(
        dynamic.contains("builds statements at run time"),
        "{dynamic}"
    );
    // Reading the server's own catalogue is harmless.
    assert!(
        carried(
            "CREATE FUNCTION f() RETURNS INT RETURN (SELECT COUNT(*) FROM information_schema.TABLES)",
            Kind::Function
        )
        .is_ok()
    );
}

#[test]
fn events_are_created_disabled() {
    assert_eq!(
        carried(
            "CREATE EVENT e ON SCHEDULE EVERY 1 MINUTE ON COMPLETION NOT PRESERVE ENABLE DO \
             DELETE FROM livedb.t",
            Kind::Event
        )
        .unwrap(),
        "CREATE EVENT e ON SCHEDULE EVERY 1 MINUTE ON COMPLETION NOT PRESERVE DISABLE DO \
         DELETE FROM `copy`.t"
    );
    assert_eq!(
        carried(
            "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO DELETE FROM t",
            Kind::Event
        )
        .unwrap(),
        "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM t"
    );
}
