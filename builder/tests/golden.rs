//! The whole output of `hop-build`'s verbs, compared with the files in
//! `tests/golden/` (times, sizes, digests, keys and paths normalised):
//! a changed message is a changed file, reviewed in the diff.
//! `HOP_BLESS=1 cargo test --test golden` rewrites them.

mod common;

use std::path::Path;

use common::{Run, fixtures, hop_build};
use hop_testdata::golden::Transcript;

/// Runs `hop-build ARGS` and compares its exit code, stdout and stderr
/// with `tests/golden/NAME.txt`.
fn golden(name: &str, args: &[&str]) -> Run {
    let run = hop_build(args);
    let fixtures = fixtures().dir().display().to_string();
    Transcript {
        program: "hop-build",
        args,
        code: run.code,
        stdout: &run.stdout,
        stderr: &run.stderr,
    }
    .assert_matches(
        env!("CARGO_MANIFEST_DIR"),
        name,
        &[(fixtures.as_str(), "FIXTURES")],
    );
    run
}

#[test]
fn build_inspect_verify_and_a_refused_build() {
    let f = fixtures();
    let dir = f.scratch("golden").unwrap();
    let out = dir.join("manager-4.0.1-to-4.1.1.hop");
    let key = f.vendor_key();
    let manifest = f.manifest("4.0.1", "4.1.1");
    let s = |p: &Path| p.display().to_string();
    golden(
        "build",
        &[
            "build",
            &s(&manifest),
            "--key",
            &s(&key.secret),
            "-o",
            &s(&out),
        ],
    );
    golden("inspect", &["inspect", &s(&out)]);
    golden("verify", &["verify", &s(&out), "--key", &s(&key.public)]);
    // Beside the original, so that its relative paths still resolve.
    let broken = manifest.with_file_name("golden-broken.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &broken,
        text.replace("from: 4.0.1", "from: 4.2.0")
            .replace("stop_timeout: 30s", "stop_timeout: 30 parsecs"),
    )
    .unwrap();
    golden(
        "build-refused-manifest",
        &[
            "build",
            &s(&broken),
            "--key",
            &s(&key.secret),
            "-o",
            &s(&dir.join("broken.hop")),
        ],
    );
}

#[test]
fn help_teaches_the_release_steps() {
    let run = golden("help", &["--help"]);
    assert_eq!(run.code, 0);
}
