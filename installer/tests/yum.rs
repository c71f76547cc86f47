//! A customer who installs software only through dnf: the vendor publishes
//! a hop with `hop-build publish` (a signed noarch RPM in a yum repository
//! made by createrepo_c), the host installs it with real dnf, and
//! `hop-install upgrade --to` finds it where the RPM put it.

mod common;

use std::path::Path;
use std::process::Command;

use common::{fixtures, hop, package, sandbox};
use hop_artifact::migration::Backend;
use hop_builder::Signing;

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// dnf's configuration: only the published repository, signatures checked
/// with the vendor's public key.
fn dnf_conf(dir: &Path, repo: &Path, key: &Path) -> std::path::PathBuf {
    let conf = dir.join("dnf.conf");
    std::fs::write(
        &conf,
        format!(
            "[main]\ngpgcheck=1\ninstall_weak_deps=0\nreposdir={}\ncachedir={}\n\n\
             [vendor]\nname=vendor hops\nbaseurl=file://{}\ngpgcheck=1\ngpgkey=file://{}\n",
            dir.join("no-repos.d").display(),
            dir.join("cache").display(),
            repo.display(),
            key.display()
        ),
    )
    .unwrap();
    conf
}

#[test]
fn dnf_installs_the_published_hop_and_upgrade_finds_it() {
    let host = sandbox("yum", Backend::Sqlite);
    let key = fixtures().vendor_key();
    let pkg = package("4.0.1", "4.1.1");
    let work = fixtures().scratch("yum").unwrap();
    let repo = work.join("repo");

    let published = hop_builder::publish(
        Path::new(&pkg),
        &Signing::KeyFile(key.secret.clone()),
        &repo,
        1_700_000_000,
    )
    .unwrap();
    assert_eq!(published.name, "manager-hop-4.0.1-to-4.1.1");
    assert!(repo.join("repodata/repomd.xml").exists());

    let conf = dnf_conf(&work, &repo, &key.public);
    let root = host.root.display().to_string();
    run(Command::new("dnf")
        .args(["-y", "-q", "--config"])
        .arg(&conf)
        .args([
            "--installroot",
            &root,
            "--releasever",
            "1",
            "--disablerepo",
            "*",
        ])
        .args([
            "--enablerepo",
            "vendor",
            "install",
            "manager-hop-4.0.1-to-4.1.1",
        ]));

    // rpm and dnf agree on the database: rpm sees what dnf installed, and
    // the package is byte for byte the vendor's.
    let q = run(Command::new("rpm").args(["--root", &root, "-q", "manager-hop-4.0.1-to-4.1.1"]));
    assert!(
        q.starts_with("manager-hop-4.0.1-to-4.1.1-4.1.1-1.noarch"),
        "{q}"
    );
    let landed = host
        .root
        .join("var/lib/hop/packages/manager-4.0.1-to-4.1.1.hop");
    assert_eq!(
        std::fs::read(&landed).unwrap(),
        std::fs::read(&pkg).unwrap()
    );
    // The RPM's signature is the vendor key's (dnf checked it; so does rpm).
    let k = run(Command::new("rpm")
        .args(["--root", &root, "-K"])
        .arg(&published.rpm));
    assert!(k.contains("digests signatures OK"), "{k}");

    // No packages named: upgrade looks in /var/lib/hop/packages/.
    hop(&host, &["upgrade", "--to", "4.1.1"]).assert_code(0);
    assert_eq!(
        host.service_versions(),
        [
            ("rest-service".into(), Some("4.1.1".to_owned())),
            ("mgmtworker".into(), Some("4.1.1".to_owned()))
        ]
    );
    let rpms = host.rpms();
    assert!(
        rpms.contains(&"rest-service-4.1.1-1.noarch".to_owned()),
        "{rpms:?}"
    );
    assert!(
        rpms.contains(&"manager-hop-4.0.1-to-4.1.1-4.1.1-1.noarch".to_owned()),
        "{rpms:?}"
    );
    host.rpm_verify().unwrap();
}
