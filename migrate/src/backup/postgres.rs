//! PostgreSQL's backups: `pg_dump -Fc`, checked with `pg_restore --list`.
//! A restore drops every user schema (so objects created after the dump go
//! too), recreates `public` with its owner and grants where the dump will
//! not, and replays `pg_restore --clean --if-exists`, all in one `psql`
//! transaction.

use std::path::Path;

use hop_exec::{Command, Run};

use super::{create_private, run};
use crate::error::MigrateError;
use crate::url::DatabaseUrl;

/// Whether `dump` is a custom-format dump `pg_restore` can read.
pub(super) fn check(dump: &Path, tools: &dyn Run) -> Result<(), MigrateError> {
    run(tools, &list(dump)).map(drop)
}

fn list(dump: &Path) -> Command {
    Command::new("pg_restore")
        .arg("--list")
        .arg(dump.display().to_string())
}

/// Dumps `url`'s database into `dest` (created already, private).
pub(super) fn dump(url: &DatabaseUrl, dest: &Path, tools: &dyn Run) -> Result<(), MigrateError> {
    let mut dump = Command::new("pg_dump")
        .args(["-Fc", "--no-password"])
        .arg(format!("--dbname={}", url.without_password()))
        .secret_env("PGPASSWORD", url.password());
    dump.stdout = Some(dest.to_path_buf());
    run(tools, &dump).map(drop)
}

/// Puts `url`'s database back as `dump` has it, in one transaction.
pub(super) fn restore(url: &DatabaseUrl, dump: &Path, tools: &dyn Run) -> Result<(), MigrateError> {
    let toc = run(tools, &list(dump))?;
    let dump_has_public = dump_creates_public(&toc);
    let script = dump.with_extension("restore.sql");
    create_private(&script)?;
    let result = (|| {
        run(
            tools,
            &Command::new("pg_restore")
                .args(["--clean", "--if-exists", "-f"])
                .arg(script.display().to_string())
                .arg(dump.display().to_string()),
        )?;
        run(
            tools,
            &Command::new("psql")
                .args([
                    "--no-psqlrc",
                    "--quiet",
                    "--single-transaction",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "--no-password",
                ])
                .arg(format!("--dbname={}", url.without_password()))
                .arg("-c")
                .arg(clear_schemas(!dump_has_public))
                .arg("-f")
                .arg(script.display().to_string())
                .secret_env("PGPASSWORD", url.password()),
        )
    })();
    let _ = std::fs::remove_file(&script);
    result.map(drop)
}

/// Whether restoring the dump whose `pg_restore --list` is `toc` creates
/// the `public` schema: its entry is there, and the dump is of a server of
/// 15 or later. Of an older server, pg_dump lists the entry but does not
/// create the schema ("*not* creating schema, since initdb creates it").
pub fn dump_creates_public(toc: &str) -> bool {
    let listed = toc.lines().any(|l| l.contains(" SCHEMA - public "));
    let source_major = toc.lines().find_map(|l| {
        l.trim_start_matches(';')
            .trim()
            .strip_prefix("Dumped from database version:")?
            .trim()
            .split(['.', ' '])
            .next()?
            .parse::<u32>()
            .ok()
    });
    listed && source_major.is_none_or(|m| m >= 15)
}

/// SQL that drops every user schema and, when the dump will not, recreates
/// `public` with its owner, grants and comment as they were.
fn clear_schemas(recreate_public: bool) -> String {
    format!(
        r#"DO $hop$
DECLARE
    s record;
    public_owner text;
    public_comment text;
    grants text[];
    g text;
BEGIN
    SELECT pg_get_userbyid(nspowner), obj_description(oid, 'pg_namespace')
      INTO public_owner, public_comment FROM pg_namespace WHERE nspname = 'public';
    SELECT array_agg(format('GRANT %s ON SCHEMA public TO %s', a.privilege_type,
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END))
      INTO grants
      FROM pg_namespace n, aclexplode(n.nspacl) a
     WHERE n.nspname = 'public' AND a.grantee <> n.nspowner;
    FOR s IN SELECT nspname FROM pg_namespace
             WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema' LOOP
        EXECUTE format('DROP SCHEMA %I CASCADE', s.nspname);
    END LOOP;
    IF {recreate_public} AND public_owner IS NOT NULL THEN
        EXECUTE format('CREATE SCHEMA public AUTHORIZATION %I', public_owner);
        FOREACH g IN ARRAY coalesce(grants, ARRAY[]::text[]) LOOP
            EXECUTE g;
        END LOOP;
        IF public_comment IS NOT NULL THEN
            EXECUTE format('COMMENT ON SCHEMA public IS %L', public_comment);
        END IF;
    END IF;
END
$hop$;"#
    )
}

#[cfg(test)]
mod tests {
    use super::dump_creates_public;

    const ENTRY: &str = "6; 2615 2200 SCHEMA - public postgres\n";

    #[test]
    fn public_is_created_by_a_dump_of_15_and_recreated_by_hop_for_older_servers() {
        let of = |version: &str| format!(";     Dumped from database version: {version}\n{ENTRY}");
        assert!(dump_creates_public(&of("15.20 (Debian 15.20-0+deb12u1)")));
        assert!(dump_creates_public(&of("16.4")));
        assert!(!dump_creates_public(&of("12.22")));
        assert!(!dump_creates_public(&of("14.23")));
        assert!(!dump_creates_public(
            ";     Dumped from database version: 15.2\n"
        ));
        assert!(dump_creates_public(ENTRY));
    }
}
