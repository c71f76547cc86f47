//! Checks a source manifest and everything it names, before anything is
//! written, and turns it into a [`Plan`]: the package manifest (without
//! digests yet) and the file behind each payload member.
//!
//! Every problem is collected, not just the first, so a release engineer
//! fixes them all in one round. Each names the manifest, the field and
//! what is wrong.

mod checks;
mod components;
mod configs;
mod migrations;
mod scripts;
mod services;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use hop_artifact::PackageManifest;
use hop_artifact::migration::Backend;
use hop_artifact::package_manifest::{DatabaseRequirements, FORMAT_VERSION, check_product_name};
use hop_artifact::source_manifest::{MAX_SOURCE_MANIFEST, SourceManifest};
use hop_artifact::version::Version;

/// All that is wrong with a manifest's inputs.
#[derive(Debug, Default)]
pub struct Problems {
    manifest: String,
    items: Vec<String>,
}

impl Problems {
    fn new(manifest: &Path) -> Self {
        Self {
            manifest: manifest.display().to_string(),
            items: Vec::new(),
        }
    }

    /// Records a problem with `field` (a path such as `components[1].rpm`).
    pub fn add(&mut self, field: impl fmt::Display, message: impl fmt::Display) {
        self.items
            .push(format!("{}: {field}: {message}", self.manifest));
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for item in &self.items {
            writeln!(f, "  {item}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// A payload member and the file it is read from.
#[derive(Clone, Debug)]
pub struct MemberSource {
    pub path: String,
    pub file: PathBuf,
}

/// What `build` will write: the manifest (members still to be hashed) and
/// the sources of the payload.
#[derive(Debug)]
pub struct Plan {
    pub manifest: PackageManifest,
    pub sources: Vec<MemberSource>,
    /// Things the release engineer should know that are not problems
    /// (files left out, schemas not made).
    pub notes: Vec<String>,
}

/// Everything a section check needs: where the manifest is, and where to
/// report.
pub(crate) struct Context<'a> {
    pub base: &'a Path,
    pub problems: &'a mut Problems,
    pub sources: &'a mut Vec<MemberSource>,
    pub notes: &'a mut Vec<String>,
    /// Findings of the online-migration linter the migrations waived.
    pub waivers: &'a mut Vec<hop_artifact::package_manifest::LintWaiver>,
}

impl Context<'_> {
    /// Resolves a path written in the manifest (relative to the manifest).
    pub fn resolve(&self, relative: &str) -> PathBuf {
        self.base.join(relative)
    }

    /// Resolves a path that must name an existing regular file; reports it
    /// under `field` otherwise.
    pub fn existing_file(&mut self, field: &str, relative: &str) -> Option<PathBuf> {
        let path = self.resolve(relative);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => Some(path),
            Ok(_) => {
                self.problems
                    .add(field, format!("{relative} is not a regular file"));
                None
            }
            Err(e) => {
                self.problems.add(field, format!("{relative}: {e}"));
                None
            }
        }
    }

    pub fn add_member(&mut self, member: String, file: PathBuf) {
        self.sources.push(MemberSource { path: member, file });
    }
}

/// Reads, parses and checks the manifest at `path`.
pub fn validate(path: &Path, builder: &str, source_date_epoch: u64) -> Result<Plan, Problems> {
    let mut problems = Problems::new(path);
    let source = match read_source(path) {
        Ok(source) => source,
        Err(message) => {
            problems.add("(file)", message);
            return Err(problems);
        }
    };
    let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();

    if let Err(e) = check_product_name(&source.product) {
        problems.add("product", e);
    }
    let from = parse_version(&mut problems, "from", &source.from);
    let to = parse_version(&mut problems, "to", &source.to);
    if let (Some(from), Some(to)) = (&from, &to)
        && from >= to
    {
        problems.add(
            "to",
            format!("{to} is not newer than from ({from}) in RPM version order"),
        );
    }
    if source.release == Some(0) {
        problems.add("release", "a release is a number from 1 up");
    }
    let database = check_database(&mut problems, &source);
    let backends: Vec<Backend> = database
        .as_ref()
        .map(|d| d.min_server_version.keys().copied().collect())
        .unwrap_or_default();

    let mut sources = Vec::new();
    let mut notes = Vec::new();
    let mut waivers = Vec::new();
    let mut cx = Context {
        base: &base,
        problems: &mut problems,
        sources: &mut sources,
        notes: &mut notes,
        waivers: &mut waivers,
    };
    let components = components::check(&mut cx, &source.components);
    let configs = configs::check(&mut cx, &source.configs);
    let oldest = database
        .as_ref()
        .map(|d| d.min_server_version.clone())
        .unwrap_or_default();
    let migrations = migrations::check(&mut cx, source.migrations.as_deref(), &oldest);
    let services = services::check(&mut cx, &source.services);
    let (scripts, script_timeouts) = scripts::check(&mut cx, &source.scripts);
    let checks = checks::check(&mut cx, &source.checks, &backends);
    migrations::check_from_last(
        &mut cx,
        source.from_last_migration,
        &migrations,
        &source.from,
    );

    if let Some(to) = &to
        && !components.is_empty()
        && !components.iter().any(|c| c.version == to.as_str())
    {
        let carried: Vec<String> = components
            .iter()
            .map(|c| format!("{} {}", c.name, c.version))
            .collect();
        problems.add(
            "to",
            format!(
                "no component carries {to} ({}): a host reads its version from the product's \
                 RPMs, so after this hop it would not say {to}, and no later hop would apply; \
                 give the components of {to}",
                carried.join(", ")
            ),
        );
    }
    if source.services.is_empty() {
        notes.push(
            "the hop names no services: nothing is stopped, started or health-gated, so the \
             upgraded code runs only after the next restart"
                .into(),
        );
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let (Some(from), Some(to)) = (from, to) else {
        return Err(problems);
    };
    sources.sort_by(|a, b| a.path.cmp(&b.path));
    let mut manifest = PackageManifest {
        format: FORMAT_VERSION,
        product: source.product,
        from,
        to,
        builder: builder.to_owned(),
        release: source.release.unwrap_or(1),
        source_date_epoch,
        database,
        components,
        configs,
        migrations,
        from_last_migration: source.from_last_migration,
        expected_schemas: BTreeMap::new(),
        tool_tables: source
            .adoption
            .as_ref()
            .map(|a| a.tool_tables())
            .unwrap_or_default(),
        alembic_revisions: source.adoption.map(|a| a.alembic).unwrap_or_default(),
        services,
        scripts,
        script_timeouts,
        members: Vec::new(),
        rolling: false,
        waivers,
        checks,
    };
    manifest.rolling = manifest.can_roll();
    Ok(Plan {
        manifest,
        sources,
        notes,
    })
}

fn read_source(path: &Path) -> Result<SourceManifest, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
    if meta.len() > MAX_SOURCE_MANIFEST {
        return Err(format!(
            "it is {} bytes; a source manifest may be at most {MAX_SOURCE_MANIFEST}",
            meta.len()
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
    SourceManifest::parse(&text).map_err(|e| format!("not a valid source manifest: {e}"))
}

fn parse_version(problems: &mut Problems, field: &str, text: &str) -> Option<Version> {
    Version::parse(text)
        .map_err(|e| problems.add(field, e))
        .ok()
}

fn check_database(
    problems: &mut Problems,
    source: &SourceManifest,
) -> Option<DatabaseRequirements> {
    let Some(db) = &source.database else {
        if source.migrations.is_some() {
            problems.add(
                "database",
                "a hop with migrations must say which databases it supports (database.min_server_version)",
            );
        }
        return None;
    };
    let mut min = BTreeMap::new();
    for (name, version) in &db.min_server_version {
        let field = format!("database.min_server_version.{name}");
        match name.parse::<Backend>() {
            Ok(backend) => {
                if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                    problems.add(
                        &field,
                        format!("{version:?} is not a version such as \"13\" or \"10.6\""),
                    );
                }
                min.insert(backend, version.clone());
            }
            Err(e) => problems.add(&field, e),
        }
    }
    if min.is_empty() {
        problems.add(
            "database.min_server_version",
            "name at least one of postgresql, mariadb, sqlite",
        );
    }
    Some(DatabaseRequirements {
        min_server_version: min,
    })
}
