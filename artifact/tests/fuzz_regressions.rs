//! Every input in fuzz/regressions/ — crashes the fuzzers found, and
//! hand-made hostile inputs (alias bombs, deep nesting, overflowing numbers,
//! climbing paths) — runs through the fuzzed functions without a panic.
//! `make fuzz` adds any new crash here.

use std::path::Path;

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let mut found: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    found.sort();
    assert!(
        !found.is_empty(),
        "no regression inputs in {}",
        dir.display()
    );
    found
}

#[test]
fn package_manifest_regressions_do_not_panic() {
    for (name, data) in inputs("package_manifest") {
        eprintln!("{name}");
        hop_artifact::fuzzing::package_manifest(&data);
    }
}

#[test]
fn source_manifest_regressions_do_not_panic() {
    for (name, data) in inputs("source_manifest") {
        eprintln!("{name}");
        hop_artifact::fuzzing::source_manifest(&data);
    }
}

#[test]
fn archive_regressions_do_not_panic() {
    for (name, data) in inputs("archive_reader") {
        eprintln!("{name}");
        hop_artifact::fuzzing::archive(&data);
    }
}

#[test]
fn an_alias_bomb_is_refused_quickly_and_cheaply() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions/package_manifest/alias-bomb.yaml");
    let bomb = std::fs::read_to_string(path).unwrap();
    let started = std::time::Instant::now();
    let parsed = hop_artifact::yaml::from_str::<hop_artifact::PackageManifest>(&bomb);
    let err = parsed.expect_err("the alias bomb was accepted");
    eprintln!("{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}
