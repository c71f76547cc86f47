//! What a test sees of a command it ran: exit code, stdout and stderr, and
//! the assertions a user would make on them.

use std::process::Output;

/// The result of running one of hop's programs.
#[derive(Clone, Debug)]
pub struct Run {
    /// The exit code; -1 when a signal ended it.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Self {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Asserts the exit code, showing both outputs when it differs.
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts that stdout contains `text`.
    pub fn assert_stdout(&self, text: &str) -> &Self {
        assert_contains("stdout", &self.stdout, text);
        self
    }

    /// Asserts that stderr contains `text`.
    pub fn assert_stderr(&self, text: &str) -> &Self {
        assert_contains("stderr", &self.stderr, text);
        self
    }

    /// The first line of stdout that starts with `prefix` (a row of a
    /// table), or "" when there is none.
    pub fn line(&self, prefix: &str) -> String {
        self.stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_default()
            .to_owned()
    }

    /// stdout then stderr.
    pub fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

fn assert_contains(name: &str, haystack: &str, text: &str) {
    assert!(
        haystack.contains(text),
        "{text:?} not in {name}:\n{haystack}"
    );
}
