//! `hop-build build`, `keygen` and `inspect` on the demo product: what a
//! release engineer relies on.

use std::path::Path;
use std::process::Command;

mod common;

use common::{Run, fixtures, hop_build};
use hop_testdata::fixtures::{require_tool, run, run_ok};

fn build_demo(from: &str, to: &str, out: &Path) -> Run {
    let f = fixtures();
    let manifest = f.manifest(from, to);
    let key = f.vendor_key();
    hop_build(&[
        "build",
        manifest.to_str().unwrap(),
        "--key",
        key.secret.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ])
}

#[test]
fn two_builds_of_each_demo_hop_are_byte_identical() {
    let dir = fixtures().scratch("reproducible").unwrap();
    for (from, to) in [("4.0.1", "4.1.1"), ("4.1.1", "4.2.0")] {
        let a = dir.join(format!("{from}-a.hop"));
        let b = dir.join(format!("{from}-b.hop"));
        let Run {
            code,
            stdout,
            stderr,
        } = build_demo(from, to, &a);
        assert_eq!(code, 0, "{stderr}");
        assert!(
            stdout.contains(&format!("built manager {from} → {to}")),
            "{stdout}"
        );
        assert_eq!(build_demo(from, to, &b).code, 0);
        let (a, b) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        assert!(a == b, "two builds of {from} → {to} differ");
    }
}

#[test]
fn tar_lists_manifest_then_signature_then_sorted_payload() {
    require_tool("tar", "tar").unwrap();
    let pkg = fixtures().package("4.0.1", "4.1.1");
    let (code, listing, _) = run("tar", &["tf", pkg.to_str().unwrap()]).unwrap();
    assert_eq!(code, 0);
    let names: Vec<&str> = listing.lines().collect();
    assert_eq!(&names[..2], ["hop.yaml", "hop.yaml.asc"]);
    let payload = &names[2..];
    let mut sorted = payload.to_vec();
    sorted.sort();
    assert_eq!(payload, sorted.as_slice(), "payload members are not sorted");
    for prefix in ["configs/", "migrations/", "rpms/"] {
        assert!(
            payload.iter().any(|n| n.starts_with(prefix)),
            "no {prefix} member"
        );
    }
    let (_, verbose, _) = run("tar", &["tvf", pkg.to_str().unwrap()]).unwrap();
    assert!(
        verbose.lines().all(|l| l.starts_with("-rw-r--r-- 0/0")),
        "{verbose}"
    );
}

#[test]
fn gpg_verifies_the_manifest_signature() {
    require_tool("gpg", "gnupg").unwrap();
    let f = fixtures();
    let dir = f.scratch("gpg-verify").unwrap();
    let home = dir.join("gnupg");
    std::fs::create_dir_all(&home).unwrap();
    let pkg = f.package("4.0.1", "4.1.1");
    let (code, _, err) = run(
        "tar",
        &[
            "xf",
            pkg.to_str().unwrap(),
            "-C",
            dir.to_str().unwrap(),
            "hop.yaml",
            "hop.yaml.asc",
        ],
    )
    .unwrap();
    assert_eq!(code, 0, "{err}");
    let gpg = |args: &[&str]| {
        let out = Command::new("gpg")
            .env("GNUPGHOME", &home)
            .arg("--batch")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(
        gpg(&["--import", f.vendor_key().public.to_str().unwrap()]).0,
        0
    );
    let (code, stderr) = gpg(&[
        "--verify",
        dir.join("hop.yaml.asc").to_str().unwrap(),
        dir.join("hop.yaml").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("Good signature"), "{stderr}");

    std::fs::write(
        dir.join("hop.yaml"),
        std::fs::read_to_string(dir.join("hop.yaml"))
            .unwrap()
            .replace("4.1.1", "4.1.2"),
    )
    .unwrap();
    let (code, stderr) = gpg(&[
        "--verify",
        dir.join("hop.yaml.asc").to_str().unwrap(),
        dir.join("hop.yaml").to_str().unwrap(),
    ]);
    assert_ne!(code, 0);
    assert!(stderr.contains("BAD signature"), "{stderr}");
}

#[test]
fn build_signs_through_gpg_with_a_key_from_the_keyring() {
    require_tool("gpg", "gnupg").unwrap();
    let f = fixtures();
    let dir = f.scratch("gpg-sign").unwrap();
    let home = dir.join("gnupg");
    std::fs::create_dir_all(&home).unwrap();
    let gpg = |args: &[&str]| {
        Command::new("gpg")
            .env("GNUPGHOME", &home)
            .arg("--batch")
            .args(args)
            .output()
            .unwrap()
    };
    let made = gpg(&[
        "--passphrase",
        "",
        "--quick-gen-key",
        "Release CI <ci@example.com>",
        "ed25519",
        "sign",
        "1y",
    ]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let public = gpg(&["--armor", "--export", "ci@example.com"]);
    std::fs::write(dir.join("ci.pub.asc"), &public.stdout).unwrap();

    let out = dir.join("gpg.hop");
    let manifest = f.manifest("4.0.1", "4.1.1");
    run_ok(
        Command::new(env!("CARGO_BIN_EXE_hop-build"))
            .env("GNUPGHOME", &home)
            .args([
                "build",
                manifest.to_str().unwrap(),
                "--gpg-key",
                "ci@example.com",
                "-o",
                out.to_str().unwrap(),
            ]),
    );
    let Run {
        code,
        stdout,
        stderr,
    } = hop_build(&[
        "verify",
        out.to_str().unwrap(),
        "--key",
        dir.join("ci.pub.asc").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Release CI"), "{stdout}");
}

#[test]
fn keygen_writes_a_private_secret_key_and_never_overwrites() {
    let dir = fixtures().scratch("keygen").unwrap();
    let Run {
        code,
        stdout,
        stderr,
    } = hop_build(&[
        "keygen",
        "--out-dir",
        dir.to_str().unwrap(),
        "--name",
        "rel",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("key "), "{stdout}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.join("rel.sec.asc"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let before = std::fs::read(dir.join("rel.sec.asc")).unwrap();
    let Run { code, stderr, .. } = hop_build(&[
        "keygen",
        "--out-dir",
        dir.to_str().unwrap(),
        "--name",
        "rel",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(std::fs::read(dir.join("rel.sec.asc")).unwrap(), before);
}

#[test]
fn inspect_shows_the_hop_and_checks_members() {
    let pkg = fixtures().package("4.1.1", "4.2.0");
    let Run {
        code,
        stdout: text,
        stderr,
    } = hop_build(&["inspect", pkg.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(text.starts_with("manager 4.1.1 → 4.2.0"), "{text}");
    assert!(text.contains("rest-service-4.2.0-1.noarch"), "{text}");
    assert!(text.contains("0023_backfill_events_level.sql"), "{text}");
    assert!(text.contains("all match hop.yaml"), "{text}");

    let Run {
        code, stdout: json, ..
    } = hop_build(&["inspect", pkg.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["manifest"]["to"], "4.2.0");
    assert_eq!(v["members_intact"], true);
    assert_eq!(v["manifest"]["migrations"].as_array().unwrap().len(), 11);
    assert_eq!(v["signature_issuer"], fixtures().vendor_key().fingerprint);

    // Something that is not a package, or no file at all: bad input.
    let not_a_package = &fixtures().vendor_key().public;
    let Run { code, stderr, .. } = hop_build(&["inspect", not_a_package.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("is not a hop package, or a damaged one"),
        "{stderr}"
    );
    let Run { code, stderr, .. } = hop_build(&["inspect", "/nonexistent.hop"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cannot open /nonexistent.hop"), "{stderr}");
}
