//! A rehearsal never writes where it must not: not into the live
//! database through a trigger or stored code that names it, and it drops
//! only the scratch databases its own machine left.

mod common;

use common::*;
use hop_artifact::migration::Backend;

/// A MariaDB host whose `events` table has a trigger writing into
/// `target` (a table name, qualified as the trigger's author wrote it).
fn mariadb_host_with_audit_trigger(name: &str, target: &str) -> hop_testdata::sandbox::Sandbox {
    let host = sandbox_with(name, &hop_testdata::sandbox::SandboxOptions::mariadb());
    let live = host.database.as_ref().unwrap().database_url().database();
    let target = target.replace("LIVE", &live);
    host.sql("CREATE TABLE rehearsal_audit (event_id INT, note VARCHAR(40))")
        .unwrap();
    host.sql(&format!(
        "CREATE TRIGGER events_audit AFTER UPDATE ON events FOR EACH ROW \
         INSERT INTO {target} VALUES (NEW.id, 'written by the trigger')"
    ))
    .unwrap();
    host
}

#[test]
fn a_mariadb_rehearsal_never_writes_into_the_live_database_through_a_trigger() {
    let host = mariadb_host_with_audit_trigger("rehearse-trigger", "LIVE.rehearsal_audit");
    let before = host.database_snapshot().unwrap();
    // Its offline migration updates every row of events: the trigger fires
    // in the copy for each.
    let rehearsed = hop(&host, &["rehearse", &rewriting_package(), "--json"]);
    rehearsed.assert_code(0);
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM rehearsal_audit")
            .unwrap(),
        0,
        "the rehearsal wrote into the live database"
    );
    assert_eq!(
        host.database_snapshot().unwrap(),
        before,
        "the live database changed"
    );
    // The copy carried the trigger: the migration fired it there.
    let report: serde_json::Value = serde_json::from_str(&rehearsed.stdout).unwrap();
    let rewrote = report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["file"].as_str().unwrap_or("").starts_with("0012"))
        .map(|m| m["rows"].as_u64().unwrap_or(0));
    assert!(rewrote.unwrap_or(0) >= 120, "{}", rehearsed.stdout);
}

#[test]
fn a_mariadb_rehearsal_refuses_stored_code_that_names_another_database() {
    let host = mariadb_host_with_audit_trigger("rehearse-other-db", "mysql.rehearsal_audit");
    assert_refused(
        &host,
        &["rehearse", &rewriting_package()],
        &[
            "cannot rehearse on a copy",
            "trigger events_audit: it names the database mysql",
        ],
    );
}

fn postgres_databases() -> Vec<String> {
    let out = std::process::Command::new("psql")
        .args(["-h", "/var/run/postgresql", "-d", "postgres", "-tAc"])
        .arg("SELECT datname FROM pg_database")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn psql(sql: &str) {
    let out = std::process::Command::new("psql")
        .args(["-h", "/var/run/postgresql", "-d", "postgres", "-tAc", sql])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_rehearsal_drops_only_its_own_machines_leftover_scratch_databases() {
    let host = sandbox("scratch-owners", Backend::Postgresql);
    let me = hop_migrate::scratch::Owner::this_process();
    let pid = std::process::id();
    // Another machine's rehearsal, running now on the shared server, and
    // one of this machine whose process is gone (its start time is not
    // that of the process now holding the number).
    let theirs = format!("hop_scratch_0badf00d_{pid}_1_0_rehearse");
    let ours_dead = format!("hop_scratch_{}_{pid}_{}_0_rehearse", me.host, me.start + 1);
    for name in [&theirs, &ours_dead] {
        psql(&format!("CREATE DATABASE {name}"));
    }
    hop(&host, &["rehearse", &package("4.0.1", "4.1.1")]).assert_code(0);
    let now = postgres_databases();
    let kept = now.contains(&theirs);
    let dropped = !now.contains(&ours_dead);
    for name in [&theirs, &ours_dead] {
        psql(&format!("DROP DATABASE IF EXISTS {name}"));
    }
    assert!(kept, "another machine's scratch database was dropped");
    assert!(dropped, "this machine's leftover was not dropped");
}
