//! `make rpm`: the installer RPM carries binaries that start on glibc
//! 2.17 (EL7), its man pages and completions, says what it requires the
//! way EL packages do, and installs with the system rpm.

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
    // The release binaries `make el-binaries` builds with cargo-zigbuild.
    let binaries = workspace().join("target/x86_64-unknown-linux-gnu/release");
    assert!(
        binaries.join("hop-install").is_file(),
        "build the EL binaries first: `make el-binaries` (make test does)"
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
        "/usr/share/man/man5/host.yaml.5.gz",
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

    let requires = run_ok(Command::new("rpm").args(["-qp", "--requires"]).arg(&rpm));
    let requires = String::from_utf8_lossy(&requires.stdout);
    for expected in ["rpm >= 4.11", "util-linux", "glibc >= 2.17"] {
        assert!(
            requires.lines().any(|l| l.trim() == expected),
            "Requires: {expected} missing from:\n{requires}"
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
    // An empty root has none of what it requires: the dependencies are
    // checked above, the files here.
    run_ok(
        Command::new("rpm")
            .args(["--root", &r, "-i", "--nodeps"])
            .arg(&rpm),
    );
    // The binary as installed needs no glibc newer than EL7's.
    let glibc = run_ok(
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["glibc", "--max", "2.17"])
            .arg(root.join("usr/bin/hop-install")),
    );
    assert!(
        String::from_utf8_lossy(&glibc.stdout).contains("newest glibc symbol GLIBC_2."),
        "{}",
        String::from_utf8_lossy(&glibc.stdout)
    );
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
    let page = String::from_utf8_lossy(&page.stdout);
    assert!(page.contains("dry"), "the apply man page lacks --dry-run");
    for section in [".SH FILES", ".SH ENVIRONMENT", ".SH \"EXIT STATUS\""] {
        assert!(page.contains(section), "the apply man page lacks {section}");
    }
    // And man renders them: the exit codes as a reader sees them.
    for page in [
        "usr/share/man/man1/hop-install-apply.1.gz",
        "usr/share/man/man5/host.yaml.5.gz",
    ] {
        let shown = run_ok(
            Command::new("man")
                .arg("-l")
                .arg(root.join(page))
                .env("MANWIDTH", "100")
                .env("MANPAGER", "cat"),
        );
        let text = String::from_utf8_lossy(&shown.stdout);
        assert!(text.contains("/etc/hop/host.yaml"), "{page}:\n{text}");
        if page.contains("apply") {
            assert!(
                text.contains("EXIT STATUS") && text.contains("rolled back"),
                "{text}"
            );
        }
    }
}

/// The check refuses a binary built against this machine's newer glibc,
/// naming what it needs: it would not pass one that cannot start on EL7.
#[test]
fn a_binary_that_needs_a_newer_glibc_is_refused() {
    let native = workspace().join("target/debug/hop-install");
    assert!(
        native.is_file(),
        "build the binaries first (make test does)"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["glibc", "--max", "2.17"])
        .arg(&native)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("newer than 2.17") && stderr.contains("GLIBC_2.3"),
        "{stderr}"
    );
}
