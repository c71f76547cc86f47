//! Is this database server one the package supports? Checked before any
//! migration runs.

use hop_artifact::migration::Backend;
use hop_artifact::version::rpm_compare;

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

/// Why the server cannot be used, one sentence each; empty when it can.
pub fn problems(backend: Backend, facts: &ServerFacts, min_version: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    let name = match backend {
        Backend::Postgresql => "PostgreSQL",
        Backend::Mariadb => "MariaDB",
        Backend::Sqlite => "SQLite",
    };
    if backend == Backend::Mariadb && !facts.version_text.to_ascii_lowercase().contains("mariadb") {
        out.push(format!(
            "the server is MySQL {} (or another MySQL-compatible server), not MariaDB; hop supports MariaDB only",
            facts.version
        ));
    }
    if let Some(min) = min_version
        && rpm_compare(&facts.version, min).is_lt()
    {
        out.push(format!(
            "{name} {} is older than {min}, the oldest this package supports; upgrade the database server first",
            facts.version
        ));
    }
    if backend == Backend::Mariadb {
        match facts.default_engine.as_deref() {
            Some(e) if e.eq_ignore_ascii_case("InnoDB") => {}
            other => out.push(format!(
                "the default storage engine is {}, not InnoDB; set default_storage_engine=InnoDB",
                other.unwrap_or("unknown")
            )),
        }
        if facts.charset.as_deref() != Some("utf8mb4") {
            out.push(format!(
                "the database's character set is {}, not utf8mb4; ALTER DATABASE … CHARACTER SET utf8mb4",
                facts.charset.as_deref().unwrap_or("unknown")
            ));
        }
        if !facts
            .collation
            .as_deref()
            .is_some_and(|c| c.starts_with("utf8mb4_"))
        {
            out.push(format!(
                "the database's collation is {}, not a utf8mb4 collation",
                facts.collation.as_deref().unwrap_or("unknown")
            ));
        }
    }
    out
}

/// The leading `digits.digits…` of a version string.
pub(crate) fn leading_version(text: &str) -> String {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .next()
        .unwrap_or("")
        .trim_end_matches('.')
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mariadb(version_text: &str, engine: &str, charset: &str, collation: &str) -> ServerFacts {
        ServerFacts {
            version: leading_version(version_text),
            version_text: version_text.into(),
            default_engine: Some(engine.into()),
            charset: Some(charset.into()),
            collation: Some(collation.into()),
        }
    }

    #[test]
    fn accepts_a_proper_mariadb() {
        let f = mariadb(
            "10.11.19-MariaDB-0+deb12u1",
            "InnoDB",
            "utf8mb4",
            "utf8mb4_general_ci",
        );
        assert_eq!(f.version, "10.11.19");
        assert!(problems(Backend::Mariadb, &f, Some("10.6")).is_empty());
    }

    #[test]
    fn tells_mysql_from_mariadb() {
        let f = mariadb("8.0.36", "InnoDB", "utf8mb4", "utf8mb4_0900_ai_ci");
        let p = problems(Backend::Mariadb, &f, Some("10.6"));
        assert!(p.iter().any(|m| m.contains("is MySQL 8.0.36")), "{p:?}");
    }

    #[test]
    fn refuses_wrong_engine_charset_and_collation() {
        let f = mariadb("10.11.2-MariaDB", "MyISAM", "latin1", "latin1_swedish_ci");
        let p = problems(Backend::Mariadb, &f, None).join("\n");
        assert!(p.contains("MyISAM, not InnoDB"), "{p}");
        assert!(p.contains("latin1, not utf8mb4"), "{p}");
        assert!(
            p.contains("latin1_swedish_ci, not a utf8mb4 collation"),
            "{p}"
        );
    }

    #[test]
    fn refuses_servers_older_than_the_minimum() {
        let f = ServerFacts {
            version: leading_version("12.17 (Debian)"),
            version_text: "12.17 (Debian)".into(),
            ..Default::default()
        };
        let p = problems(Backend::Postgresql, &f, Some("13"));
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("PostgreSQL 12.17 is older than 13"), "{p:?}");
        assert!(problems(Backend::Postgresql, &f, Some("12.9")).is_empty());
    }
}
