//! What the person at the terminal sees while an operation runs: one line
//! per step on stderr (stdout stays free for `--json`).

use std::io::IsTerminal;

pub struct Terminal {
    quiet: bool,
    color: bool,
}

impl Terminal {
    pub fn new(quiet: bool) -> Self {
        let color = std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal();
        Self { quiet, color }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// A progress line.
    pub fn step(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }

    /// Something the user should notice.
    pub fn warn(&self, text: &str) {
        if !self.quiet {
            eprintln!("{} {text}", self.paint("33", "warning:"));
        }
    }
}
