//! Is this database server one the package supports? Checked before any
//! migration runs.

use crate::dialect::dialect;
pub use crate::facts::ServerFacts;
pub(crate) use crate::facts::leading_version;
use hop_artifact::migration::Backend;
use hop_artifact::version::rpm_compare;

/// Why the server cannot be used, one sentence each; empty when it can:
/// not the server the backend names, older than `min_version`, or set up
/// in a way hop cannot work with (what each backend demands is its
/// dialect's).
pub fn problems(backend: Backend, facts: &ServerFacts, min_version: Option<&str>) -> Vec<String> {
    let dialect = dialect(backend);
    let mut out: Vec<String> = dialect.not_this_server(facts).into_iter().collect();
    if let Some(min) = min_version
        && rpm_compare(&facts.version, min).is_lt()
    {
        out.push(format!(
            "{} {} is older than {min}, the oldest this package supports; upgrade the database server first",
            dialect.name(),
            facts.version
        ));
    }
    out.extend(dialect.setting_problems(facts));
    out
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
