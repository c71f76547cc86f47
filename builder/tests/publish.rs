//! `hop-build publish` and `hop-build index` as a release engineer runs
//! them: a signed RPM in a yum repository, refused with the wrong key or
//! over a different published file; an index of a directory of packages.

mod common;

use common::{fixtures, hop_build};

#[test]
fn publish_makes_a_signed_rpm_in_a_repository_and_never_replaces_one() {
    let f = fixtures();
    let pkg = f.package("4.0.1", "4.1.1");
    let pkg = pkg.to_str().unwrap();
    let repo = f.scratch("publish-repo").unwrap();
    let repo_arg = repo.to_str().unwrap();
    let vendor = f.vendor_key();

    // Another key than the package's: refused, nothing written.
    let other = f.key("publish-other");
    let run = hop_build(&[
        "publish",
        pkg,
        "--key",
        other.secret.to_str().unwrap(),
        "--repo",
        repo_arg,
    ]);
    run.assert_code(2);
    run.assert_stderr("not by the --key");
    assert_eq!(std::fs::read_dir(&repo).unwrap().count(), 0);

    let secret = vendor.secret.to_str().unwrap();
    let run = hop_build(&["publish", pkg, "--key", secret, "--repo", repo_arg]);
    run.assert_code(0);
    run.assert_stdout("published manager-hop-4.0.1-to-4.1.1");
    run.assert_stdout("installs /var/lib/hop/packages/manager-4.0.1-to-4.1.1.hop");
    let rpm = repo.join("manager-hop-4.0.1-to-4.1.1-4.1.1-1.noarch.rpm");
    let listed = std::process::Command::new("rpm")
        .args(["-qpl"])
        .arg(&rpm)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout)
            .lines()
            .collect::<Vec<_>>(),
        [
            "/var/lib/hop",
            "/var/lib/hop/packages",
            "/var/lib/hop/packages/manager-4.0.1-to-4.1.1.hop"
        ]
    );
    let primary = std::fs::read_to_string(repo.join("repodata/repomd.xml")).unwrap();
    assert!(primary.contains("primary"), "{primary}");

    // The same again is fine (same bytes); other contents under the name are refused.
    hop_build(&["publish", pkg, "--key", secret, "--repo", repo_arg]).assert_code(0);
    std::fs::write(&rpm, b"something else").unwrap();
    let run = hop_build(&["publish", pkg, "--key", secret, "--repo", repo_arg]);
    run.assert_code(2);
    run.assert_stderr("is already published with other contents");
    assert_eq!(std::fs::read(&rpm).unwrap(), b"something else");
}

#[test]
fn index_lists_the_packages_of_a_directory() {
    let f = fixtures();
    let dir = f.scratch("index-dir").unwrap();
    for (from, to) in [("4.0.1", "4.1.1"), ("4.1.1", "4.2.0")] {
        let p = f.package(from, to);
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    std::fs::write(dir.join("notes.txt"), "not a package").unwrap();
    let run = hop_build(&["index", dir.to_str().unwrap()]);
    run.assert_code(0).assert_stdout("lists 2 package(s)");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("hop-index.json")).unwrap()).unwrap();
    assert_eq!(index["format"], "hop.index/1");
    let files: Vec<&str> = index["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        ["manager-4.0.1-to-4.1.1.hop", "manager-4.1.1-to-4.2.0.hop"]
    );
    assert_eq!(index["packages"][1]["from"], "4.1.1");
}

#[test]
fn publish_takes_versions_with_tilde_and_caret() {
    let f = fixtures();
    let manifest = f.dir().join("manifests/publish-rc.yaml");
    let text = std::fs::read_to_string(f.manifest("4.0.1", "4.1.1")).unwrap();
    // A release candidate's components, at its version.
    let version = "4.1.1~rc1^2";
    let rpms = f.scratch("publish-rc-rpms").unwrap();
    for c in hop_testdata::product::COMPONENTS {
        hop_testdata::product::component_rpm(c.name, version)
            .unwrap()
            .build(&rpms)
            .unwrap();
    }
    let text = text
        .replace("release/rpms/", &format!("{}/", rpms.display()))
        .replace("-4.1.1-1.noarch.rpm", &format!("-{version}-1.noarch.rpm"))
        .replace("version: 4.1.1", &format!("version: {version}"))
        .replace("\nto: 4.1.1\n", &format!("\nto: {version}\nrelease: 3\n"));
    std::fs::write(&manifest, text).unwrap();
    let out = f.scratch("publish-rc").unwrap().join("rc.hop");
    f.build(&manifest, &f.vendor_key(), &out).unwrap();
    let repo = f.scratch("publish-rc-repo").unwrap();
    let run = hop_build(&[
        "publish",
        out.to_str().unwrap(),
        "--key",
        f.vendor_key().secret.to_str().unwrap(),
        "--repo",
        repo.to_str().unwrap(),
    ]);
    run.assert_code(0)
        .assert_stdout("published manager-hop-4.0.1-to-4.1.1_rc1+2");
    // The package's release is the RPM's: a re-spun hop publishes beside.
    assert!(
        repo.join("manager-hop-4.0.1-to-4.1.1_rc1+2-4.1.1~rc1^2-3.noarch.rpm")
            .exists()
    );
    let rpm = std::fs::read_dir(&repo)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().ends_with(".rpm"))
        .unwrap()
        .path();
    let queried = std::process::Command::new("rpm")
        .args(["-qp", "--qf", "%{NAME} %{VERSION}-%{RELEASE}"])
        .arg(&rpm)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&queried.stdout),
        "manager-hop-4.0.1-to-4.1.1_rc1+2 4.1.1~rc1^2-3"
    );
}

/// For hosts whose tools predate EdDSA (EL7's rpm 4.11 and gpg 2.0) or
/// run in FIPS mode: `keygen --algorithm rsa4096` makes a key that signs
/// the package and its RPM; gpg checks the package's signed head, `rpm -K`
/// the RPM, and hop-build verify the whole package.
#[test]
fn an_rsa_key_signs_a_package_and_its_rpm_that_gpg_and_rpm_can_check() {
    let f = fixtures();
    let dir = f.scratch("rsa-signing").unwrap();
    let keys = dir.join("keys");
    hop_build(&[
        "keygen",
        "--out-dir",
        keys.to_str().unwrap(),
        "--name",
        "rsa",
        "--user-id",
        "RSA vendor <rsa@example.com>",
        "--algorithm",
        "rsa4096",
    ])
    .assert_code(0);
    let (secret, public) = (keys.join("rsa.sec.asc"), keys.join("rsa.pub.asc"));
    let key = hop_testdata::fixtures::KeyPair {
        secret: secret.clone(),
        public: public.clone(),
        fingerprint: String::new(),
    };
    let pkg = dir.join("rsa.hop");
    f.build(&f.manifest("4.0.1", "4.1.1"), &key, &pkg).unwrap();
    hop_build(&[
        "verify",
        pkg.to_str().unwrap(),
        "--key",
        public.to_str().unwrap(),
    ])
    .assert_code(0);

    // gpg, as on an EL7 host: the head's signature over hop.yaml.
    let gnupg = dir.join("gnupg");
    std::fs::create_dir_all(&gnupg).unwrap();
    let run = |cmd: &mut std::process::Command| {
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{cmd:?}: {out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout)
    };
    run(std::process::Command::new("tar")
        .args(["-xf", pkg.to_str().unwrap(), "-C"])
        .arg(&dir)
        .args(["hop.yaml", "hop.yaml.asc"]));
    run(std::process::Command::new("gpg")
        .arg("--homedir")
        .arg(&gnupg)
        .args(["--batch", "--import"])
        .arg(&public));
    let verified = run(std::process::Command::new("gpg")
        .arg("--homedir")
        .arg(&gnupg)
        .args(["--batch", "--verify"])
        .arg(dir.join("hop.yaml.asc"))
        .arg(dir.join("hop.yaml")));
    assert!(verified.contains("Good signature"), "{verified}");
    assert!(verified.contains("RSA"), "{verified}");

    // rpm -K, with the key imported into an rpm database of its own.
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    hop_build(&[
        "publish",
        pkg.to_str().unwrap(),
        "--key",
        secret.to_str().unwrap(),
        "--repo",
        repo.to_str().unwrap(),
    ])
    .assert_code(0);
    let rpm = std::fs::read_dir(&repo)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "rpm"))
        .unwrap();
    let db = dir.join("rpmdb");
    std::fs::create_dir_all(&db).unwrap();
    let dbpath = format!("--dbpath={}", db.display());
    run(std::process::Command::new("rpm")
        .arg(&dbpath)
        .arg("--import")
        .arg(&public));
    let checked = run(std::process::Command::new("rpm")
        .arg(&dbpath)
        .arg("-K")
        .arg(&rpm));
    assert!(checked.contains("signatures OK"), "{checked}");
    // An RSA signature, not EdDSA.
    let info = run(std::process::Command::new("rpm")
        .arg(&dbpath)
        .args(["-qp", "--qf", "%{RSAHEADER:pgpsig}"])
        .arg(&rpm));
    assert!(info.starts_with("RSA/"), "{info}");
}
