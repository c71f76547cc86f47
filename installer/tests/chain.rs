//! Multi-hop upgrades: `path` and `upgrade --to` over directories of
//! packages, on sandbox hosts.

mod common;

use std::path::PathBuf;

use common::*;
use hop_artifact::migration::Backend;
use hop_testdata::sandbox::Sandbox;

fn all_three() -> Vec<String> {
    vec![
        package("4.0.1", "4.1.1"),
        package("4.1.1", "4.2.0"),
        package("4.2.0", "4.3.0"),
    ]
}

on_sqlite_and_postgresql!(a_three_hop_chain_ends_at_the_final_version);

/// `upgrade --dry-run` shows the route and the first hop's plan, says
/// when the later hops are planned, and changes nothing.
#[test]
fn a_dry_run_of_a_chain_shows_its_route_and_changes_nothing() {
    let host = sandbox("chain-dry-run", Backend::Sqlite);
    let dir = packages_dir("chain-dry-run", &all_three());
    let before = host.snapshot();
    let digest = host.tree_digest();
    let run = hop(&host, &["upgrade", "--to", "4.3.0", &dir, "--dry-run"]);
    run.assert_code(0)
        .assert_stdout("route 4.0.1 → 4.1.1 → 4.2.0 → 4.3.0 (dry run: nothing was changed)")
        .assert_stdout("hop 3: 4.2.0 → 4.3.0")
        .assert_stdout("plan for manager 4.0.1 → 4.1.1")
        .assert_stdout("then hops 2–3: each is planned and checked as it starts");
    assert_eq!(host.snapshot(), before, "a dry run changed the host");
    assert_same_tree(&digest, &host.tree_digest());
}

fn a_three_hop_chain_ends_at_the_final_version(backend: Backend) {
    let host = sandbox("chain", backend);
    let dir = packages_dir(&format!("chain-{backend}"), &all_three());
    let path = hop(&host, &["path", "--to", "4.3.0", &dir]);
    path.assert_code(0)
        .assert_stdout("3 hop(s) from 4.0.1 to 4.3.0");

    let run = hop(&host, &["upgrade", "--to", "4.3.0", &dir]);
    run.assert_code(0)
        .assert_stdout("chain 4.0.1 → 4.3.0: 3 hop(s)");
    // The chain's downtime as each hop's report tells it: as clients saw
    // it, then until every service had settled (each hop's 2 s settle).
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("chain "))
        .unwrap();
    let seconds: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.trim_end_matches(',').strip_suffix('s')?.parse().ok())
        .collect();
    let [_, seen, settled] = seconds[..] else {
        panic!("{line}");
    };
    assert!(
        line.contains("of downtime in all as clients saw it"),
        "{line}"
    );
    assert!(seen < settled && settled >= 6.0, "{line}");
    for hop_title in [
        "4.0.1 → 4.1.1: upgraded",
        "4.1.1 → 4.2.0: upgraded",
        "4.2.0 → 4.3.0: upgraded",
    ] {
        run.assert_stdout(hop_title);
    }
    assert_runs_release(&host, "4.3.0");
    assert_rows(
        &host,
        &[
            ("SELECT COUNT(*) FROM hop_schema_history WHERE success", 14),
            ("SELECT COUNT(*) FROM hop_schema_history", 14),
            (
                "SELECT COUNT(*) FROM deployments WHERE status = 'active'",
                40,
            ),
            ("SELECT COUNT(*) FROM events WHERE level = 'info'", 120),
            ("SELECT COUNT(*) FROM plugins", 1),
        ],
    );
    hop(&host, &["history"])
        .assert_code(0)
        .assert_stdout("4.2.0 → 4.3.0");
    hop(&host, &["status"])
        .assert_code(0)
        .assert_stdout("manager 4.3.0");

    // Run again, the upgrade has nothing to do (exit 0, as a replayed
    // apply) and changes nothing; an older target is refused as a
    // downgrade, not blamed on a missing package.
    let tree = || {
        let mut t = host.tree_digest();
        t.remove("var/lib/hop/lock.holder");
        t
    };
    let before = (host.snapshot(), tree());
    hop(&host, &["upgrade", "--to", "4.3.0", &dir])
        .assert_code(0)
        .assert_stdout("this host already runs 4.3.0: nothing to do");
    assert_eq!(host.snapshot(), before.0, "a rerun changed the host");
    assert_same_tree(&before.1, &tree());
    assert_refused(
        &host,
        &["upgrade", "--to", "4.1.1", &dir],
        &[
            "4.1.1 is older than the version this host runs",
            "hop-install rollback",
        ],
    );
}

#[test]
fn a_corrupt_package_in_the_middle_is_refused_before_any_change() {
    let host = sandbox("chain-corrupt", Backend::Sqlite);
    let corrupt = fixtures()
        .scratch("corrupt-middle")
        .unwrap()
        .join("manager-4.1.1-to-4.2.0.hop");
    let mut bytes = std::fs::read(package("4.1.1", "4.2.0")).unwrap();
    let at = bytes.len() - 2000; // inside the last RPM
    bytes[at] ^= 0x01;
    std::fs::write(&corrupt, bytes).unwrap();
    let dir = packages_dir(
        "corrupt",
        &[
            package("4.0.1", "4.1.1"),
            corrupt.display().to_string(),
            package("4.2.0", "4.3.0"),
        ],
    );
    hop(&host, &["status"]).assert_code(0);
    let (tree, before) = (host.tree_digest(), host.snapshot());
    hop(&host, &["upgrade", "--to", "4.3.0", &dir])
        .assert_code(2)
        .assert_stderr(
            "manager-4.1.1-to-4.2.0.hop (the hop 4.1.1 → 4.2.0) is refused before anything changed",
        )
        .assert_stderr("damaged or altered");
    assert_same_tree(&tree, &host.tree_digest());
    assert_eq!(host.snapshot(), before);
}

#[test]
fn a_missing_hop_is_named_by_path_and_upgrade() {
    let host = sandbox("chain-missing", Backend::Sqlite);
    let dir = packages_dir(
        "missing",
        &[package("4.0.1", "4.1.1"), package("4.2.0", "4.3.0")],
    );
    let before = host.snapshot();
    for verb in ["path", "upgrade"] {
        hop(&host, &[verb, "--to", "4.3.0", &dir])
            .assert_code(2)
            .assert_stderr("no route from 4.0.1 to 4.3.0")
            .assert_stderr("no package upgrades 4.1.1 → 4.2.0: that hop is missing");
    }
    assert_eq!(host.snapshot(), before);
}

#[test]
fn a_hop_failing_in_the_middle_leaves_the_host_at_the_previous_good_version() {
    let host = sandbox("chain-fails", Backend::Postgresql);
    let name = "chain-fails";
    let dir_of_variant = fixtures().dir().join(format!("scratch/variant-{name}"));
    let bad = variant_of(
        name,
        ("4.1.1", "4.2.0"),
        |d| {
            let migrations = d.join("migrations");
            hop_testdata::product::write_migrations("4.2.0", &migrations).unwrap();
            std::fs::write(
                migrations.join("0022_reindex_events.sql"),
                "-- hop: phase=offline\nUPDATE deployments SET name = name;\nINSERT INTO deployments (id, name, created_at) VALUES (1, 'duplicate', '2026-01-01');\n",
            )
            .unwrap();
            let _ = std::fs::remove_file(migrations.join("mariadb/0022_reindex_events.sql"));
        },
        |m| {
            replace(
                m,
                "migrations: release/4.2.0/migrations/",
                &format!("migrations: {}/migrations", dir_of_variant.display()),
            )
        },
        &fixtures().vendor_key(),
    );
    let renamed = PathBuf::from(&bad).with_file_name("manager-4.1.1-to-4.2.0.hop");
    std::fs::rename(&bad, &renamed).unwrap();
    let dir = packages_dir(
        "fails",
        &[
            package("4.0.1", "4.1.1"),
            renamed.display().to_string(),
            package("4.2.0", "4.3.0"),
        ],
    );
    let run = hop(&host, &["upgrade", "--to", "4.3.0", &dir]);
    run.assert_code(1)
        .assert_stderr("0022_reindex_events.sql")
        .assert_stderr("the host runs 4.1.1, the last good version")
        .assert_stderr(
            "packages not applied: manager-4.1.1-to-4.2.0.hop, manager-4.2.0-to-4.3.0.hop",
        );
    assert_eq!(host.service_versions()[0].1.as_deref(), Some("4.1.1"));
    assert_eq!(
        host.rpms(),
        [
            "cli-4.1.1-1.noarch",
            "manager-common-4.1.1-1.noarch",
            "mgmtworker-4.1.1-1.noarch",
            "rest-service-4.1.1-1.noarch",
            "sandbox-base-1.0-1.noarch"
        ]
    );
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM hop_schema_history")
            .unwrap(),
        7
    );
    let status = hop(&host, &["status"]);
    status
        .assert_stdout("manager 4.1.1")
        .assert_stdout("unfinished operation: none");
    assert!(
        !status.stdout.contains("UPGRADE IN PROGRESS"),
        "{}",
        status.stdout
    );
}

/// A direct 4.0.1 → 4.2.0 package, built from the 4.1.1 → 4.2.0 manifest.
fn direct_package() -> String {
    variant_of(
        "direct",
        ("4.1.1", "4.2.0"),
        |_| {},
        |m| {
            let m = replace(m, "from: 4.1.1", "from: 4.0.1");
            let m = replace(m, "from_last_migration: 15", "from_last_migration: 5");
            let m = replace(
                m,
                "from_source: release/4.1.1/configs/rest.yaml",
                "from_source: release/4.0.1/configs/rest.yaml",
            );
            replace(
                m,
                "from_source: release/4.1.1/configs/mgmtworker.yaml",
                "from_source: release/4.0.1/configs/mgmtworker.yaml",
            )
        },
        &fixtures().vendor_key(),
    )
}

#[test]
fn the_fewest_hops_route_is_chosen_and_dot_shows_it() {
    let host = sandbox("chain-direct", Backend::Sqlite);
    let direct = direct_package();
    let direct_named = PathBuf::from(&direct).with_file_name("manager-4.0.1-to-4.2.0.hop");
    std::fs::rename(&direct, &direct_named).unwrap();
    let dir = packages_dir(
        "direct",
        &[
            package("4.0.1", "4.1.1"),
            package("4.1.1", "4.2.0"),
            direct_named.display().to_string(),
        ],
    );

    hop(&host, &["path", "--to", "4.2.0", &dir])
        .assert_code(0)
        .assert_stdout("1 hop(s) from 4.0.1 to 4.2.0")
        .assert_stdout("manager-4.0.1-to-4.2.0.hop");
    let dot = hop(&host, &["path", "--to", "4.2.0", &dir, "--dot"]);
    dot.assert_code(0)
        .assert_stdout("\"4.0.1\" -> \"4.2.0\" [label=\"manager-4.0.1-to-4.2.0.hop\", color=red, penwidth=3]")
        .assert_stdout("\"4.0.1\" -> \"4.1.1\" [label=\"manager-4.0.1-to-4.1.1.hop\", color=gray50, style=dashed]");
    let json = hop(&host, &["path", "--to", "4.2.0", &dir, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["route"].as_array().unwrap().len(), 1);

    hop(&host, &["upgrade", "--to", "4.2.0", &dir])
        .assert_code(0)
        .assert_stdout("chain 4.0.1 → 4.2.0: 1 hop(s)");
    assert_eq!(host.service_versions()[1].1.as_deref(), Some("4.2.0"));
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM hop_schema_history WHERE hop = '4.0.1→4.2.0'")
            .unwrap(),
        8
    );
}

#[test]
fn a_kill_during_the_second_hop_then_resume_finishes_the_chain() {
    // Killed before the second hop's changes were complete: resume puts
    // that hop back, applies it again, and carries on.
    let host = sandbox("chain-kill-early", Backend::Sqlite);
    let dir = packages_dir("kill-early", &all_three());
    kill_upgrade(&host, &dir, "install_rpms.mid:4.2.0");
    hop(&host, &["status"])
        .assert_stdout("UNFINISHED: manager 4.1.1 → 4.2.0")
        .assert_stdout("UPGRADE IN PROGRESS to 4.3.0");
    let run = hop(&host, &["resume"]);
    run.assert_code(0)
        .assert_stdout("chain 4.1.1 → 4.3.0: 2 hop(s)");
    assert_eq!(host.service_versions()[0].1.as_deref(), Some("4.3.0"));
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM hop_schema_history WHERE success")
            .unwrap(),
        14
    );
}

#[test]
fn a_kill_after_the_second_hops_changes_then_resume_finishes_the_chain() {
    let host = sandbox("chain-kill-late", Backend::Postgresql);
    let dir = packages_dir("kill-late", &all_three());
    kill_upgrade(&host, &dir, "post_migrations.mid:4.2.0");
    let run = hop(&host, &["resume"]);
    run.assert_code(0)
        .assert_stdout("4.1.1 → 4.2.0: upgraded")
        .assert_stdout("4.2.0 → 4.3.0: upgraded");
    assert_eq!(host.service_versions()[0].1.as_deref(), Some("4.3.0"));
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM events WHERE level = 'info'")
            .unwrap(),
        120
    );
}

#[test]
fn apply_refuses_the_next_hop_while_the_previous_post_migrations_are_unfinished() {
    let host = killed_host("post-unfinished", Backend::Sqlite, "post_migrations.mid");
    let db = hop(&host, &["db", "status"]);
    db.assert_code(0);
    let backfill = db
        .stdout
        .lines()
        .find(|l| l.starts_with("0015_backfill_deployments_status.sql"))
        .unwrap_or_else(|| panic!("db status lists the post backfill:\n{}", db.stdout));
    assert!(
        backfill.contains("in progress") || backfill.contains("pending"),
        "the killed post migration is unfinished: {backfill}"
    );
    assert_refused(
        &host,
        &["apply", &package("4.1.1", "4.2.0")],
        &[
            "the post migrations of manager 4.0.1 → 4.1.1 did not finish; run `hop-install resume` to finish them",
        ],
    );
    hop(&host, &["resume"]).assert_code(0);
    hop(&host, &["db", "status"])
        .assert_code(0)
        .assert_stdout("0 pending");
    hop(&host, &["apply", &package("4.1.1", "4.2.0")]).assert_code(0);
}

/// Runs `upgrade --to 4.3.0 DIR` and kills it (SIGKILL) at `point`.
fn kill_upgrade(host: &Sandbox, dir: &str, point: &str) {
    let killed = hop_env(
        host,
        &["upgrade", "--to", "4.3.0", dir],
        &[("HOP_FAULT", &format!("kill@{point}"))],
    );
    assert_eq!(killed.code, -1, "not killed at {point}: {}", killed.stderr);
}
