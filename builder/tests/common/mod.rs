//! What the builder's tests share: the fixtures and running `hop-build`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use hop_testdata::fixtures::{Fixtures, SOURCE_DATE_EPOCH};

pub fn fixtures() -> &'static Fixtures {
    Fixtures::get(env!("CARGO_TARGET_TMPDIR"))
}

pub use hop_testdata::output::Run;

/// `hop-build ARGS` with the fixtures' `SOURCE_DATE_EPOCH` and schema cache.
pub fn hop_build(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_hop-build"))
        .args(args)
        .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH.to_string())
        .env("HOP_SCHEMA_CACHE", fixtures().dir().join("schemas"))
        // clap wraps help at the terminal width; golden files need one.
        .env("COLUMNS", "100")
        .output()
        .expect("run hop-build");
    Run::from(out)
}

/// A variant of the 4.0.1 → 4.1.1 demo manifest, beside the original so
/// its relative paths still resolve.
pub struct Case {
    pub name: &'static str,
    pub yaml: String,
}

impl Case {
    pub fn new(name: &'static str) -> Self {
        let yaml = std::fs::read_to_string(fixtures().manifest("4.0.1", "4.1.1")).unwrap();
        Self { name, yaml }
    }

    pub fn replace(mut self, from: &str, to: &str) -> Self {
        assert!(self.yaml.contains(from), "{from:?} is not in the manifest");
        self.yaml = self.yaml.replacen(from, to, 1);
        self
    }

    /// A copy of the 4.1.1 migrations to modify; the manifest points at it.
    pub fn with_migrations(self, edit: impl FnOnce(&Path)) -> Self {
        let dir = fixtures()
            .scratch(&format!("{}-migrations", self.name))
            .unwrap();
        hop_testdata::product::write_migrations("4.1.1", &dir).unwrap();
        edit(&dir);
        let dir = dir.to_str().unwrap().to_owned();
        self.replace(
            "migrations: release/4.1.1/migrations/",
            &format!("migrations: {dir}"),
        )
    }

    /// Where [`Case::build`] writes the package.
    pub fn output(&self) -> PathBuf {
        fixtures()
            .dir()
            .join("scratch")
            .join(format!("{}-out", self.name))
            .join("out.hop")
    }

    /// Runs the build; returns (exit code, stderr, whether the output exists).
    pub fn build(&self) -> (i32, String, bool) {
        self.build_with(&[], &fixtures().vendor_key().secret)
    }

    /// The build with `extra` arguments, signed with `key`.
    pub fn build_with(&self, extra: &[&str], key: &Path) -> (i32, String, bool) {
        let f = fixtures();
        let manifest = f
            .dir()
            .join("manifests")
            .join(format!("case-{}.yaml", self.name));
        std::fs::write(&manifest, &self.yaml).unwrap();
        let out_dir = f.scratch(&format!("{}-out", self.name)).unwrap();
        let out = self.output();
        let result = Command::new(env!("CARGO_BIN_EXE_hop-build"))
            .args(["build", manifest.to_str().unwrap(), "--key"])
            .arg(key)
            .args(extra)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        let leftovers: Vec<PathBuf> = std::fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert!(
            leftovers.iter().all(|p| p == &out),
            "the build left files behind: {leftovers:?}"
        );
        (
            result.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&result.stderr).into_owned(),
            out.exists(),
        )
    }

    /// Asserts a refusal whose message contains every one of `expected`.
    pub fn refused_with(&self, expected: &[&str]) {
        self.refused_by(self.build(), expected);
    }

    /// Asserts `result` (of a build) is a refusal naming the manifest and
    /// saying each of `expected`.
    pub fn refused_by(&self, result: (i32, String, bool), expected: &[&str]) {
        assert!(
            result.1.contains(&format!("case-{}.yaml", self.name)),
            "no manifest path in:\n{}",
            result.1
        );
        self.refused_saying(result, expected);
    }

    /// Asserts `result` is a refusal (of an argument, not the manifest)
    /// saying each of `expected`.
    pub fn refused_saying(&self, result: (i32, String, bool), expected: &[&str]) {
        let (code, stderr, written) = result;
        assert_eq!(code, 2, "case {}: expected exit 2\n{stderr}", self.name);
        assert!(!written, "case {}: an output file was written", self.name);
        for e in expected {
            assert!(
                stderr.contains(e),
                "case {}: {e:?} not in:\n{stderr}",
                self.name
            );
        }
    }
}
