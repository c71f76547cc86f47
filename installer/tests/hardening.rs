//! Hardening: damaged and crafted packages are refused before any change;
//! revoked and expired keys and replayed hops are refused; passwords never
//! leak; hop's files are private; only root may change `/`.

mod common;

use std::collections::BTreeMap;

use common::*;
use hop_artifact::migration::Backend;
use hop_artifact::signature::{SigningKey, canonical_armor};
use hop_testdata::craft::{self, Mutation};
use hop_testdata::fixtures::SOURCE_DATE_EPOCH;
use hop_testdata::sandbox::SandboxOptions;

#[test]
fn a_corruption_campaign_of_1200_packages_is_refused_entirely_and_changes_nothing() {
    let host = sandbox("campaign", Backend::Sqlite);
    let good = std::fs::read(package("4.0.1", "4.1.1")).unwrap();
    let mutants = craft::mutants(&good, 0x686f_7021, 1200).unwrap();
    let path = fixtures().scratch("campaign").unwrap().join("mutant.hop");
    let key = fixtures().vendor_key().public.display().to_string();
    hop(&host, &["status"]).assert_code(0);
    let tree = host.tree_digest();

    let mut kinds: BTreeMap<Mutation, usize> = BTreeMap::new();
    let (mut verify_refused, mut apply_refused) = (0, 0);
    for (i, (kind, bytes)) in mutants.iter().enumerate() {
        std::fs::write(&path, bytes).unwrap();
        *kinds.entry(*kind).or_default() += 1;
        let p = path.display().to_string();
        let verified = hop(&host, &["verify", &p, "--key", &key]);
        assert_eq!(
            verified.code, 2,
            "mutant {i} ({kind:?}) was not refused by verify:\n{}{}",
            verified.stdout, verified.stderr
        );
        verify_refused += 1;
        let applied = hop(&host, &["apply", &p]);
        assert_eq!(
            applied.code, 2,
            "mutant {i} ({kind:?}) was not refused by apply:\n{}",
            applied.stderr
        );
        assert!(
            applied.stderr.contains("is refused"),
            "mutant {i}: {}",
            applied.stderr
        );
        apply_refused += 1;
        if i % 200 == 0 {
            assert_same_tree(&tree, &host.tree_digest());
        }
    }
    assert_same_tree(&tree, &host.tree_digest());
    let summary = format!(
        "corruption campaign: tried {} packages ({kinds:?}); verify refused {verify_refused}, apply refused {apply_refused}; host byte-identical",
        mutants.len()
    );
    eprintln!("{summary}");
    record("campaign", &summary);
}

#[test]
fn crafted_packages_are_refused_before_any_change_each_with_its_own_message() {
    let f = fixtures();
    let host = sandbox("crafted", Backend::Sqlite);
    let revoked = f.gpg_key("revoked", true).unwrap();
    let expired = f.gpg_key("expired", false).unwrap();
    let keys = host.root.join("etc/hop/trusted-keys");
    for k in [&revoked, &expired] {
        std::fs::copy(&k.public, keys.join(k.public.file_name().unwrap())).unwrap();
    }

    let good = std::fs::read(package("4.0.1", "4.1.1")).unwrap();
    let untrusted = std::fs::read(variant_of(
        "crafted-untrusted",
        ("4.0.1", "4.1.1"),
        |_| {},
        |m| m,
        &f.key("intruder"),
    ))
    .unwrap();
    let mut cases: Vec<(String, Vec<u8>, &str)> = craft::hostile_packages(&good, &untrusted)
        .unwrap()
        .into_iter()
        .map(|c| (c.name, c.bytes, c.expect))
        .collect();

    // A signed hop.yaml that is an alias bomb.
    let bomb = std::fs::read(
        hop_testdata::fixtures::workspace_root()
            .join("fuzz/regressions/package_manifest/alias-bomb.yaml"),
    )
    .unwrap();
    let signer = SigningKey::from_armored(
        &std::fs::read_to_string(f.vendor_key().secret).unwrap(),
        None,
    )
    .unwrap();
    let signature = signer.sign(&bomb, SOURCE_DATE_EPOCH).unwrap();
    cases.push((
        "signed alias bomb".into(),
        craft::head_only(&bomb, signature.as_bytes(), SOURCE_DATE_EPOCH).unwrap(),
        "hop.yaml cannot be read",
    ));
    // Signatures gpg would refuse: forgeable digests, an encryption-only
    // subkey, an expired signing subkey. Their keys are trusted.
    let manifest = craft::parse(&good).unwrap()[0].data.clone();
    let mut weak = hop_artifact::crafted_signatures::weak_signatures(&manifest).unwrap();
    let (public, signature) = f.expired_subkey_signature(&manifest).unwrap();
    weak.push(hop_artifact::crafted_signatures::Crafted {
        name: "expired signing subkey",
        public,
        signature,
        expect: "expired at",
    });
    for (i, c) in weak.iter().enumerate() {
        std::fs::write(keys.join(format!("weak-{i}.asc")), &c.public).unwrap();
        let armored = canonical_armor(c.signature.as_bytes()).unwrap();
        cases.push((
            c.name.into(),
            craft::resigned(&good, &manifest, armored.as_bytes()).unwrap(),
            c.expect,
        ));
    }
    // A signed hop.yaml with a timeout no one could wait for: refused when
    // read, so nothing can overflow with the services stopped.
    let huge = String::from_utf8(manifest.clone()).unwrap().replacen(
        "stop_timeout: 30s",
        "stop_timeout: 500000000000years",
        1,
    );
    assert!(huge.contains("500000000000years"));
    let huge_signature = signer.sign(huge.as_bytes(), SOURCE_DATE_EPOCH).unwrap();
    cases.push((
        "huge duration".into(),
        craft::resigned(&good, huge.as_bytes(), huge_signature.as_bytes()).unwrap(),
        "longer than 1day",
    ));
    cases.push((
        "revoked key".into(),
        // Signed outside the builder, which refuses revoked and expired keys.
        std::fs::read(resigned_with(
            "crafted-revoked",
            &package("4.0.1", "4.1.1"),
            |m| m,
            &revoked,
        ))
        .unwrap(),
        "has been revoked",
    ));
    cases.push((
        "expired key".into(),
        std::fs::read(resigned_with(
            "crafted-expired",
            &package("4.0.1", "4.1.1"),
            |m| m,
            &expired,
        ))
        .unwrap(),
        "expired at",
    ));
    cases.push((
        "another product".into(),
        std::fs::read(variant(
            "crafted-product",
            |_| {},
            |m| replace(m, "product: manager", "product: inventory"),
        ))
        .unwrap(),
        "this package is for inventory",
    ));
    cases.push((
        "another source version".into(),
        std::fs::read(package("4.1.1", "4.2.0")).unwrap(),
        "this host runs 4.0.1; this package upgrades 4.1.1 → 4.2.0",
    ));

    hop(&host, &["status"]).assert_code(0);
    let tree = host.tree_digest();
    let path = f.scratch("crafted-apply").unwrap().join("crafted.hop");
    let mut messages = Vec::new();
    for (name, bytes, expect) in &cases {
        std::fs::write(&path, bytes).unwrap();
        let run = hop(&host, &["apply", &path.display().to_string()]);
        assert_eq!(run.code, 2, "{name}: not refused:\n{}", run.stderr);
        assert!(
            run.stderr.contains(expect),
            "{name}: {expect:?} not in\n{}",
            run.stderr
        );
        messages.push(run.stderr.lines().next().unwrap_or("").to_owned());
        record("crafted", &format!("{name:<28} refused: {expect}"));
    }
    assert_same_tree(&tree, &host.tree_digest());
    let distinct: std::collections::BTreeSet<&String> = messages.iter().collect();
    assert!(
        distinct.len() >= cases.len() - 3,
        "messages are not distinct: {messages:#?}"
    );
}

#[test]
fn a_replayed_older_hop_is_refused() {
    let host = sandbox("replay", Backend::Sqlite);
    hop(&host, &["apply", &package("4.0.1", "4.1.1")]).assert_code(0);
    let tree = host.tree_digest();
    // Replaying the hop just applied is "nothing to do", not a failure,
    // and it changes nothing.
    hop(&host, &["apply", &package("4.0.1", "4.1.1")])
        .assert_code(0)
        .assert_stdout("this host already runs 4.1.1: nothing to do");
    assert_same_tree(&tree, &host.tree_digest());
    hop(&host, &["apply", &package("4.1.1", "4.2.0")]).assert_code(0);
    let tree_420 = host.tree_digest();
    hop(&host, &["apply", &package("4.0.1", "4.1.1")])
        .assert_code(2)
        .assert_stderr(
            "this host runs 4.2.0, newer than this package's 4.0.1 → 4.1.1; hop does not downgrade",
        );
    assert_same_tree(&tree_420, &host.tree_digest());
    assert_ne!(tree, tree_420);
}

#[test]
fn database_passwords_never_appear_in_output_or_logs() {
    // A `+` in a URL's user part is a plus, not a space (hop once decoded
    // it as form data, and pg_dump was refused).
    let password = "S3cret+Pa55word!";
    let f = fixtures();
    let opts = SandboxOptions {
        database_password: Some(password.into()),
        ..SandboxOptions::postgresql()
    };
    let root =
        std::path::PathBuf::from(format!("/tmp/hop-sandboxes/{}-secret", std::process::id()));
    let host =
        hop_testdata::sandbox::Sandbox::create(&root, f.release(), &f.vendor_key().public, &opts)
            .unwrap();
    let host_yaml = std::fs::read_to_string(host.root.join("etc/hop/host.yaml")).unwrap();
    assert!(
        host_yaml.contains("S3cret+Pa55word%21"),
        "the sandbox does not use the password"
    );

    let pkg = package("4.0.1", "4.1.1");
    let mut printed = String::new();
    for args in [
        vec!["check", &pkg],
        vec!["check", &pkg, "--json"],
        vec!["apply", &pkg, "--dry-run"],
        vec!["apply", &pkg],
        vec!["status"],
        vec!["db", "status"],
        vec!["db", "status", "--json"],
        vec!["history"],
        vec!["rollback", "--yes"],
    ] {
        let run = hop(&host, &args);
        assert!(run.code == 0, "{args:?}: {}", run.stderr);
        printed += &run.stdout;
        printed += &run.stderr;
    }
    // A failing database connection must not print it either.
    let broken = host_yaml.replace("@localhost/", "@localhost/no_such_db_");
    std::fs::write(host.root.join("etc/hop/host.yaml"), broken).unwrap();
    let run = hop(&host, &["check", &pkg]);
    printed += &run.stdout;
    printed += &run.stderr;
    assert!(run.stdout.contains("no_such_db_"), "{}", run.stdout);

    for secret in [password, "S3cret+Pa55word%21", "S3cret Pa55word!"] {
        assert!(
            !printed.contains(secret),
            "the password was printed:\n{printed}"
        );
        let mut leaks = Vec::new();
        for_each_file(&host.root.join("var/lib/hop"), &mut |path, bytes| {
            if String::from_utf8_lossy(bytes).contains(secret) {
                leaks.push(path.display().to_string());
            }
        });
        assert!(leaks.is_empty(), "the password is in {leaks:?}");
    }
}

fn for_each_file(dir: &std::path::Path, f: &mut dyn FnMut(&std::path::Path, &[u8])) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            for_each_file(&path, f);
        } else if let Ok(bytes) = std::fs::read(&path) {
            f(&path, &bytes);
        }
    }
}

#[test]
fn backups_staging_and_logs_are_private_to_root() {
    let host = killed_host("private", Backend::Postgresql, "offline_migrations.begin");
    let state = host.root.join("var/lib/hop");
    let mut checked = 0;
    let mut walk: Vec<std::path::PathBuf> = vec![state.clone()];
    use std::os::unix::fs::MetadataExt;
    while let Some(dir) = walk.pop() {
        let meta = std::fs::metadata(&dir).unwrap();
        assert_eq!(
            meta.mode() & 0o077,
            0,
            "{} is open to others ({:o})",
            dir.display(),
            meta.mode()
        );
        assert_eq!(meta.uid(), 0);
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                walk.push(entry.path());
            } else {
                assert_eq!(
                    meta.mode() & 0o077,
                    0,
                    "{} is open to others ({:o})",
                    entry.path().display(),
                    meta.mode() & 0o777
                );
                assert_eq!(
                    meta.uid(),
                    0,
                    "{} is not owned by root",
                    entry.path().display()
                );
                checked += 1;
            }
        }
    }
    let has = |rel: &str| walk_has(&state, rel);
    assert!(
        has("database.dump") && has("configs.tar.gz") && has("staging"),
        "the backup or staging is missing"
    );
    assert!(checked > 20, "only {checked} files checked");
    hop(&host, &["resume"]).assert_code(1);
}

fn walk_has(dir: &std::path::Path, name: &str) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            e.file_name().to_string_lossy() == name
                || (e.path().is_dir() && walk_has(&e.path(), name))
        })
}

#[test]
fn a_non_root_user_cannot_change_the_real_root() {
    let copy = std::path::PathBuf::from(format!("/tmp/hop-install-{}", std::process::id()));
    std::fs::copy(HOP_INSTALL, &copy).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    for args in [
        vec!["apply", "/tmp/any.hop"],
        vec!["apply", "/tmp/any.hop", "--root", "/"],
        vec!["resume"],
        vec!["rollback"],
        vec!["upgrade", "--to", "9", "/tmp"],
    ] {
        let out = std::process::Command::new("runuser")
            .args(["-u", "nobody", "--"])
            .arg(&copy)
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("which needs root"), "{args:?}: {stderr}");
    }
    std::fs::remove_file(copy).unwrap();
}
