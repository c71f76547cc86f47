//! The database URL from host.yaml: which backend, where, and how to keep
//! its password out of logs.
//!
//! * `postgresql://user[:password]@host[:port]/db` (or `?host=/socket/dir`)
//! * `mysql://…` or `mariadb://…` (or `?socket=/path/mysqld.sock`)
//! * `sqlite:///absolute/path.sqlite` — taken inside the host's root

use std::fmt;
use std::path::{Path, PathBuf};

use hop_artifact::migration::Backend;
use url::Url;

/// A parsed database URL.
#[derive(Clone)]
pub struct DatabaseUrl {
    backend: Backend,
    url: Url,
    sqlite_path: Option<PathBuf>,
}

/// Why a database URL was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[allow(
    missing_docs,
    reason = "each variant's #[error] message is its documentation"
)]
pub enum UrlError {
    #[error("database URL {0} is not a URL")]
    NotUrl(String),
    #[error(
        "database URL {0}: unknown scheme (use postgresql://, mysql://, mariadb:// or sqlite:///path)"
    )]
    Scheme(String),
    #[error(
        "database URL {0}: a sqlite URL needs an absolute path, as in sqlite:///var/lib/manager/db.sqlite"
    )]
    SqlitePath(String),
    #[error(
        "database URL {0}: name the database in the path, as in postgresql://user@host/manager"
    )]
    NoDatabase(String),
    #[error(
        "database URL {0}: a password in the query (?password=…) would reach the command line of \
         pg_dump and psql, where every user sees it; put it in the user part instead, \
         percent-encoded, as in postgresql://manager:s3cr%40t@host/manager"
    )]
    PasswordInQuery(String),
}

impl DatabaseUrl {
    /// Parses `text`; a SQLite path is taken inside `root`.
    pub fn parse(text: &str, root: &Path) -> Result<Self, UrlError> {
        let url = Url::parse(text).map_err(|_| UrlError::NotUrl(redact_text(text)))?;
        let shown = || redact(&url);
        let backend = match url.scheme() {
            "postgresql" | "postgres" => Backend::Postgresql,
            "mysql" | "mariadb" => Backend::Mariadb,
            "sqlite" => Backend::Sqlite,
            _ => return Err(UrlError::Scheme(shown())),
        };
        if url
            .query_pairs()
            .any(|(k, _)| k.eq_ignore_ascii_case("password") || k.eq_ignore_ascii_case("passfile"))
        {
            return Err(UrlError::PasswordInQuery(shown()));
        }
        let sqlite_path = if backend == Backend::Sqlite {
            let path = url.path();
            if !path.starts_with('/')
                || path.len() < 2
                || url.host_str().is_some_and(|h| !h.is_empty())
            {
                return Err(UrlError::SqlitePath(shown()));
            }
            Some(root.join(path.trim_start_matches('/')))
        } else {
            if url.path().trim_start_matches('/').is_empty() {
                return Err(UrlError::NoDatabase(shown()));
            }
            None
        };
        Ok(Self {
            backend,
            url,
            sqlite_path,
        })
    }

    /// Parses the URL of a database *server* (`--schema-db`): one that
    /// names no database connects to the server's own (`postgres`, or
    /// MariaDB's `information_schema`), since only scratch databases are
    /// made there. SQLite has no server.
    pub fn parse_server(text: &str) -> Result<Self, UrlError> {
        let mut url = Url::parse(text).map_err(|_| UrlError::NotUrl(redact_text(text)))?;
        let fallback = match url.scheme() {
            "postgresql" | "postgres" => "postgres",
            "mysql" | "mariadb" => "information_schema",
            _ => return Err(UrlError::Scheme(redact(&url))),
        };
        if url.path().trim_start_matches('/').is_empty() {
            url.set_path(&format!("/{fallback}"));
        }
        Self::parse(url.as_str(), Path::new("/"))
    }

    /// The database product the scheme names.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The SQLite file (inside the root), for SQLite URLs.
    pub fn sqlite_path(&self) -> Option<&Path> {
        self.sqlite_path.as_deref()
    }

    /// The URL with the password replaced by `***`: safe to print and log.
    pub fn redacted(&self) -> String {
        redact(&self.url)
    }

    /// The password, if the URL has one (percent-decoded; a `+` stays a
    /// `+`: the user part of a URL is not form data).
    pub fn password(&self) -> Option<String> {
        self.url.password().map(|p| {
            percent_encoding::percent_decode_str(p)
                .decode_utf8_lossy()
                .into_owned()
        })
    }

    /// The same URL with its SQLite file at `path` (the installer resolves
    /// the file inside the host's root first).
    pub fn with_sqlite_path(mut self, path: PathBuf) -> Self {
        if self.backend == Backend::Sqlite {
            self.sqlite_path = Some(path);
        }
        self
    }

    /// The URL without its password, for tools that take the password from
    /// the environment.
    pub fn without_password(&self) -> String {
        let mut url = self.url.clone();
        let _ = url.set_password(None);
        url.to_string()
    }

    /// The same server and credentials, another database (not for SQLite).
    pub fn with_database(&self, name: &str) -> Self {
        let mut url = self.url.clone();
        url.set_path(&format!("/{name}"));
        Self {
            backend: self.backend,
            url,
            sqlite_path: None,
        }
    }

    /// The full URL, password included: only for opening connections.
    pub(crate) fn secret_url(&self) -> &str {
        self.url.as_str()
    }

    /// The database name (the URL path), for PostgreSQL and MariaDB.
    pub fn database(&self) -> String {
        self.url.path().trim_start_matches('/').to_owned()
    }

    /// The user, when the URL names one.
    pub fn user(&self) -> Option<String> {
        (!self.url.username().is_empty()).then(|| self.url.username().to_owned())
    }

    /// The server's host, when the URL names one.
    pub fn host(&self) -> Option<String> {
        self.url
            .host_str()
            .filter(|h| !h.is_empty())
            .map(str::to_owned)
    }

    /// The server's port, when the URL names one.
    pub fn port(&self) -> Option<u16> {
        self.url.port()
    }

    /// A query parameter such as `host` (PostgreSQL socket directory) or
    /// `socket` (MariaDB socket path).
    pub fn query(&self, key: &str) -> Option<String> {
        self.url
            .query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    if shown.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let secret = ["password", "passfile", "sslpassword"]
                    .iter()
                    .any(|s| k.eq_ignore_ascii_case(s));
                (
                    k.into_owned(),
                    if secret { "***".into() } else { v.into_owned() },
                )
            })
            .collect();
        shown.query_pairs_mut().clear().extend_pairs(pairs);
    }
    shown.to_string()
}

/// Best-effort redaction of something that did not even parse.
fn redact_text(text: &str) -> String {
    match (text.find("://"), text.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &text[s + 3..at];
            match creds.find(':') {
                Some(colon) => format!("{}{}:***{}", &text[..s + 3], &creds[..colon], &text[at..]),
                None => text.to_owned(),
            }
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_url_may_name_no_database() {
        let m = DatabaseUrl::parse_server("mariadb://root@127.0.0.1:3306/").unwrap();
        assert_eq!(
            (m.backend(), m.database()),
            (Backend::Mariadb, "information_schema".to_owned())
        );
        let p = DatabaseUrl::parse_server("postgresql://me@localhost").unwrap();
        assert_eq!(p.database(), "postgres");
        assert_eq!(
            DatabaseUrl::parse_server("mysql://root@h/mysql")
                .unwrap()
                .database(),
            "mysql"
        );
        assert!(DatabaseUrl::parse_server("sqlite:///x.db").is_err());
        assert!(DatabaseUrl::parse_server("not a url").is_err());
    }

    #[test]
    fn redacts_passwords_everywhere() {
        let u = DatabaseUrl::parse(
            "postgresql://manager:s3cr%40t@db:5432/manager",
            Path::new("/"),
        )
        .unwrap();
        assert_eq!(u.redacted(), "postgresql://manager:***@db:5432/manager");
        assert_eq!(format!("{u} {u:?}").matches("s3cr").count(), 0);
        assert_eq!(u.password().as_deref(), Some("s3cr@t"));
        assert_eq!(u.without_password(), "postgresql://manager@db:5432/manager");
        let bad = DatabaseUrl::parse("oracle://u:hunter2@h/db", Path::new("/")).unwrap_err();
        assert!(!bad.to_string().contains("hunter2"), "{bad}");
        assert_eq!(redact_text("x://u:hunter2@h"), "x://u:***@h");
    }

    #[test]
    fn a_plus_in_a_password_is_a_plus() {
        let u = DatabaseUrl::parse("postgresql://m:a+b%2Bc@h/db", Path::new("/")).unwrap();
        assert_eq!(u.password().as_deref(), Some("a+b+c"));
    }

    #[test]
    fn refuses_a_password_in_the_query_without_showing_it() {
        let err = DatabaseUrl::parse(
            "postgresql://m@h/db?password=hunter2&sslmode=disable",
            Path::new("/"),
        )
        .unwrap_err();
        assert!(matches!(err, UrlError::PasswordInQuery(_)));
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(err.to_string().contains("password=***"), "{err}");
    }

    #[test]
    fn sqlite_paths_are_taken_inside_the_root() {
        let u = DatabaseUrl::parse("sqlite:///var/lib/manager/db.sqlite", Path::new("/srv/h1"))
            .unwrap();
        assert_eq!(
            u.sqlite_path(),
            Some(Path::new("/srv/h1/var/lib/manager/db.sqlite"))
        );
        assert!(DatabaseUrl::parse("sqlite://relative.db", Path::new("/")).is_err());
    }

    #[test]
    fn knows_backends_and_socket_parameters() {
        let u = DatabaseUrl::parse(
            "mariadb://root@localhost/m?socket=/run/mysqld/mysqld.sock",
            Path::new("/"),
        )
        .unwrap();
        assert_eq!(u.backend(), Backend::Mariadb);
        assert_eq!(
            u.query("socket").as_deref(),
            Some("/run/mysqld/mysqld.sock")
        );
        assert_eq!(u.database(), "m");
        assert!(DatabaseUrl::parse("postgresql://h/", Path::new("/")).is_err());
    }
}
