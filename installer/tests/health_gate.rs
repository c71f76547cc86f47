//! The health gate means healthy: a service counts once its probe has
//! passed for its settle time while the service manager shows the same
//! process running. A release that passes one probe and dies a moment
//! later is rolled back; the report says how long each service took.

mod common;

use common::*;
use hop_artifact::migration::Backend;

/// The 4.0.1 → 4.1.1 hop with rest-service's settle time at 5 s: longer
/// than the 0.3–3 s the demo service's crash fault waits.
fn settle_5s_package() -> String {
    variant(
        "settle-5s",
        |_| {},
        |m| {
            replace(
                m,
                "health: {http: \"http://127.0.0.1:8101/readyz\", timeout: 60s, settle: 2s}",
                "health: {http: \"http://127.0.0.1:8101/readyz\", timeout: 60s, settle: 5s}",
            )
        },
    )
}

#[test]
fn a_release_that_dies_after_its_first_good_probe_is_rolled_back() {
    let host = sandbox("crash-after-ready", Backend::Sqlite);
    // The new version SIGKILLs itself 0.3–3 s after its first ready
    // answer, each time supervisord starts it again.
    std::fs::write(host.root.join("etc/manager/crash-after-ready-4.1.1"), "").unwrap();
    let before = host.snapshot();
    let run = hop(&host, &["apply", &settle_5s_package()]);
    run.assert_code(1)
        .assert_stderr("\"health gate\" failed")
        .assert_stderr("rest-service is not healthy")
        .assert_stderr("after its first healthy answer")
        .assert_stderr("rolled back");
    assert_eq!(host.snapshot(), before, "the host is not back at 4.0.1");
    hop(&host, &["status"])
        .assert_code(0)
        .assert_stdout("manager 4.0.1")
        .assert_stdout("unfinished operation: none");
    // The services were down from the apply's stop until the rollback's
    // health check passed (4.0.1 settles for 2 s): history says so.
    let lines = history(&host);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["outcome"], "rolled back");
    let down = lines[0]["downtime_ms"].as_u64();
    assert!(down.is_some_and(|d| d >= 2000), "{:?}", lines[0]);
}

/// The lines of `history --json`.
fn history(host: &hop_testdata::sandbox::Sandbox) -> Vec<serde_json::Value> {
    let run = hop(host, &["history", "--json"]);
    run.assert_code(0);
    let lines: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    lines.as_array().unwrap().clone()
}

#[test]
fn history_tells_a_rollbacks_own_downtime_apart_from_its_applys() {
    let host = sandbox("rollback-downtime", Backend::Sqlite);
    // 4.1.1 settles for 5 s, 4.0.1 for 2: the apply's window is longer
    // than the whole rollback.
    let run = hop(&host, &["apply", &settle_5s_package(), "--json"]);
    run.assert_code(0);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let applied = report["downtime_ms"].as_u64().unwrap();
    assert!(applied >= 5000, "{applied}");
    let started = std::time::Instant::now();
    hop(&host, &["rollback", "--yes"]).assert_code(0);
    let took = started.elapsed().as_millis() as u64;
    let lines = history(&host);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["outcome"], "upgraded");
    assert_eq!(lines[0]["downtime_ms"].as_u64(), Some(applied));
    assert_eq!(lines[1]["outcome"], "rolled back");
    // The rollback's own stop → its health check passed (4.0.1 settles
    // for 2 s), within the time the command took: not the apply's window.
    let rolled = lines[1]["downtime_ms"].as_u64().unwrap();
    assert!(
        (2000..=took).contains(&rolled),
        "rollback down {rolled} ms, took {took} ms"
    );
    let table = hop(&host, &["history"]);
    let row = table
        .stdout
        .lines()
        .find(|l| l.contains("rolled back"))
        .unwrap();
    let shown = format!("{:.3}s", rolled as f64 / 1000.0);
    assert!(row.contains(&shown), "{row} (wanted {shown})");
}

#[test]
fn the_report_says_when_each_service_answered_and_settled() {
    let host = sandbox("settle-report", Backend::Sqlite);
    let run = hop(&host, &["apply", &package("4.0.1", "4.1.1"), "--json"]);
    run.assert_code(0);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let health = report["health"].as_array().unwrap();
    assert_eq!(health.len(), 2, "{}", run.stdout);
    for h in health {
        let (first, settled) = (
            h["healthy_ms"].as_u64().unwrap(),
            h["settled_ms"].as_u64().unwrap(),
        );
        // The manifests settle for 2 s.
        assert!(settled >= first + 2000, "{h}");
    }
    let served = report["served_again_ms"].as_u64().unwrap();
    let downtime = report["downtime_ms"].as_u64().unwrap();
    assert!(
        served + 2000 <= downtime,
        "served again {served} ms, gate passed {downtime} ms"
    );
}

#[test]
fn a_service_that_exits_at_start_is_named_with_its_own_last_words() {
    let host = sandbox("exit-at-start", Backend::Sqlite);
    std::fs::write(host.root.join("etc/manager/exit-at-start-4.1.1"), "").unwrap();
    let before = host.snapshot();
    let run = hop(&host, &["apply", &package("4.0.1", "4.1.1")]);
    run.assert_code(1)
        .assert_stderr("is not healthy: it does not start")
        .assert_stderr("last lines of its output")
        // The program's own line, from supervisord's log of it.
        .assert_stderr("4.1.1: cannot start: the fault file exit-at-start-4.1.1 is there");
    assert_eq!(host.snapshot(), before, "the host is not back at 4.0.1");
}
