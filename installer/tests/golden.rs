//! The whole output of the main verbs, compared with the files in
//! `tests/golden/` (times, sizes, digests, keys and paths normalised):
//! a changed message is a changed file, reviewed in the diff.
//! `HOP_BLESS=1 cargo test --test golden` rewrites them.

mod common;

use std::path::Path;

use common::*;
use hop_artifact::migration::Backend;
use hop_testdata::golden::{Transcript, assert_golden};
use hop_testdata::sandbox::Sandbox;

/// Runs `hop-install ARGS` and compares its exit code, stdout and stderr
/// with `tests/golden/NAME.txt`.
fn golden(host: &Sandbox, name: &str, args: &[&str], dirs: &[(&str, &str)]) -> Run {
    let run = hop(host, args);
    let root = host.root.display().to_string();
    let fixtures = fixtures().dir().display().to_string();
    let mut literals = vec![(root.as_str(), "ROOT"), (fixtures.as_str(), "FIXTURES")];
    literals.extend_from_slice(dirs);
    Transcript {
        program: "hop-install",
        args,
        code: run.code,
        stdout: &run.stdout,
        stderr: &run.stderr,
    }
    .assert_matches(env!("CARGO_MANIFEST_DIR"), name, &literals);
    run
}

#[test]
fn one_hop_its_rollback_and_a_refusal() {
    let host = sandbox("golden-one-hop", Backend::Sqlite);
    let pkg = package("4.0.1", "4.1.1");
    let key = fixtures().vendor_key().public.display().to_string();
    golden(&host, "verify", &["verify", &pkg, "--key", &key], &[]).assert_code(0);
    golden(&host, "check", &["check", &pkg], &[]).assert_code(0);
    golden(&host, "dry-run", &["apply", &pkg, "--dry-run"], &[]).assert_code(0);
    golden(
        &host,
        "refused-wrong-version",
        &["apply", &package("4.1.1", "4.2.0")],
        &[],
    )
    .assert_code(2);
    // The root cause once: the checks that presuppose 4.1.1 are skipped.
    golden(
        &host,
        "check-wrong-version",
        &["check", &package("4.1.1", "4.2.0")],
        &[],
    )
    .assert_code(2);
    golden(&host, "apply", &["apply", &pkg], &[]).assert_code(0);
    // At the package's to version already: nothing to do, exit 0.
    golden(&host, "check-already-there", &["check", &pkg], &[]).assert_code(0);
    golden(&host, "apply-already-there", &["apply", &pkg], &[]).assert_code(0);
    golden(&host, "status", &["status"], &[]).assert_code(0);
    golden(&host, "db-status", &["db", "status"], &[]).assert_code(0);
    golden(&host, "rollback-unconfirmed", &["rollback"], &[]).assert_code(2);
    golden(&host, "rollback", &["rollback", "--yes"], &[]).assert_code(0);
    golden(&host, "history", &["history"], &[]).assert_code(0);
}

#[test]
fn a_chain_of_hops() {
    let host = sandbox("golden-chain", Backend::Sqlite);
    let dir = packages_dir(
        "golden-chain",
        &[
            package("4.0.1", "4.1.1"),
            package("4.1.1", "4.2.0"),
            package("4.2.0", "4.3.0"),
        ],
    );
    let dirs = [(dir.as_str(), "PACKAGES")];
    golden(&host, "path", &["path", "--to", "4.3.0", &dir], &dirs).assert_code(0);
    golden(&host, "upgrade", &["upgrade", "--to", "4.3.0", &dir], &dirs).assert_code(0);
    golden(&host, "resume-nothing", &["resume"], &dirs).assert_code(0);
}

#[test]
fn help_names_every_verb_and_the_exit_codes() {
    let out = std::process::Command::new(HOP_INSTALL)
        .arg("--help")
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_golden(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden"),
        "help.txt",
        &String::from_utf8_lossy(&out.stdout),
    );
}
