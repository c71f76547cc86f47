//! A rehearsal whose copy goes into a private PostgreSQL cluster (what
//! hop does when the live server's disk has no room for a copy; asked
//! for here with --scratch-cluster): the migrations run on the live
//! data in a cluster made with the server's own initdb, the live server
//! holds no scratch database at any time, and nothing of the cluster is
//! left afterwards, also when a rehearsal was killed with its cluster
//! running.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{assert_refused, hop, sandbox_with};
use hop_testdata::sandbox::{Sandbox, SandboxOptions};
use serde_json::Value;

const ROWS: u64 = 100_000;

/// The host's /var/tmp, as a real host has it (root's, sticky, 1777).
fn var_tmp(host: &Sandbox) -> PathBuf {
    let dir = host.root.join("var/tmp");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
    dir
}

/// Private cluster directories under `dir`.
fn clusters(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("hop-rehearsal-")
        })
        .collect()
}

/// Command lines of running processes that name a cluster under `dir`
/// (its server: `postgres -D DIR/hop-rehearsal-…/data`).
fn cluster_servers(dir: &Path) -> Vec<String> {
    let needle = format!("{}/hop-rehearsal-", dir.display());
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(&needle))
        .collect()
}

/// Scratch databases on the live server.
fn scratch_databases() -> Vec<String> {
    let out = std::process::Command::new("psql")
        .args(["-h", "/var/run/postgresql", "-d", "postgres", "-tAc"])
        .arg("SELECT datname FROM pg_database WHERE datname LIKE 'hop\\_scratch\\_%\\_rehearse'")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Starts `rehearse --scratch-cluster` and kills it (SIGKILL) once its
/// cluster's server runs; returns the cluster's directory.
fn kill_with_its_cluster_running(host: &Sandbox, pkg: &str, tmp: &Path) -> PathBuf {
    let args = ["rehearse", pkg, "--scratch-cluster"];
    common::kill_once_ready(host, &args, "the cluster's start", |pid| {
        let dir = tmp.join(format!("hop-rehearsal-{pid}"));
        // Its socket: the server is up (initdb's bootstrap has none).
        dir.join(".s.PGSQL.5432").exists().then_some(dir)
    })
}

#[test]
fn a_private_cluster_takes_the_copy_and_leaves_nothing_behind() {
    let host = sandbox_with("rehearse-cluster", &SandboxOptions::postgresql());
    let last = 1_000 + ROWS - 1;
    host.sql(&format!(
        "INSERT INTO events (id, deployment_id, message) \
         SELECT g, 1, 'event ' || g FROM generate_series(1000, {last}) g"
    ))
    .unwrap();
    let tmp = var_tmp(&host);
    let pkg = common::rewriting_package();
    let live_before = host.database_snapshot().unwrap();

    // Killed with its cluster running: the cluster outlives it.
    let leftover = kill_with_its_cluster_running(&host, &pkg, &tmp);
    assert!(leftover.is_dir());
    assert!(
        !cluster_servers(&tmp).is_empty(),
        "the killed rehearsal's cluster should still run"
    );

    // The next rehearsal stops and removes it, says so, and rehearses in
    // a cluster of its own.
    let run = hop(&host, &["rehearse", &pkg, "--scratch-cluster", "--json"]);
    run.assert_code(0);
    run.assert_stderr(&format!("note: dropped {}", leftover.display()));
    let r: Value = serde_json::from_str(&run.stdout).unwrap();
    let copy_in = r["copy_in"].as_str().unwrap();
    assert!(
        copy_in.starts_with("a private PostgreSQL ")
            && copy_in.contains(&tmp.display().to_string()),
        "{copy_in}"
    );
    let rewrite = r["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["file"] == "0012_rename_events_message.sql")
        .unwrap();
    assert!(rewrite["rows"].as_u64().unwrap() >= ROWS, "{rewrite}");
    assert!(r["restore_ms"].as_u64().unwrap() > 0);
    assert!(r["prediction"]["window_ms"].as_u64().unwrap() > 0);

    // Nothing left: no directory, no server, no marker, nothing on the
    // live server; the live database only read.
    assert_eq!(clusters(&tmp), Vec::<PathBuf>::new());
    assert_eq!(cluster_servers(&tmp), Vec::<String>::new());
    let markers: Vec<_> = std::fs::read_dir(host.root.join("var/lib/hop/rehearsals"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".json") || n.starts_with("cluster-"))
        .collect();
    assert_eq!(markers, Vec::<String>::new());
    assert_eq!(scratch_databases(), Vec::<String>::new());
    assert_eq!(host.database_snapshot().unwrap(), live_before);

    // The text report says where the copy was.
    hop(&host, &["rehearse", &pkg, "--scratch-cluster"])
        .assert_code(0)
        .assert_stdout("in a private PostgreSQL ");

    // A scratch directory other users may change is refused before anything.
    let open = host.root.join("var/open");
    std::fs::create_dir_all(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert_refused(
        &host,
        &[
            "rehearse",
            &pkg,
            "--scratch-cluster",
            "--scratch-dir",
            "/var/open",
        ],
        &["can be changed by users other than root"],
    );
}

#[test]
fn a_private_cluster_is_for_postgresql_only() {
    let host = sandbox_with("rehearse-cluster-sqlite", &SandboxOptions::sqlite());
    assert_refused(
        &host,
        &[
            "rehearse",
            &common::package("4.0.1", "4.1.1"),
            "--scratch-cluster",
        ],
        &["--scratch-cluster is for PostgreSQL; this host's database is sqlite"],
    );
}
