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
            eprintln!("{}", printable(text));
        }
    }

    /// Something the user should notice.
    pub fn warn(&self, text: &str) {
        if !self.quiet {
            eprintln!("{} {}", self.paint("33", "warning:"), printable(text));
        }
    }
}

/// `text` safe for a terminal: control characters (an escape sequence in
/// a database row, a server's error page) and the Unicode controls that
/// reorder or hide text are shown as `\x1b`, `\u{202e}`; line breaks and
/// tabs stay.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let bidi = matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if (c.is_control() && c != '\n' && c != '\t') || bidi {
            if (c as u32) < 0x100 {
                out.push_str(&format!("\\x{:02x}", c as u32));
            } else {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_are_shown_not_sent() {
        assert_eq!(printable("ok\tfine\nnext"), "ok\tfine\nnext");
        assert_eq!(
            printable("\x1b]0;pwned\x07\x1b[2Jrow"),
            "\\x1b]0;pwned\\x07\\x1b[2Jrow"
        );
        assert_eq!(printable("a\u{202e}b\rc"), "a\\u{202e}b\\x0dc");
        assert_eq!(printable("naïve ✓"), "naïve ✓");
    }
}
