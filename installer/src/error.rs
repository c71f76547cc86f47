//! How an operation ends when it does not succeed, and the exit code each
//! ending maps to.

use std::fmt;

/// `hop-install`'s exit codes (DESIGN.md, "CLI contract").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: done.
    Done = 0,
    /// 1: the operation failed and the host was rolled back to where it was.
    RolledBack = 1,
    /// 2: refused before anything changed.
    Refused = 2,
    /// 3: failed and needs attention; the message names the next command.
    NeedsAttention = 3,
}

/// An operation that did not succeed: its exit status, what happened, and
/// what to do next.
#[derive(Debug)]
pub struct Failure {
    pub status: ExitStatus,
    pub message: String,
    pub hint: Option<String>,
}

impl Failure {
    pub fn refused(message: impl Into<String>) -> Self {
        Self {
            status: ExitStatus::Refused,
            message: message.into(),
            hint: None,
        }
    }

    pub fn rolled_back(message: impl Into<String>) -> Self {
        Self {
            status: ExitStatus::RolledBack,
            message: message.into(),
            hint: None,
        }
    }

    pub fn needs_attention(message: impl Into<String>, next: impl Into<String>) -> Self {
        Self {
            status: ExitStatus::NeedsAttention,
            message: message.into(),
            hint: Some(next.into()),
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}
