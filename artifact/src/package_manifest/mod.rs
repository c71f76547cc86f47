//! `hop.yaml`: the package manifest the builder writes and the installer
//! trusts once its signature checks out.
//!
//! It records what the hop is (product, `from`, `to`), what it contains
//! (every payload member with its size and SHA-256, in archive order) and
//! what to do with it (components, configs, migrations, services, scripts).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::migration::Backend;
use crate::version::Version;

mod checks;
mod parts;
mod phases;
mod tool_tables;
mod waves;

pub use checks::{
    MAX_MEMBER_PATH, check_host_path, check_member_path, check_product_name, parse_mode,
};
pub use parts::{
    Component, ConfigFile, DEFAULT_HOOK_TIMEOUT, DEFAULT_SETTLE, DatabaseRequirements, Drain,
    ExpectedSchemas, HealthCheck, Hook, LintWaiver, Member, Migration, Probe, Service, VendorCheck,
};
pub use tool_tables::ToolTable;
pub use waves::start_waves;

fn first_release() -> u32 {
    1
}

fn is_first_release(r: &u32) -> bool {
    *r == 1
}

/// The package format this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The top-level folders a payload member may live in.
pub const PAYLOAD_FOLDERS: [&str; 5] = ["rpms", "configs", "migrations", "schemas", "scripts"];

/// `hop.yaml`: everything the installer needs to know about a package,
/// signed as a whole; every payload member is listed with its digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageManifest {
    /// The manifest format (1).
    pub format: u32,
    /// The product this hop upgrades (`manager`).
    pub product: String,
    /// The version a host must run to take this hop.
    pub from: Version,
    /// The version the host runs afterwards.
    pub to: Version,
    /// `hop-build <version>`.
    pub builder: String,
    /// The package's own release, for a re-spun hop (the same from and
    /// to, built again): the RPM `hop-build publish` wraps it in carries
    /// it, so the new one can be published beside the old.
    #[serde(default = "first_release", skip_serializing_if = "is_first_release")]
    pub release: u32,
    /// Seconds since the epoch: `SOURCE_DATE_EPOCH`, or 0. Also the mtime of
    /// every archive member.
    pub source_date_epoch: u64,
    /// Which databases the hop supports, and their oldest servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseRequirements>,
    /// The RPMs of the `to` version, installed in one transaction.
    pub components: Vec<Component>,
    /// Config files deployed after the RPMs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub configs: Vec<ConfigFile>,
    /// Schema migrations, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub migrations: Vec<Migration>,
    /// The last migration the `from` version shipped: what a database at
    /// `from` holds (adoption, expected schemas).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_last_migration: Option<u32>,
    /// Set by the builder when the hop has no offline migration of its
    /// own: it can then be applied to a cluster node by node (`expand`,
    /// `apply --node`, `contract`) while the other nodes serve.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rolling: bool,
    /// Findings of the online-migration linter the migrations waived.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waivers: Vec<LintWaiver>,
    /// Checks the vendor ships, run by `check` beside hop's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<VendorCheck>,
    /// Per database, the schema expected after `from`'s migrations and
    /// after `to`'s (payload members under `schemas/`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub expected_schemas: BTreeMap<Backend, ExpectedSchemas>,
    /// Alembic revision → migration number, to adopt a database Alembic
    /// made.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub alembic_revisions: BTreeMap<String, u32>,
    /// Migration tools' history tables the migrations use: made before
    /// the first migration where missing, kept where they exist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_tables: Vec<ToolTable>,
    /// The product's services, started in this order and stopped in reverse.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Service>,
    /// Hook scripts (payload members under `scripts/`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scripts: BTreeMap<Hook, String>,
    /// How long each hook may run before hop kills it (default
    /// [`DEFAULT_HOOK_TIMEOUT`]).
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        with = "parts::timeouts_text"
    )]
    pub script_timeouts: BTreeMap<Hook, Duration>,
    /// Every payload member, in archive order.
    pub members: Vec<Member>,
}

impl PackageManifest {
    /// Whether a cluster's nodes run other configs while the hop rolls
    /// (pinned versions), to be replaced by `hop-install unpin`.
    pub fn pins_during_roll(&self) -> bool {
        self.configs.iter().any(|c| c.during_roll.is_some())
    }

    /// How long `hook` may run.
    pub fn hook_timeout(&self, hook: Hook) -> Duration {
        self.script_timeouts
            .get(&hook)
            .copied()
            .unwrap_or(DEFAULT_HOOK_TIMEOUT)
    }

    /// `manager 4.0.1 → 4.1.1`.
    pub fn title(&self) -> String {
        format!("{} {} → {}", self.product, self.from, self.to)
    }

    /// The member at `path`, if the package lists one.
    pub fn member(&self, path: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.path == path)
    }

    /// Migrations as they apply on `backend`, in version order.
    pub fn migrations_for(&self, backend: Backend) -> impl Iterator<Item = (&Migration, &str)> {
        self.migrations
            .iter()
            .map(move |m| (m, m.file_for(backend)))
    }

    /// Checks the manifest's own consistency; each problem is one sentence.
    ///
    /// The reader runs this on a signed `hop.yaml` before trusting it, so a
    /// manifest that a buggy or hostile builder wrote cannot steer the
    /// installer outside the package's members or the host's root.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.format != FORMAT_VERSION {
            problems.push(format!(
                "package format {} is not supported (this hop reads format {FORMAT_VERSION}); use a hop-install as new as the builder",
                self.format
            ));
        }
        if let Err(e) = check_product_name(&self.product) {
            problems.push(e);
        }
        if self.from >= self.to {
            problems.push(format!(
                "from ({}) must be older than to ({})",
                self.from, self.to
            ));
        }

        if self.rolling && !self.can_roll() {
            problems.push(
                "the package is marked rolling but has offline migrations of its own".to_owned(),
            );
        }

        let mut member_paths = BTreeSet::new();
        for member in &self.members {
            if let Err(e) = check_member_path(&member.path) {
                problems.push(e);
            }
            if !member_paths.insert(member.path.as_str()) {
                problems.push(format!("member {} is listed twice", member.path));
            }
        }

        let mut referenced: Vec<(&str, String)> = Vec::new();
        for c in &self.components {
            referenced.push((&c.file, format!("component {}", c.name)));
        }
        for c in &self.configs {
            referenced.push((&c.file, format!("config {}", c.dest)));
            if let Some(pinned) = &c.during_roll {
                referenced.push((pinned, format!("config {} during a roll", c.dest)));
            }
        }
        for m in &self.migrations {
            referenced.push((&m.file, format!("migration {}", m.file_name())));
            for (backend, file) in &m.variants {
                referenced.push((file, format!("{backend} variant of {}", m.file_name())));
            }
        }
        for (hook, file) in &self.scripts {
            referenced.push((file, format!("script {}", hook.as_str())));
        }
        let mut check_ids = BTreeSet::new();
        for c in &self.checks {
            if let Some(file) = &c.script {
                referenced.push((file, format!("check {}", c.id)));
            }
            if let Err(e) = check_vendor_check(c) {
                problems.push(format!("check {}: {e}", c.id));
            }
            if !check_ids.insert(c.id.as_str()) {
                problems.push(format!("check {} is listed twice", c.id));
            }
        }
        for (backend, schemas) in &self.expected_schemas {
            referenced.push((
                &schemas.from,
                format!("expected {backend} schema of {}", self.from),
            ));
            referenced.push((
                &schemas.to,
                format!("expected {backend} schema of {}", self.to),
            ));
        }
        let mut used = BTreeSet::new();
        for (path, what) in &referenced {
            if !member_paths.contains(path) {
                problems.push(format!("{what} names {path}, which is not a listed member"));
            }
            if !used.insert(*path) {
                problems.push(format!("{path} is used twice ({what})"));
            }
        }
        for path in member_paths.difference(&used) {
            problems.push(format!("member {path} is listed but not used"));
        }

        let mut names = BTreeSet::new();
        for c in &self.components {
            if !names.insert(c.name.as_str()) {
                problems.push(format!("component {} is listed twice", c.name));
            }
        }
        let mut dests = BTreeSet::new();
        for c in &self.configs {
            if let Err(e) = check_host_path(&c.dest) {
                problems.push(format!("config {}: {e}", c.file));
            }
            if !dests.insert(c.dest.as_str()) {
                problems.push(format!("config destination {} is listed twice", c.dest));
            }
            if c.mode > 0o7777 {
                problems.push(format!(
                    "config {}: mode {:o} is not a mode",
                    c.dest, c.mode
                ));
            }
        }
        let mut previous = 0;
        for m in &self.migrations {
            if m.version <= previous {
                problems.push(format!(
                    "migration {} is out of order or repeated",
                    m.file_name()
                ));
            }
            previous = m.version;
        }
        let mut services = BTreeSet::new();
        for s in &self.services {
            if !services.insert(s.name.as_str()) {
                problems.push(format!("service {} is listed twice", s.name));
            }
        }
        problems
    }
}

/// What a vendor check must be: an id of its own (not hop's), and either
/// a query or a script.
pub fn check_vendor_check(c: &VendorCheck) -> Result<(), String> {
    let id_ok = !c.id.starts_with("hop.")
        && c.id.len() <= 100
        && c.id.contains('.')
        && c.id.chars().all(|ch| {
            ch.is_ascii_lowercase() || ch.is_ascii_digit() || matches!(ch, '.' | '-' | '_')
        });
    if !id_ok {
        return Err(
            "the id must be lower-case `vendor.name` (letters, digits, '.', '-', '_'), not starting with `hop.`"
                .into(),
        );
    }
    match c.run_as.as_deref() {
        None | Some("root") => {}
        Some(other) => {
            return Err(format!(
                "run_as {other:?}: a check script runs as nobody, or as root with `run_as: root`"
            ));
        }
    }
    if c.run_as.is_some() && c.script.is_none() {
        return Err("run_as is for a script; a query runs read-only in the database".into());
    }
    match (&c.sql, &c.script) {
        (Some(_), None) | (None, Some(_)) => Ok(()),
        _ => Err("give either `sql` or `script`".into()),
    }
}
