//! The operation log: every command hop ran, its exit code and output, and
//! each step's start and end, in `var/lib/hop/logs/<id>.log` (mode 0600).
//! Secrets (database passwords) are masked before anything is written.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Inner {
    file: Option<File>,
    /// Lines logged before the file was opened.
    pending: Vec<String>,
    secrets: Vec<String>,
}

/// A shared, redacting log.
#[derive(Clone, Default)]
pub struct Log {
    inner: Arc<Mutex<Inner>>,
}

impl Log {
    /// A log kept in memory until it is given a file.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts writing to `path` (appending), flushing what was logged so far.
    pub fn open(&self, path: &Path) -> std::io::Result<()> {
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        let mut inner = self.lock();
        for line in inner.pending.drain(..) {
            writeln!(file, "{line}")?;
        }
        inner.file = Some(file);
        Ok(())
    }

    /// Masks `secret` wherever it would appear from now on.
    pub fn add_secret(&self, secret: &str) {
        if !secret.is_empty() {
            self.lock().secrets.push(secret.to_owned());
        }
    }

    /// Masks the known secrets in `text`.
    pub fn redact(&self, text: &str) -> String {
        let inner = self.lock();
        redact_with(&inner.secrets, text)
    }

    /// Appends a timestamped line.
    pub fn line(&self, text: &str) {
        let mut inner = self.lock();
        let text = redact_with(&inner.secrets, text);
        let stamped = format!(
            "{} {text}",
            humantime::format_rfc3339_millis(std::time::SystemTime::now())
        );
        match inner.file.as_mut() {
            Some(f) => {
                let _ = writeln!(f, "{stamped}");
                let _ = f.sync_data();
            }
            None => inner.pending.push(stamped),
        }
    }
}

fn redact_with(secrets: &[String], text: &str) -> String {
    secrets
        .iter()
        .fold(text.to_owned(), |acc, s| acc.replace(s.as_str(), "***"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_secrets_in_every_line() {
        let log = Log::new();
        log.add_secret("hunter2");
        assert_eq!(
            log.redact("postgresql://m:hunter2@h/db"),
            "postgresql://m:***@h/db"
        );
    }
}
