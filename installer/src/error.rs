//! How a verb ends when it does not succeed, and the exit code each ending
//! maps to.
//!
//! The contract (DESIGN.md, "CLI contract") holds by construction: code
//! that runs before the host changes returns a [`Refusal`] (exit 2); code
//! that runs once an operation has begun returns a [`Failure`], which can
//! only be "rolled back" (exit 1) or "needs attention" (exit 3). There is no
//! conversion from a `Refusal` into a `Failure`: code after the first
//! change that meets a refusal must say which of the two it is
//! ([`Failure::after_change`]).

use std::fmt;

/// `hop-install`'s exit codes.
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

/// Refused before anything on the host changed (exit 2): what was wrong,
/// and what to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub hint: Option<String>,
}

impl Refusal {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
        }
    }

    /// A refusal from an error chain, each cause on one line.
    pub fn from_error(e: &anyhow::Error) -> Self {
        Self::new(format!("{e:#}"))
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// How an operation that had changed the host ended badly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The host is back where the operation started (exit 1).
    RolledBack,
    /// The host needs a person: the hint names the command to run (exit 3).
    NeedsAttention,
}

/// An operation that changed the host and did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
    pub hint: Option<String>,
}

impl Failure {
    pub fn rolled_back(message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::RolledBack,
            message: message.into(),
            hint: None,
        }
    }

    pub fn needs_attention(message: impl Into<String>, next: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::NeedsAttention,
            message: message.into(),
            hint: Some(next.into()),
        }
    }

    /// A refusal met after the host changed (the next hop of a chain, say),
    /// ending as `kind`.
    pub fn after_change(refusal: Refusal, kind: FailureKind) -> Self {
        Self {
            kind,
            message: refusal.message,
            hint: refusal.hint,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn status(&self) -> ExitStatus {
        match self.kind {
            FailureKind::RolledBack => ExitStatus::RolledBack,
            FailureKind::NeedsAttention => ExitStatus::NeedsAttention,
        }
    }
}

/// Any way a verb can end other than success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Refused before any change (exit 2).
    Refused(Refusal),
    /// Failed after changing the host (exit 1 or 3).
    Failed(Failure),
}

impl Error {
    /// The exit status the contract gives this outcome.
    pub fn status(&self) -> ExitStatus {
        match self {
            Error::Refused(_) => ExitStatus::Refused,
            Error::Failed(f) => f.status(),
        }
    }

    /// The word `hop-install` prints before the message.
    pub fn word(&self) -> &'static str {
        match self.status() {
            ExitStatus::Refused => "refused",
            ExitStatus::RolledBack => "failed and rolled back",
            ExitStatus::NeedsAttention => "failed, needs attention",
            ExitStatus::Done => "done",
        }
    }
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Self {
        Error::Refused(r)
    }
}

impl From<Failure> for Error {
    fn from(f: Failure) -> Self {
        Error::Failed(f)
    }
}

fn write_with_hint(f: &mut fmt::Formatter<'_>, message: &str, hint: Option<&str>) -> fmt::Result {
    f.write_str(message)?;
    if let Some(hint) = hint {
        write!(f, "\nhint: {hint}")?;
    }
    Ok(())
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_with_hint(f, &self.message, self.hint.as_deref())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_with_hint(f, &self.message, self.hint.as_deref())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Refused(r) => r.fmt(f),
            Error::Failed(x) => x.fmt(f),
        }
    }
}

impl std::error::Error for Refusal {}
impl std::error::Error for Failure {}
impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_ending_has_its_exit_code() {
        assert_eq!(Error::from(Refusal::new("x")).status() as u8, 2);
        assert_eq!(Error::from(Failure::rolled_back("x")).status() as u8, 1);
        assert_eq!(
            Error::from(Failure::needs_attention("x", "hop-install resume")).status() as u8,
            3
        );
    }

    #[test]
    fn a_refusal_after_a_change_is_never_exit_2() {
        for kind in [FailureKind::RolledBack, FailureKind::NeedsAttention] {
            let f = Failure::after_change(Refusal::new("no").with_hint("do this"), kind);
            assert_ne!(Error::from(f.clone()).status(), ExitStatus::Refused);
            assert_eq!(f.to_string(), "no\nhint: do this");
        }
    }
}
