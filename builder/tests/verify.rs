//! `hop-build verify` accepts a good package and refuses every damaged or
//! crafted one with exit 2 and a message naming the problem.

mod common;

use std::path::Path;

use common::{fixtures, hop_build};
use hop_testdata::refusals::assert_refuses_damaged_packages;

fn verify(package: &Path) -> (i32, String, String) {
    let key = fixtures().vendor_key().public;
    let run = hop_build(&["verify", path(package), "--key", path(&key)]);
    (run.code, run.stdout, run.stderr)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn accepts_the_good_package() {
    let (code, stdout, stderr) = verify(&fixtures().package("4.0.1", "4.1.1"));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("OK manager 4.0.1 → 4.1.1"), "{stdout}");
    assert!(
        stdout.contains(&fixtures().vendor_key().fingerprint),
        "{stdout}"
    );
}

#[test]
fn json_names_the_hop_the_size_and_the_signer() {
    let package = fixtures().package("4.0.1", "4.1.1");
    let key = fixtures().vendor_key().public;
    let out = hop_build(&["verify", path(&package), "--key", path(&key), "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    // The same shape as `hop-install verify --json` (one type in hop-artifact).
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "bytes", "from", "members", "package", "product", "signer", "to"
        ]
    );
    assert_eq!(v["from"], "4.0.1");
    assert_eq!(v["to"], "4.1.1");
    assert_eq!(v["bytes"], std::fs::metadata(&package).unwrap().len());
    assert_eq!(
        v["signer"]["fingerprint"],
        fixtures().vendor_key().fingerprint
    );
}

#[test]
fn refuses_each_crafted_package_and_every_flipped_byte_naming_the_problem() {
    assert_refuses_damaged_packages(fixtures(), "build", verdict);
}

/// What the verifier said of `path`: its exit code and stderr.
fn verdict(path: &Path) -> (i32, String) {
    let (code, _, stderr) = verify(path);
    (code, stderr)
}
