//! `hop.yaml`: the package manifest the builder writes and the installer
//! trusts once its signature checks out.
//!
//! It records what the hop is (product, `from`, `to`), what it contains
//! (every payload member with its size and SHA-256, in archive order) and
//! what to do with it (components, configs, migrations, services, scripts).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::digest::Sha256Digest;
use crate::migration::{Backend, Phase};
use crate::version::Version;

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
    /// Per database, the schema expected after `from`'s migrations and
    /// after `to`'s (payload members under `schemas/`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub expected_schemas: BTreeMap<Backend, ExpectedSchemas>,
    /// Alembic revision → migration number, to adopt a database Alembic
    /// made.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub alembic_revisions: BTreeMap<String, u32>,
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
        with = "timeouts_text"
    )]
    pub script_timeouts: BTreeMap<Hook, Duration>,
    /// Every payload member, in archive order.
    pub members: Vec<Member>,
}

/// What the hop needs of the database server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseRequirements {
    /// The databases this hop supports and the oldest server of each.
    pub min_server_version: BTreeMap<Backend, String>,
}

/// One RPM of the `to` version, with the facts its header states.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// The RPM name.
    pub name: String,
    /// The RPM epoch (0 when the header has none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub epoch: u32,
    /// The RPM version.
    pub version: String,
    /// The RPM release.
    pub release: String,
    /// The RPM architecture (`noarch`, `x86_64`).
    pub arch: String,
    /// The payload member holding the RPM.
    pub file: String,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Component {
    /// `name-[epoch:]version-release.arch`, as `rpm -q` prints it.
    pub fn nevra(&self) -> String {
        let epoch = if self.epoch == 0 {
            String::new()
        } else {
            format!("{}:", self.epoch)
        };
        format!(
            "{}-{}{}-{}.{}",
            self.name, epoch, self.version, self.release, self.arch
        )
    }
}

/// A config file the hop deploys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The payload member holding the new content.
    pub file: String,
    /// Where it goes on the host (inside `--root`).
    pub dest: String,
    /// Octal permission bits, e.g. `0640`.
    #[serde(with = "mode_text")]
    pub mode: u32,
    /// Keep a file the user edited and write the new one beside it as
    /// `.hopnew`.
    #[serde(default)]
    pub preserve_local_edits: bool,
    /// Digest of the file as the `from` version shipped it: a file on the
    /// host with this digest was not edited by its user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_sha256: Option<Sha256Digest>,
}

/// The members holding one database's expected schemas (normalised JSON,
/// `hop_migrate::schema::Schema`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedSchemas {
    /// The member holding the schema a database at `from` has.
    pub from: String,
    /// The member holding the schema a database at `to` has.
    pub to: String,
}

/// A schema migration. `file` is portable SQL; `variants` replace it on
/// the named databases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Migration {
    /// The number that orders migrations.
    pub version: u32,
    /// What the migration does, from its file name.
    pub description: String,
    /// When it runs.
    pub phase: Phase,
    /// A `post` migration repeated until it changes no row.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub batch: bool,
    /// The payload member holding the portable SQL.
    pub file: String,
    /// Per backend, a member that replaces `file` there.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variants: BTreeMap<Backend, String>,
}

impl Migration {
    /// The member that applies on `backend`.
    pub fn file_for(&self, backend: Backend) -> &str {
        self.variants.get(&backend).unwrap_or(&self.file)
    }

    /// The file name as the release engineer wrote it
    /// (`0007_add_events_kind.sql`, `0002_1.7.0_schema.up.sql`).
    pub fn file_name(&self) -> String {
        self.file
            .rsplit('/')
            .next()
            .unwrap_or(&self.file)
            .to_owned()
    }
}

/// A service of the product, started in manifest order and stopped in
/// reverse.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// The service's name for the service manager (`rest-service`).
    pub name: String,
    /// How long a graceful stop may take before the service is killed.
    #[serde(with = "crate::duration_text")]
    pub stop_timeout: Duration,
    /// How to tell it is healthy after a start.
    pub health: HealthCheck,
    /// A signal that asks the service to finish its work and exit, sent
    /// before the stop (like ironic's SIGUSR2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drain: Option<Drain>,
}

/// A signal that lets a service finish its work before it is stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Drain {
    /// A signal name such as `SIGUSR2`.
    pub signal: String,
    /// How long to wait for the service to exit after the signal.
    #[serde(with = "crate::duration_text")]
    pub timeout: Duration,
}

/// How to tell that a service is healthy: the probe and how long to keep
/// trying.
// No deny_unknown_fields here: serde does not support it with flatten.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheck {
    /// What is asked.
    #[serde(flatten)]
    pub probe: Probe,
    /// How long to keep asking.
    #[serde(with = "crate::duration_text")]
    pub timeout: Duration,
}

/// One way to ask a service whether it is healthy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Probe {
    /// An HTTP GET that must answer 2xx.
    Http(String),
    /// A TCP connect to `host:port`.
    Tcp(String),
    /// A shell command that must exit 0.
    Command(String),
    /// systemd says the unit is active: for a `Type=notify` unit, it has
    /// sent `READY=1` (systemd hosts only).
    Notify(bool),
}

/// How long a hook may run unless its package says otherwise.
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(600);

/// A map of durations written as text, such as `post_install: 5m`.
mod timeouts_text {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    use super::Hook;

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<Hook, Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_map(
            map.iter()
                .map(|(k, v)| (k, crate::duration_text::format(v))),
        )
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<Hook, Duration>, D::Error> {
        BTreeMap::<Hook, String>::deserialize(d)?
            .into_iter()
            .map(|(k, v)| {
                crate::duration_text::parse(&v)
                    .map(|d| (k, d))
                    .map_err(serde::de::Error::custom)
            })
            .collect()
    }
}

/// The hook scripts a package may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hook {
    /// After the services stop, before the RPMs are installed.
    PreInstall,
    /// After the RPMs and configs are in place, before offline migrations.
    PostInstall,
}

impl Hook {
    /// Every hook, in the order an operation runs them.
    pub const ALL: [Hook; 2] = [Hook::PreInstall, Hook::PostInstall];

    /// The name manifests use.
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::PreInstall => "pre_install",
            Hook::PostInstall => "post_install",
        }
    }
}

/// A payload member: where it is in the archive, its size and digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Where the member is in the archive (`rpms/…`, `configs/…`).
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// The SHA-256 of its bytes.
    pub sha256: Sha256Digest,
}

impl PackageManifest {
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

/// A product name: lowercase letters, digits, `-` and `_`.
pub fn check_product_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(format!(
            "product {name:?} must be lowercase letters, digits, - and _"
        ));
    }
    Ok(())
}

/// The longest member path: what a ustar header can hold without
/// extensions (155 bytes of prefix, `/`, 100 of name).
pub const MAX_MEMBER_PATH: usize = 255;

/// A payload member path: relative, plain (no `.`, `..`, empty or absolute
/// parts), under one of [`PAYLOAD_FOLDERS`], in a portable character set.
pub fn check_member_path(path: &str) -> Result<(), String> {
    if path.starts_with('/') {
        return Err(format!("member path {path:?} is absolute"));
    }
    if path.split('/').any(|part| part == "..") {
        return Err(format!("member path {path:?} climbs out with .."));
    }
    if path.split('/').any(|part| part.is_empty() || part == ".") {
        return Err(format!("member path {path:?} has an empty or . part"));
    }
    if !path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._+~^@-/".contains(&b))
    {
        return Err(format!(
            "member path {path:?} uses characters outside A-Z a-z 0-9 . _ + ~ ^ @ - /"
        ));
    }
    if path.len() > MAX_MEMBER_PATH {
        return Err(format!(
            "member path {path:?} is longer than {MAX_MEMBER_PATH} bytes"
        ));
    }
    let top = path.split('/').next().unwrap_or("");
    if !PAYLOAD_FOLDERS.contains(&top) || !path.contains('/') {
        return Err(format!(
            "member path {path:?} is not inside one of {}",
            PAYLOAD_FOLDERS.join("/, ")
        ));
    }
    Ok(())
}

/// A destination on the host: absolute and plain, so that joining it under
/// `--root` cannot leave the root.
pub fn check_host_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!("destination {path:?} must be an absolute path"));
    }
    // Checked on the text: `Path::components` would silently drop `.` parts.
    if path.len() < 2
        || path[1..]
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(format!(
            "destination {path:?} must be a plain path (no .., ., // or trailing /)"
        ));
    }
    Ok(())
}

mod mode_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(mode: &u32, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{mode:04o}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_mode(&text).map_err(serde::de::Error::custom)
    }
}

/// Parses an octal mode written as text: `"0640"`, `"755"`.
pub fn parse_mode(text: &str) -> Result<u32, String> {
    if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return Err(format!(
            "mode {text:?} must be 3 or 4 octal digits, such as \"0640\""
        ));
    }
    u32::from_str_radix(text, 8).map_err(|e| format!("mode {text:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_paths() {
        assert!(check_member_path("rpms/a-1.0-1.noarch.rpm").is_ok());
        assert!(check_member_path("migrations/postgresql/0001_a.sql").is_ok());
        assert!(check_member_path("/etc/passwd").is_err());
        assert!(check_member_path("rpms/../../etc/passwd").is_err());
        assert!(check_member_path("./rpms/a").is_err());
        assert!(check_member_path("rpms//a").is_err());
        assert!(check_member_path("other/a").is_err());
        assert!(check_member_path("rpms").is_err());
        assert!(check_member_path("rpms/a b").is_err());
        assert!(check_member_path(&format!("rpms/{}", "a".repeat(300))).is_err());
    }

    #[test]
    fn host_paths() {
        assert!(check_host_path("/etc/manager/rest.yaml").is_ok());
        assert!(check_host_path("etc/manager").is_err());
        assert!(check_host_path("/etc/../root/x").is_err());
        assert!(check_host_path("/etc/./x").is_err());
    }

    #[test]
    fn modes() {
        assert_eq!(parse_mode("0640"), Ok(0o640));
        assert_eq!(parse_mode("755"), Ok(0o755));
        assert!(parse_mode("0988").is_err());
        assert!(parse_mode("").is_err());
        assert!(parse_mode("07777x").is_err());
    }
}
