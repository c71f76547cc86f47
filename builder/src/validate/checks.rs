//! `checks`: the vendor's checks — ids of their own, a severity, a remedy,
//! and either one read-only query or an existing script.

use std::time::Duration;

use hop_artifact::duration_text;
use hop_artifact::migration::Backend;
use hop_artifact::package_manifest::{VendorCheck, check_vendor_check};
use hop_artifact::source_manifest::SourceCheck;

use super::Context;

/// How long a check script may run unless the manifest says.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

pub(super) fn check(
    cx: &mut Context<'_>,
    checks: &[SourceCheck],
    backends: &[Backend],
) -> Vec<VendorCheck> {
    let mut out = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    for (i, c) in checks.iter().enumerate() {
        let field = format!("checks[{i}] ({})", c.id);
        if !ids.insert(c.id.as_str()) {
            cx.problems.add(
                format!("{field}.id"),
                format!(
                    "{} is the id of another check: every host would refuse the package",
                    c.id
                ),
            );
        }
        let failure = match c.severity.as_str() {
            "failure" => true,
            "warning" => false,
            other => {
                cx.problems.add(
                    &field,
                    format!("severity {other:?}: use warning or failure"),
                );
                continue;
            }
        };
        if c.remedy.trim().is_empty() || c.title.trim().is_empty() {
            cx.problems.add(
                &field,
                "give a title and a remedy (what to do about a finding)",
            );
        }
        let timeout = match c.timeout.as_deref().map(duration_text::parse) {
            None => DEFAULT_TIMEOUT,
            Some(Ok(d)) if !d.is_zero() => d,
            Some(Ok(_)) => {
                cx.problems.add(&field, "timeout must be longer than 0s");
                continue;
            }
            Some(Err(e)) => {
                cx.problems.add(&field, format!("timeout: {e}"));
                continue;
            }
        };
        if let Some(sql) = &c.sql {
            for backend in backends {
                if let Err(e) = read_only(sql, *backend) {
                    cx.problems.add(&field, format!("sql ({backend}): {e}"));
                }
            }
        }
        let script = match &c.script {
            Some(path) => {
                let Some(file) = cx.existing_file(&field, path) else {
                    continue;
                };
                let member = format!("scripts/checks/{}", c.id);
                cx.add_member(member.clone(), file);
                Some(member)
            }
            None => None,
        };
        let vendor = VendorCheck {
            id: c.id.clone(),
            title: c.title.clone(),
            failure,
            sql: c.sql.clone(),
            script,
            timeout,
            remedy: c.remedy.clone(),
            waivable: c.waivable,
            run_as: c.run_as.clone(),
        };
        if let Err(e) = check_vendor_check(&vendor) {
            cx.problems.add(&field, e);
            continue;
        }
        out.push(vendor);
    }
    out
}

/// One query that only reads (see `hop_artifact::check_query`).
fn read_only(sql: &str, backend: Backend) -> Result<(), String> {
    hop_artifact::check_query::check(sql, backend)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_reading_query_is_a_check() {
        let pg = Backend::Postgresql;
        assert!(
            read_only(
                "SELECT email FROM users GROUP BY email HAVING COUNT(*) > 1",
                pg
            )
            .is_ok()
        );
        assert!(read_only("WITH d AS (SELECT 1) SELECT * FROM d", pg).is_ok());
        assert!(read_only("SELECT 'DELETE' FROM t", pg).is_ok());
        assert!(read_only("DELETE FROM users", pg).is_err());
        assert!(read_only("SELECT 1; SELECT 2", pg).is_err());
        assert!(read_only("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", pg).is_err());
        assert!(read_only("SELECT * INTO copy FROM t", pg).is_err());
        assert!(read_only("SELECT pg_terminate_backend(1)", pg).is_err());
        assert!(read_only("SELECT dblink_exec('x', 'DELETE FROM t')", pg).is_err());
    }

    #[test]
    fn a_vendor_check_has_an_id_of_its_own_and_one_way_to_run() {
        let check = |id: &str, sql: Option<&str>, script: Option<&str>| VendorCheck {
            id: id.into(),
            title: "t".into(),
            failure: true,
            sql: sql.map(str::to_owned),
            script: script.map(str::to_owned),
            timeout: DEFAULT_TIMEOUT,
            remedy: "r".into(),
            waivable: true,
            run_as: None,
        };
        assert!(
            check_vendor_check(&check("manager.unique-emails", Some("SELECT 1"), None)).is_ok()
        );
        assert!(
            check_vendor_check(&check("manager.licence", None, Some("scripts/checks/x"))).is_ok()
        );
        assert!(check_vendor_check(&check("hop.disk-space", Some("SELECT 1"), None)).is_err());
        assert!(check_vendor_check(&check("Manager.Emails", Some("SELECT 1"), None)).is_err());
        assert!(check_vendor_check(&check("noprefix", Some("SELECT 1"), None)).is_err());
        assert!(check_vendor_check(&check("m.both", Some("SELECT 1"), Some("s"))).is_err());
        assert!(check_vendor_check(&check("m.neither", None, None)).is_err());
    }
}
