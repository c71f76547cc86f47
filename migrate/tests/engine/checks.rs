//! A vendor check's query on each database: one statement only, nothing
//! written, stopped at its timeout.

use std::time::{Duration, Instant};

use hop_artifact::migration::Backend;

use super::{database, migrator};

#[test]
fn a_check_runs_one_reading_statement_within_its_timeout_on_every_database() {
    for backend in [Backend::Postgresql, Backend::Mariadb, Backend::Sqlite] {
        let db = database(backend);
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            .unwrap();
        db.execute("INSERT INTO t VALUES (1)").unwrap();
        db.execute("INSERT INTO t VALUES (2)").unwrap();
        let mut m = migrator(&db);
        let rows = m
            .run_check("SELECT id FROM t ORDER BY id", Duration::from_secs(5))
            .unwrap();
        assert_eq!(rows, [[Some("1".into())], [Some("2".into())]], "{backend}");

        // Each is refused before it runs, and the rows stay.
        for sql in [
            "SELECT 1; DELETE FROM t",
            "DELETE FROM t",
            "SELECT 1; COMMIT; DELETE FROM t",
        ] {
            let err = m.run_check(sql, Duration::from_secs(5)).unwrap_err();
            assert!(
                err.to_string().contains("vetting the check's query"),
                "{backend} {sql}: {err}"
            );
        }
        assert_eq!(
            db.query_i64("SELECT COUNT(*) FROM t").unwrap(),
            2,
            "{backend}"
        );

        let slow = match backend {
            Backend::Postgresql => "SELECT pg_sleep(20)",
            Backend::Mariadb => "SELECT SLEEP(20) FROM t",
            Backend::Sqlite => {
                "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g) SELECT COUNT(*) FROM g"
            }
        };
        let begun = Instant::now();
        let result = m.run_check(slow, Duration::from_secs(1));
        assert!(
            begun.elapsed() < Duration::from_secs(6),
            "{backend}: the query ran {:?} under a 1s timeout ({result:?})",
            begun.elapsed()
        );
        assert!(result.is_err(), "{backend}: {result:?}");
        // The connection is usable afterwards, and reads were not left read-only.
        m.run_check("SELECT id FROM t", Duration::from_secs(5))
            .unwrap();
    }
}
