//! `hop-build verify` accepts a good package and refuses every damaged or
//! crafted one with exit 2 and a message naming the problem.

mod common;

use std::path::{Path, PathBuf};

use common::{fixtures, hop_build};
use hop_testdata::craft::{flip_positions, hostile_packages};

fn verify(package: &Path) -> (i32, String, String) {
    let key = fixtures().vendor_key().public;
    let run = hop_build(&["verify", path(package), "--key", path(&key)]);
    (run.code, run.stdout, run.stderr)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn untrusted_package() -> PathBuf {
    let f = fixtures();
    let out = f.dir().join("untrusted.hop");
    if !out.exists() {
        f.build(&f.manifest("4.0.1", "4.1.1"), &f.key("intruder"), &out)
            .unwrap();
    }
    out
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
fn refuses_each_crafted_package_naming_the_problem() {
    let good = std::fs::read(fixtures().package("4.0.1", "4.1.1")).unwrap();
    let untrusted = std::fs::read(untrusted_package()).unwrap();
    let dir = fixtures().scratch("crafted-build").unwrap();
    for case in hostile_packages(&good, &untrusted).unwrap() {
        let path = dir.join("case.hop");
        std::fs::write(&path, &case.bytes).unwrap();
        let (code, _, stderr) = verify(&path);
        assert_eq!(
            code, 2,
            "{}: expected exit 2, got {code}\n{stderr}",
            case.name
        );
        assert!(
            stderr.contains(case.expect),
            "{}: {:?} not in\n{stderr}",
            case.name,
            case.expect
        );
    }
}

#[test]
fn refuses_every_single_flipped_byte_in_a_sample_across_the_file() {
    let good = std::fs::read(fixtures().package("4.0.1", "4.1.1")).unwrap();
    let dir = fixtures().scratch("flips-build").unwrap();
    let positions = flip_positions(&good, 60);
    assert!(positions.len() > 100, "only {} positions", positions.len());
    for pos in positions {
        let mut bad = good.clone();
        bad[pos] ^= 0xff;
        let path = dir.join("flipped.hop");
        std::fs::write(&path, &bad).unwrap();
        let (code, _, stderr) = verify(&path);
        assert_eq!(
            code,
            2,
            "flipping byte {pos} of {} was accepted:\n{stderr}",
            good.len()
        );
        assert!(stderr.contains("refused"), "byte {pos}: {stderr}");
    }
}
