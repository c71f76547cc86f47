//! `hop-install verify` accepts a good package, trusting the host's keys or
//! `--key`, and refuses every damaged or crafted one with exit 2.

use std::path::{Path, PathBuf};
use std::process::Command;

use hop_testdata::fixtures::Fixtures;
use hop_testdata::output::Run;
use hop_testdata::refusals::assert_refuses_damaged_packages;

fn fixtures() -> &'static Fixtures {
    Fixtures::get(env!("CARGO_TARGET_TMPDIR"))
}

fn hop_install(args: &[&str]) -> (i32, String, String) {
    let run = Run::from(
        Command::new(env!("CARGO_BIN_EXE_hop-install"))
            .args(args)
            .output()
            .unwrap(),
    );
    (run.code, run.stdout, run.stderr)
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
    let (code, stdout, stderr) = verify_at(&root, &pkg);
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
    let (code, _, stderr) = verify_at(&root, &pkg);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not trusted"), "{stderr}");
}

#[test]
fn a_package_path_that_is_not_there_is_said_to_be_one() {
    let (code, _, stderr) = verify_with_key(Path::new("/nonexistent/manager.hop"));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("cannot open /nonexistent/manager.hop"),
        "{stderr}"
    );
    assert!(
        stderr.contains("give the path of a .hop package"),
        "{stderr}"
    );
    assert!(!stderr.contains("fetch the package again"), "{stderr}");
}

#[test]
fn refuses_each_crafted_package_and_every_flipped_byte_naming_the_problem() {
    assert_refuses_damaged_packages(fixtures(), "install", verdict);
}

/// What the verifier said of `path`: its exit code and stderr.
fn verdict(path: &Path) -> (i32, String) {
    let (code, _, stderr) = verify_with_key(path);
    (code, stderr)
}

/// `hop-install verify PKG --root ROOT`: with the host's trusted keys.
fn verify_at(root: &Path, package: &Path) -> (i32, String, String) {
    hop_install(&[
        "verify",
        package.to_str().unwrap(),
        "--root",
        root.to_str().unwrap(),
    ])
}
