//! Product versions, ordered the way `rpm` orders them.
//!
//! `4.0.1 < 4.1.1 < 4.10.0`, `4.2.0~rc1 < 4.2.0`: the same answers as
//! `rpmvercmp`, so a hop's `from`/`to` sort exactly like the RPMs they ship.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A product version such as `4.1.1`.
///
/// Equality is textual; ordering is RPM's, with the text as a tie-breaker so
/// that the order stays total and consistent with equality (`4.1` and `4.01`
/// compare equal in RPM but are different versions to a human).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Version(String);

/// Why a string is not a product version.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[allow(
    missing_docs,
    reason = "each variant's #[error] message is its documentation"
)]
pub enum VersionError {
    #[error("a version must not be empty")]
    Empty,
    #[error("version {0:?} may only contain letters, digits and . _ + ~ ^")]
    BadCharacter(String),
    #[error("version {0:?} must start with a digit")]
    NoLeadingDigit(String),
}

impl Version {
    /// Parses a version: a digit first, then letters, digits and `._+~^`
    /// (no `-`, which RPM reserves for the release).
    pub fn parse(text: &str) -> Result<Self, VersionError> {
        if text.is_empty() {
            return Err(VersionError::Empty);
        }
        if !text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._+~^".contains(c))
        {
            return Err(VersionError::BadCharacter(text.to_owned()));
        }
        if !text.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(VersionError::NoLeadingDigit(text.to_owned()));
        }
        Ok(Self(text.to_owned()))
    }

    /// The version as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Compares two version strings (or full `epoch:version-release` strings)
/// with RPM's rules.
pub fn rpm_compare(a: &str, b: &str) -> Ordering {
    rpm_version::rpm_evr_compare(a, b)
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        rpm_compare(&self.0, &other.0).then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Version {
    type Err = VersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Version {
    type Error = VersionError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Version> for String {
    fn from(v: Version) -> Self {
        v.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn orders_like_rpm() {
        assert!(v("4.0.1") < v("4.1.1"));
        assert!(v("4.1.1") < v("4.10.0"));
        assert!(v("4.2.0~rc1") < v("4.2.0"));
        assert!(v("4.2.0") < v("4.2.0^post1"));
        assert!(v("3.4.2") < v("4.0.1"));
        assert!(v("4.1") < v("4.1.0"));
    }

    #[test]
    fn order_is_total_and_matches_equality() {
        assert_eq!(rpm_compare("4.1", "4.01"), Ordering::Equal);
        assert_ne!(v("4.1"), v("4.01"));
        assert_ne!(v("4.1").cmp(&v("4.01")), Ordering::Equal);
    }

    #[test]
    fn rejects_what_rpm_reserves() {
        assert_eq!(Version::parse(""), Err(VersionError::Empty));
        assert!(matches!(
            Version::parse("4.0-1"),
            Err(VersionError::BadCharacter(_))
        ));
        assert!(matches!(
            Version::parse("v4"),
            Err(VersionError::NoLeadingDigit(_))
        ));
    }
}
