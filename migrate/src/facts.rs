//! What a database server says about itself: read by each connection,
//! judged by [`crate::compat`] and the backend's dialect.

/// What a server says about itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerFacts {
    /// `15.20`, `10.11.19`, `3.45.1`.
    pub version: String,
    /// The full version string as reported (`10.11.19-MariaDB-0+deb12u1`).
    pub version_text: String,
    /// MariaDB/MySQL: `@@default_storage_engine`.
    pub default_engine: Option<String>,
    /// MariaDB/MySQL: the database's default character set and collation.
    pub charset: Option<String>,
    /// MariaDB/MySQL: the database's default collation.
    pub collation: Option<String>,
}

/// The leading `digits.digits…` of a version string.
pub(crate) fn leading_version(text: &str) -> String {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .next()
        .unwrap_or("")
        .trim_end_matches('.')
        .to_owned()
}
