//! The schemas a hop expects, made at build time: for each database the
//! hop supports, the package's migrations are applied to a scratch
//! database — SQLite in a file, PostgreSQL and MariaDB on the server
//! `--schema-db` names — and its normalised schema is recorded after the
//! `from` version's migrations and after all of them. The installer
//! compares a live database with them to adopt it and to find drift.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use hop_artifact::digest::Sha256Digest;
use hop_artifact::migration::{Backend, Phase};
use hop_artifact::package_manifest::{ExpectedSchemas, ToolTable};
use hop_migrate::schema::Schema;
use hop_migrate::scratch::ScratchDatabase;
use hop_migrate::{DatabaseUrl, Migrator, Options, Quiet, Script};
use serde::{Deserialize, Serialize};

use crate::Refused;
use crate::validate::{MemberSource, Plan};

/// Where scratch databases come from, and where results are kept.
#[derive(Clone, Debug, Default)]
pub struct SchemaOptions {
    /// Server URLs (`postgresql://…`, `mysql://…`) for scratch databases.
    pub servers: Vec<String>,
    /// A directory to keep made schemas in, keyed by the migrations'
    /// content (release CI and tests build many packages of one history).
    pub cache: Option<PathBuf>,
}

#[derive(Serialize, Deserialize)]
struct Pair {
    from: Schema,
    to: Schema,
    /// The vendor checks whose query fails on a database at `to`: (id,
    /// the database's error).
    #[serde(default)]
    check_errors: Vec<(String, String)>,
}

/// A vendor check's query to try on the database at `to`: (id, sql, timeout).
type CheckQuery = (String, String, std::time::Duration);

/// Makes the expected schemas of `plan` in `work`, adding them as members
/// and to the manifest; returns notes for databases it could not do.
pub fn make(plan: &mut Plan, options: &SchemaOptions, work: &Path) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    // Every --schema-db must be usable: one that cannot be read is an
    // error, never skipped (the note would then ask for --schema-db).
    let mut servers = Vec::new();
    for text in &options.servers {
        servers.push(DatabaseUrl::parse_server(text).map_err(|e| {
            Refused::new(format!(
                "--schema-db: {e}; give a server as postgresql://USER@HOST[:PORT][/DB] or \
                 mysql://USER@HOST[:PORT][/DB] (mariadb:// too)"
            ))
        })?);
    }
    let Some(database) = plan.manifest.database.clone() else {
        return Ok(notes);
    };
    if plan.manifest.migrations.is_empty() {
        return Ok(notes);
    }
    let from_last = plan.manifest.from_last_migration.unwrap_or(0);
    let checks: Vec<CheckQuery> = plan
        .manifest
        .checks
        .iter()
        .filter_map(|c| Some((c.id.clone(), c.sql.clone()?, c.timeout)))
        .collect();
    let mut check_errors = Vec::new();
    for backend in database.min_server_version.keys().copied() {
        let scripts = scripts_for(plan, backend)?;
        let tools = &plan.manifest.tool_tables;
        let key = cache_key(backend, from_last, &scripts, &checks, tools);
        let cached = options
            .cache
            .as_ref()
            .map(|d| d.join(format!("{key}.json")))
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice::<Pair>(&b).ok());
        let pair = match cached {
            Some(p) => p,
            None => {
                // A file database needs no server to build its schema on.
                let server = if hop_migrate::dialect::dialect(backend).is_file() {
                    None
                } else {
                    match servers.iter().find(|u| u.backend() == backend) {
                        Some(url) => Some(url.clone()),
                        None => {
                            notes.push(format!(
                                "no expected {backend} schema recorded (give --schema-db {backend}://…): \
                                 installers cannot adopt {backend} databases by their schema or check them for drift"
                            ));
                            continue;
                        }
                    }
                };
                let pair = apply_and_read(
                    backend,
                    server.as_ref(),
                    &scripts,
                    from_last,
                    &checks,
                    tools,
                    work,
                )?;
                if let Some(dir) = &options.cache {
                    // Whole or not at all: other builds may read it now.
                    std::fs::create_dir_all(dir)?;
                    let tmp = tempfile::NamedTempFile::new_in(dir)?;
                    std::fs::write(tmp.path(), serde_json::to_vec(&pair)?)?;
                    tmp.persist(dir.join(format!("{key}.json")))?;
                }
                pair
            }
        };
        for (id, error) in &pair.check_errors {
            check_errors.push(format!(
                "checks ({id}): its sql fails on a {backend} database at {}: {error}",
                plan.manifest.to
            ));
        }
        let dir = work.join("schemas");
        std::fs::create_dir_all(&dir)?;
        let mut members = Vec::new();
        for (which, schema) in [("from", &pair.from), ("to", &pair.to)] {
            let name = format!("{backend}-{which}.json");
            std::fs::write(dir.join(&name), schema.to_json())?;
            let member = format!("schemas/{name}");
            plan.sources.push(MemberSource {
                path: member.clone(),
                file: dir.join(&name),
            });
            members.push(member);
        }
        let [from, to] =
            <[String; 2]>::try_from(members).map_err(|_| anyhow::anyhow!("two members"))?;
        plan.manifest
            .expected_schemas
            .insert(backend, ExpectedSchemas { from, to });
    }
    if !check_errors.is_empty() {
        bail!(Refused::new(format!(
            "a vendor check would fail on every host: {}",
            check_errors.join("; ")
        )));
    }
    plan.sources.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(notes)
}

/// The package's migrations as they apply on `backend`.
fn scripts_for(plan: &Plan, backend: Backend) -> Result<Vec<Script>> {
    plan.manifest
        .migrations_for(backend)
        .map(|(m, member)| {
            let src = plan
                .sources
                .iter()
                .find(|s| s.path == member)
                .with_context(|| format!("no source for {member}"))?;
            let text = std::fs::read_to_string(&src.file)
                .with_context(|| format!("reading {}", src.file.display()))?;
            Script::parse(&m.file_name(), &text).map_err(anyhow::Error::msg)
        })
        .collect()
}

fn cache_key(
    backend: Backend,
    from_last: u32,
    scripts: &[Script],
    checks: &[CheckQuery],
    tools: &[ToolTable],
) -> String {
    let mut text = format!("{backend} {from_last} schema-v2\n");
    for t in tools {
        text += &format!("tool table {}\n", t.table());
    }
    for s in scripts {
        text += &format!("{} {}\n", s.file, s.checksum.to_hex());
    }
    for (id, sql, _) in checks {
        text += &format!("check {id} {sql}\n");
    }
    Sha256Digest::of(text.as_bytes()).to_hex()
}

/// Applies the migrations up to `from_last` in version order (the earlier
/// hops' history, whose hop boundaries the package does not know), reads
/// the schema, applies the rest phase by phase as this hop's upgrade does,
/// reads it again.
fn apply_and_read(
    backend: Backend,
    server: Option<&DatabaseUrl>,
    scripts: &[Script],
    from_last: u32,
    checks: &[CheckQuery],
    tools: &[ToolTable],
    work: &Path,
) -> Result<Pair> {
    let scratch;
    let url = match server {
        Some(server) => {
            scratch = ScratchDatabase::create(server, "schema")
                .with_context(|| format!("making a scratch {backend} database"))?;
            scratch.url().clone()
        }
        None => {
            let file = work.join("schema.sqlite");
            let _ = std::fs::remove_file(&file);
            DatabaseUrl::parse("sqlite:///schema.sqlite", work)?
        }
    };
    let mut m = Migrator::connect(
        &url,
        Options {
            create_sqlite: true,
            ..Options::default()
        },
    )?
    .with_tool_tables(tools);
    let early: Vec<Script> = scripts
        .iter()
        .filter(|s| s.version <= from_last)
        .cloned()
        .collect();
    for (i, script) in early.iter().enumerate() {
        apply(&mut m, &early[..=i], script.phase, backend)?;
    }
    let from = m.schema()?;
    run(&mut m, scripts, backend)?;
    let to = m.schema()?;
    // Each vendor query, on the database as every host will have it.
    let check_errors = checks
        .iter()
        .filter_map(|(id, sql, timeout)| {
            m.run_check(sql, *timeout)
                .err()
                .map(|e| (id.clone(), e.to_string()))
        })
        .collect();
    Ok(Pair {
        from,
        to,
        check_errors,
    })
}

/// Applies `set` phase by phase, as upgrades do.
fn run(m: &mut Migrator, set: &[Script], backend: Backend) -> Result<()> {
    for phase in Phase::ALL {
        apply(m, set, phase, backend)?;
    }
    Ok(())
}

fn apply(m: &mut Migrator, set: &[Script], phase: Phase, backend: Backend) -> Result<()> {
    if let Err(e) = m.apply(set, phase, "expected schema", &mut Quiet) {
        bail!(Refused::new(format!(
            "the migrations do not apply on a fresh {backend} database: {e}"
        )));
    }
    Ok(())
}
