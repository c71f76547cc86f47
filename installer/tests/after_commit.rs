//! Recovery after the point of no return, and the journal's own safety:
//! once a hop commits, users write on the new version and nothing but
//! `rollback --yes` may restore the old data; a journal write that fails
//! stops hop before any undo; a rollback interrupted by a crash continues
//! where its journal says; a damaged journal is refused, not guessed at;
//! and each verb's exit code keeps the contract.

mod common;

use common::*;
use hop_artifact::migration::Backend;

#[test]
fn ctrl_c_during_post_migrations_keeps_every_write_made_after_commit() {
    let host = sandbox("post-sigint", Backend::Postgresql);
    let initial = host.snapshot();
    let child = spawn_apply(&host, "pause@post_migrations.begin");
    wait_for_step(&host, "post_migrations");
    // A user of the new version writes while the post migrations run.
    host.sql("CREATE TABLE notes (body text); INSERT INTO notes VALUES ('written on 4.1.1');")
        .unwrap();
    interrupt(&child);
    let run = finish(child);
    run.assert_code(3)
        .assert_stderr("interrupted by the operator")
        .assert_stderr("is committed")
        .assert_stderr("hop-install resume");
    let notes = || host.query_i64("SELECT COUNT(*) FROM notes").unwrap();
    assert_eq!(notes(), 1, "a write made after commit was lost");
    assert_eq!(host.service_versions()[0].1.as_deref(), Some("4.1.1"));

    hop(&host, &["resume"]).assert_code(0);
    assert_eq!(notes(), 1);
    host.sql("DROP TABLE notes").unwrap();
    assert_eq!(assert_consistent(&host, &initial), "4.1.1");
}

#[test]
fn a_failed_journal_write_stops_hop_before_any_undo() {
    let host = sandbox("journal-write", Backend::Sqlite);
    let initial = host.snapshot();
    let run = apply_with_fault(&host, "fail@health_gate.begin,fail@journal.rolling_back");
    run.assert_code(3)
        .assert_stderr("hop stopped before acting without a record of it")
        .assert_stderr("hop-install resume");
    // Nothing was undone: the new version is in place, as the journal says.
    let journal = only_journal(&host);
    assert!(journal.contains("\"phase\": \"forward\""), "{journal}");
    assert!(!journal.contains("\"rollback\": {"), "{journal}");
    assert!(
        host.rpms()
            .iter()
            .filter(|r| !r.starts_with("sandbox-base"))
            .all(|r| r.contains("-4.1.1-")),
        "{:?}",
        host.rpms()
    );
    // `resume` follows the journal forward; the health gate passes now.
    hop(&host, &["resume"]).assert_code(0);
    assert_eq!(assert_consistent(&host, &initial), "4.1.1");
}

#[test]
fn a_crash_during_a_rollback_continues_with_the_undo_the_journal_names() {
    let host = sandbox("rollback-progress", Backend::Postgresql);
    let initial = host.snapshot();
    let killed = apply_with_fault(&host, "fail@health_gate.begin,kill@rollback.mid");
    assert_eq!(killed.code, -1, "{}", killed.stderr);
    let journal = only_journal(&host);
    assert!(journal.contains("\"phase\": \"rolling_back\""), "{journal}");
    assert!(journal.contains("\"restore_rpms\""), "{journal}");
    let resumed = hop(&host, &["resume"]);
    resumed.assert_code(1);
    assert!(
        !resumed.stderr.contains("restoring RPMs") && !resumed.stderr.contains("restoring configs"),
        "undos done before the crash ran again:\n{}",
        resumed.stderr
    );
    resumed.assert_stderr("restoring the database");
    assert_eq!(assert_consistent(&host, &initial), "4.0.1");
}

#[test]
fn a_damaged_journal_is_refused_with_a_message_and_changes_nothing() {
    let host = killed_host("damaged-journal", Backend::Sqlite, "deploy_configs.mid");
    let path = journal_path(&host);
    let good = std::fs::read_to_string(&path).unwrap();
    let mut journal: serde_json::Value = serde_json::from_str(&good).unwrap();
    journal["steps"].as_array_mut().unwrap().truncate(5);
    std::fs::write(&path, serde_json::to_vec(&journal).unwrap()).unwrap();
    let tree = host.tree_digest();
    for verb in ["status", "resume", "rollback"] {
        hop(&host, &[verb])
            .assert_code(2)
            .assert_stderr("is damaged")
            .assert_stderr("lists 5 step(s)");
    }
    std::fs::write(&path, "{ not json").unwrap();
    hop(&host, &["resume"])
        .assert_code(2)
        .assert_stderr("is damaged");
    std::fs::write(&path, &good).unwrap();
    // The killed run's lock.holder goes with the first lock taken after it.
    let unchanged = |p: &String| !p.ends_with("journal.json") && !p.ends_with("lock.holder");
    let mut after = host.tree_digest();
    after.retain(|p, _| unchanged(p));
    let mut before = tree;
    before.retain(|p, _| unchanged(p));
    assert_same_tree(&before, &after);
    hop(&host, &["resume"]).assert_code(1);
}

#[test]
fn a_refusal_after_the_chain_changed_the_host_is_not_exit_2() {
    let host = sandbox("chain-codes", Backend::Sqlite);
    // The second hop needs a SQLite newer than any: its preflight refuses,
    // but only once the first hop is done.
    let second = variant_of(
        "codes-second",
        ("4.1.1", "4.2.0"),
        |_| {},
        |m| replace(m, "sqlite: \"3.35\"", "sqlite: \"99.0\""),
        &fixtures().vendor_key(),
    );
    let dir = fixtures().scratch("codes-packages").unwrap();
    std::fs::copy(package("4.0.1", "4.1.1"), dir.join("a.hop")).unwrap();
    std::fs::copy(&second, dir.join("b.hop")).unwrap();
    let run = hop(
        &host,
        &["upgrade", "--to", "4.2.0", &dir.display().to_string()],
    );
    run.assert_code(1)
        .assert_stderr("is older than 99.0, the oldest this package supports")
        .assert_stderr("the host runs 4.1.1, the last good version");
    assert_eq!(host.service_versions()[0].1.as_deref(), Some("4.1.1"));

    // The same refusal before any change is exit 2 and changes nothing.
    let fresh = sandbox("chain-codes-fresh", Backend::Sqlite);
    let tree = fresh.tree_digest();
    let dir = fixtures().scratch("codes-first").unwrap();
    std::fs::copy(&second, dir.join("b.hop")).unwrap();
    let first = variant_of(
        "codes-first",
        ("4.0.1", "4.1.1"),
        |_| {},
        |m| replace(m, "sqlite: \"3.35\"", "sqlite: \"99.0\""),
        &fixtures().vendor_key(),
    );
    std::fs::copy(&first, dir.join("a.hop")).unwrap();
    fresh_run(&fresh, &dir).assert_code(2);
    assert_same_tree(&tree, &fresh.tree_digest());
}

fn fresh_run(host: &hop_testdata::sandbox::Sandbox, dir: &std::path::Path) -> Run {
    hop(
        host,
        &["upgrade", "--to", "4.2.0", &dir.display().to_string()],
    )
}

#[test]
fn rollback_of_a_committed_hop_says_what_would_be_lost_and_needs_yes() {
    let host = sandbox("committed-rollback", Backend::Sqlite);
    let initial = host.snapshot();
    apply_with_fault(&host, "fail@post_migrations.begin").assert_code(3);
    let before = host.tree_digest();
    hop(&host, &["rollback"])
        .assert_code(2)
        .assert_stderr("committed (its post migrations did not finish)")
        .assert_stderr("every change made to the database since then is lost")
        .assert_stderr("hop-install resume");
    let mut after = host.tree_digest();
    after.retain(|p, _| !p.starts_with("var/lib/hop/operations/"));
    let mut before = before;
    before.retain(|p, _| !p.starts_with("var/lib/hop/operations/"));
    assert_same_tree(&before, &after);
    hop(&host, &["rollback", "--yes"]).assert_code(0);
    assert_eq!(assert_consistent(&host, &initial), "4.0.1");
}

fn journal_path(host: &hop_testdata::sandbox::Sandbox) -> std::path::PathBuf {
    let ops = host.root.join("var/lib/hop/operations");
    let mut dirs: Vec<_> = std::fs::read_dir(ops)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    dirs.pop().unwrap().join("journal.json")
}

fn only_journal(host: &hop_testdata::sandbox::Sandbox) -> String {
    std::fs::read_to_string(journal_path(host)).unwrap()
}
