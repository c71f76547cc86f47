//! `make rpm`: the installer RPM lists its binary, man pages and
//! completions, and installs with the system rpm.

use std::path::PathBuf;
use std::process::Command;

use hop_testdata::fixtures::run_ok;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn the_installer_rpm_carries_binaries_man_pages_and_completions_and_installs() {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rpm-test");
    let _ = std::fs::remove_dir_all(&out);
    let binaries = workspace().join("target/debug");
    assert!(
        binaries.join("hop-install").is_file(),
        "build the binaries first (make test does)"
    );
    run_ok(
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["rpm", "--out"])
            .arg(&out)
            .arg("--binaries")
            .arg(&binaries),
    );
    let rpm = out.join(format!(
        "hop-installer-{}-1.{}.rpm",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH
    ));

    let list = run_ok(Command::new("rpm").arg("-qpl").arg(&rpm));
    let files = String::from_utf8_lossy(&list.stdout);
    for expected in [
        "/usr/bin/hop-install",
        "/usr/share/man/man1/hop-install.1.gz",
        "/usr/share/man/man1/hop-install-apply.1.gz",
        "/usr/share/man/man1/hop-install-db-status.1.gz",
        "/usr/share/bash-completion/completions/hop-install",
        "/usr/share/zsh/site-functions/_hop-install",
        "/usr/share/fish/vendor_completions.d/hop-install.fish",
        "/usr/share/doc/hop-installer/host.yaml.example",
    ] {
        assert!(
            files.lines().any(|l| l == expected),
            "{expected} missing from:\n{files}"
        );
    }

    let root = out.join("root");
    std::fs::create_dir_all(&root).unwrap();
    let r = root.display().to_string();
    assert!(
        Command::new("rpm")
            .args(["--root", &r, "--initdb"])
            .status()
            .unwrap()
            .success()
    );
    run_ok(Command::new("rpm").args(["--root", &r, "-i"]).arg(&rpm));
    let version = Command::new(root.join("usr/bin/hop-install"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("hop-install "));
    let page = Command::new("gzip")
        .arg("-dc")
        .arg(root.join("usr/share/man/man1/hop-install-apply.1.gz"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&page.stdout).contains("dry"),
        "the apply man page lacks --dry-run"
    );
}
