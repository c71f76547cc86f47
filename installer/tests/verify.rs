//! `hop-install verify` accepts a good package, trusting the host's keys or
//! `--key`, and refuses every damaged or crafted one with exit 2.

use std::path::{Path, PathBuf};
use std::process::Command;

use hop_testdata::craft::{flip_positions, hostile_packages};
use hop_testdata::fixtures::Fixtures;

fn fixtures() -> &'static Fixtures {
    Fixtures::get(env!("CARGO_TARGET_TMPDIR"))
}

fn hop_install(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hop-install"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn verify_with_key(package: &Path) -> (i32, String, String) {
    let key = fixtures().vendor_key().public;
    hop_install(&[
        "verify",
        package.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ])
}

/// A minimal host root whose trusted_keys directory holds `keys`.
fn host_trusting(name: &str, keys: &[PathBuf]) -> PathBuf {
    let root = fixtures().scratch(name).unwrap();
    std::fs::create_dir_all(root.join("etc/hop/trusted-keys")).unwrap();
    for key in keys {
        std::fs::copy(
            key,
            root.join("etc/hop/trusted-keys")
                .join(key.file_name().unwrap()),
        )
        .unwrap();
    }
    std::fs::write(
        root.join("etc/hop/host.yaml"),
        "product: manager\nversion_from_rpm: rest-service\n\
         database: {url: \"sqlite:///var/lib/manager/db.sqlite\"}\n\
         services: {manager: supervisord, supervisord_conf: /etc/supervisord.conf}\n\
         trusted_keys: /etc/hop/trusted-keys\n",
    )
    .unwrap();
    root
}

#[test]
fn accepts_the_good_package_with_the_hosts_trusted_keys() {
    let root = host_trusting("verify-host", &[fixtures().vendor_key().public]);
    let pkg = fixtures().package("4.0.1", "4.1.1");
    let (code, stdout, stderr) = hop_install(&[
        "verify",
        pkg.to_str().unwrap(),
        "--root",
        root.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("OK manager 4.0.1 → 4.1.1"), "{stdout}");
    assert!(stdout.contains("trusted-keys/vendor.pub.asc"), "{stdout}");
}

#[test]
fn json_names_the_hop_the_size_and_the_signer() {
    let package = fixtures().package("4.0.1", "4.1.1");
    let key = fixtures().vendor_key().public;
    let (code, stdout, stderr) = hop_install(&[
        "verify",
        package.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    // The same shape as `hop-build verify --json` (one type in hop-artifact).
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "bytes", "from", "members", "package", "product", "signer", "to"
        ]
    );
    assert_eq!(v["bytes"], std::fs::metadata(&package).unwrap().len());
    assert_eq!(v["signer"]["key"], key.display().to_string());
}

#[test]
fn refuses_a_package_signed_by_a_key_the_host_does_not_trust() {
    let root = host_trusting("verify-other-key", &[fixtures().key("someone-else").public]);
    let pkg = fixtures().package("4.0.1", "4.1.1");
    let (code, _, stderr) = hop_install(&[
        "verify",
        pkg.to_str().unwrap(),
        "--root",
        root.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not trusted"), "{stderr}");
}

#[test]
fn refuses_each_crafted_package_naming_the_problem() {
    let f = fixtures();
    let good = std::fs::read(f.package("4.0.1", "4.1.1")).unwrap();
    let untrusted_path = f.dir().join("untrusted-install.hop");
    f.build(
        &f.manifest("4.0.1", "4.1.1"),
        &f.key("intruder"),
        &untrusted_path,
    )
    .unwrap();
    let untrusted = std::fs::read(untrusted_path).unwrap();
    let dir = f.scratch("crafted-install").unwrap();
    for case in hostile_packages(&good, &untrusted).unwrap() {
        let path = dir.join("case.hop");
        std::fs::write(&path, &case.bytes).unwrap();
        let (code, _, stderr) = verify_with_key(&path);
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
    let good = std::fs::read(fixtures().package("4.1.1", "4.2.0")).unwrap();
    let dir = fixtures().scratch("flips-install").unwrap();
    for pos in flip_positions(&good, 60) {
        let mut bad = good.clone();
        bad[pos] ^= 0xff;
        let path = dir.join("flipped.hop");
        std::fs::write(&path, &bad).unwrap();
        let (code, _, stderr) = verify_with_key(&path);
        assert_eq!(code, 2, "flipping byte {pos} was accepted:\n{stderr}");
    }
}
