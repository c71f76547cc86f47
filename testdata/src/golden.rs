//! Whole-output tests: a command's output, with what changes from run to
//! run (times, sizes, digests, keys, paths) replaced by placeholders, is
//! compared with a file kept in the repository. A changed message is then
//! a changed file in the diff, reviewed like code.
//!
//! `HOP_BLESS=1 cargo test` rewrites the files from the current output.

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

/// What varies between runs and machines, and the placeholder for it, in
/// the order applied.
static VARYING: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        // Operation ids: sortable UTC time with milliseconds.
        (r"\d{8}T\d{6}-\d{3}Z", "<ID>"),
        // RFC 3339 times, and the shorter forms reports print.
        (
            r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?",
            "<TIME>",
        ),
        (r"\b[0-9a-f]{64}\b", "<SHA256>"),
        (r"\b[0-9A-F]{40}\b", "<FINGERPRINT>"),
        (r"\b[0-9A-F]{16}\b", "<KEYID>"),
        // Durations: 1.2s, 340ms, 2m 3s, 0.4 s.
        (
            r"\b\d+(\.\d+)?\s?(ms|s|m|h)(\s\d+(\.\d+)?\s?(ms|s))*\b",
            "<DURATION>",
        ),
        // Sizes: the fixture RPMs carry their build host in their headers.
        (r"\b\d+(\.\d+)? ?(bytes|B|KiB|MiB|GiB)\b", "<SIZE>"),
        (r"\bpid \d+", "pid <PID>"),
        // supervisord's times: `EXITED Dec 03 12:49 PM`.
        (r"\b[A-Z][a-z]{2} \d\d \d\d:\d\d (AM|PM)\b", "<TIME>"),
    ]
    .into_iter()
    .map(|(pattern, placeholder)| {
        (
            Regex::new(pattern).unwrap_or_else(|e| panic!("bad pattern {pattern}: {e}")),
            placeholder,
        )
    })
    .collect()
});

/// `text` with each `(literal, name)` replaced by `<name>` (longest
/// literal first, so a root inside a fixtures directory wins), then what
/// varies between runs replaced by placeholders.
pub fn normalize(text: &str, literals: &[(&str, &str)]) -> String {
    let mut literals = literals.to_vec();
    literals.sort_by_key(|(literal, _)| std::cmp::Reverse(literal.len()));
    let mut out = text.to_owned();
    for (literal, name) in literals {
        if !literal.is_empty() {
            out = out.replace(literal, &format!("<{name}>"));
        }
    }
    for (pattern, placeholder) in VARYING.iter() {
        out = pattern.replace_all(&out, *placeholder).into_owned();
    }
    out
}

/// One run of a program, as a golden file holds it.
pub struct Transcript<'a> {
    /// The program's name, as a user types it.
    pub program: &'a str,
    /// Its arguments.
    pub args: &'a [&'a str],
    /// Its exit code.
    pub code: i32,
    /// What it printed.
    pub stdout: &'a str,
    /// What it printed as errors and progress.
    pub stderr: &'a str,
}

impl Transcript<'_> {
    /// Compares the run, normalised with `literals`, with the golden file
    /// `tests/golden/NAME.txt` under `crate_dir`.
    pub fn assert_matches(&self, crate_dir: &str, name: &str, literals: &[(&str, &str)]) {
        let text = format!(
            "$ {} {}\nexit {}\n--- stdout\n{}--- stderr\n{}",
            self.program,
            normalize(&self.args.join(" "), literals),
            self.code,
            normalize(self.stdout, literals),
            normalize(self.stderr, literals),
        );
        assert_golden(
            &Path::new(crate_dir).join("tests/golden"),
            &format!("{name}.txt"),
            &text,
        );
    }
}

/// Compares `actual` with the file `dir/name`; under `HOP_BLESS=1`,
/// writes it instead. On a difference, panics with both texts.
pub fn assert_golden(dir: &Path, name: &str, actual: &str) {
    let path = dir.join(name);
    if std::env::var_os("HOP_BLESS").is_some() {
        if let Err(e) = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, actual)) {
            panic!("cannot bless {}: {e}", path.display());
        }
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); run the test with HOP_BLESS=1 to write it",
            path.display()
        )
    });
    if expected != actual {
        panic!(
            "the output differs from {}; if the change is intended, run with HOP_BLESS=1 \
             and review the diff\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_what_varies_and_keeps_the_words() {
        let text = "op 20261121T101010-123Z-4.0.1-to-4.1.1 at 2026-11-21T10:10:10.123Z \
                    took 1.25s (340ms down), 2m 3s total; 12 bytes, 1.5 MiB; \
                    signed by 0123456789ABCDEF0123456789ABCDEF01234567; sha \
                    e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 \
                    in /tmp/x/root/etc, pid 4242, 3 members";
        assert_eq!(
            normalize(text, &[("/tmp/x/root", "ROOT"), ("/tmp/x", "DIR")]),
            "op <ID>-4.0.1-to-4.1.1 at <TIME> took <DURATION> (<DURATION> down), \
             <DURATION> total; <SIZE>, <SIZE>; signed by <FINGERPRINT>; sha <SHA256> \
             in <ROOT>/etc, pid <PID>, 3 members"
        );
    }

    #[test]
    fn versions_are_not_durations() {
        assert_eq!(normalize("4.0.1 → 4.1.1", &[]), "4.0.1 → 4.1.1");
    }
}
