//! The source manifest: what a release engineer writes to describe one hop.
//!
//! ```yaml
//! product: manager
//! from: 4.0.1
//! to: 4.1.1
//! components:
//!   - rpm: rpms/rest-service-4.1.1-1.noarch.rpm
//!     name: rest-service
//!     version: 4.1.1
//! ```
//!
//! Fields are kept as written (strings) so that the builder can check every
//! one and report all problems together, each with its field path; the
//! builder turns a checked source manifest into a [`PackageManifest`].
//!
//! [`PackageManifest`]: crate::package_manifest::PackageManifest

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::yaml;

/// The largest source manifest the builder reads.
pub const MAX_SOURCE_MANIFEST: u64 = 1 << 20;

/// A source manifest (`manifests/*.yaml`): what a release engineer writes
/// to describe a hop; `hop-build` validates it and turns it into `hop.yaml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceManifest {
    /// The product (`manager`).
    pub product: String,
    /// The version the hop upgrades from.
    pub from: String,
    /// The version it upgrades to.
    pub to: String,
    /// The package's release (default 1): raise it to publish a re-spun
    /// hop (the same from and to, built again).
    #[serde(default)]
    pub release: Option<u32>,
    /// Which databases are supported, and their oldest servers.
    #[serde(default)]
    pub database: Option<SourceDatabase>,
    /// The RPMs of the `to` version.
    #[serde(default)]
    pub components: Vec<SourceComponent>,
    /// Config files to deploy.
    #[serde(default)]
    pub configs: Vec<SourceConfig>,
    /// A directory of `NNNN_description.sql` files, relative to the manifest.
    #[serde(default)]
    pub migrations: Option<String>,
    /// The number of the last migration the `from` version shipped.
    #[serde(default)]
    pub from_last_migration: Option<u32>,
    /// How to adopt a database another migration tool made.
    #[serde(default)]
    pub adoption: Option<SourceAdoption>,
    /// The product's services, in start order.
    #[serde(default)]
    pub services: Vec<SourceService>,
    /// Hook name (`pre_install`, `post_install`) → script path, or
    /// `{path, timeout}`.
    #[serde(default)]
    pub scripts: BTreeMap<String, SourceScript>,
    /// Checks the vendor ships: run by `hop-install check` beside hop's own.
    #[serde(default)]
    pub checks: Vec<SourceCheck>,
}

/// A check the vendor ships with a hop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceCheck {
    /// A stable id, not starting with `hop.` (`manager.unique-emails`).
    pub id: String,
    /// What it checks, for people.
    pub title: String,
    /// `warning` or `failure`: what a finding is.
    pub severity: String,
    /// A read-only query: any row it returns is a finding.
    #[serde(default)]
    pub sql: Option<String>,
    /// A script (path relative to the manifest): exit 0 ok, 1 warning, 2 failure.
    #[serde(default)]
    pub script: Option<String>,
    /// How long the script may run (default 60s).
    #[serde(default)]
    pub timeout: Option<String>,
    /// What to do about a finding.
    pub remedy: String,
    /// Whether an operator may accept a finding with `--accept` (default yes).
    #[serde(default = "yes")]
    pub waivable: bool,
    /// `root` for a script that must run as root; by default a script
    /// runs as the unprivileged user `nobody`.
    #[serde(default)]
    pub run_as: Option<String>,
}

fn yes() -> bool {
    true
}

/// Adopting databases made by the product's previous migration tool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceAdoption {
    /// Alembic revision → the number of the migration it corresponds to.
    #[serde(default)]
    pub alembic: BTreeMap<String, u32>,
    /// The migrations use golang-migrate's `schema_migrations` table: made
    /// on the scratch databases and where missing, kept where it is.
    #[serde(default)]
    pub golang_migrate: bool,
    /// The same for Flyway's `flyway_schema_history`.
    #[serde(default)]
    pub flyway: bool,
    /// The same for Alembic's `alembic_version`.
    #[serde(default)]
    pub alembic_table: bool,
}

impl SourceAdoption {
    /// The tool tables the migrations use, as the package lists them.
    pub fn tool_tables(&self) -> Vec<crate::package_manifest::ToolTable> {
        use crate::package_manifest::ToolTable;
        [
            (self.golang_migrate, ToolTable::GolangMigrate),
            (self.flyway, ToolTable::Flyway),
            (self.alembic_table, ToolTable::Alembic),
        ]
        .into_iter()
        .filter_map(|(wanted, t)| wanted.then_some(t))
        .collect()
    }
}

/// A hook script: its path, or its path and how long it may run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SourceScript {
    /// Only the script's path (relative to the manifest).
    Path(String),
    /// A path and a timeout.
    Spec {
        /// The script, relative to the manifest.
        path: String,
        /// How long it may run (`5m`); the default when absent.
        #[serde(default)]
        timeout: Option<String>,
    },
}

impl SourceScript {
    /// The script's path, relative to the manifest.
    pub fn path(&self) -> &str {
        match self {
            SourceScript::Path(p) | SourceScript::Spec { path: p, .. } => p,
        }
    }

    /// The timeout as written, if given.
    pub fn timeout(&self) -> Option<&str> {
        match self {
            SourceScript::Path(_) => None,
            SourceScript::Spec { timeout, .. } => timeout.as_deref(),
        }
    }
}

/// The database servers a hop supports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceDatabase {
    /// `postgresql`, `mariadb`, `sqlite` → oldest supported server version.
    #[serde(default)]
    pub min_server_version: BTreeMap<String, String>,
}

/// An RPM of the `to` version and what its header must say.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceComponent {
    /// Path of the RPM file, relative to the manifest.
    pub rpm: String,
    /// The name the RPM header must carry.
    pub name: String,
    /// The version the RPM header must carry.
    pub version: String,
}

/// A config file and where it goes on the host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// The new file, relative to the manifest.
    pub source: String,
    /// Absolute destination on the host.
    pub dest: String,
    /// Octal permissions as a quoted string, e.g. `"0640"`.
    #[serde(default)]
    pub mode: Option<ModeValue>,
    /// Keep a file the user edited, writing the new one beside it as `.hopnew`.
    #[serde(default)]
    pub preserve_local_edits: bool,
    /// The file as the `from` version shipped it, relative to the manifest:
    /// lets the installer tell a user's edit from the previous release.
    #[serde(default)]
    pub from_source: Option<String>,
    /// The file a node runs while a rolling hop is under way (a version
    /// pin such as `pin_release_version: 4.0`), relative to the manifest;
    /// `hop-install unpin` deploys `source` after contract.
    #[serde(default)]
    pub during_roll: Option<String>,
}

/// A mode as the YAML gave it: `"0640"` (right) or a bare number, which
/// YAML 1.2 reads as decimal (640, not 0o640) — refused with a hint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ModeValue {
    /// `"0640"`: octal text.
    Text(String),
    /// A bare number (refused: YAML reads it as decimal).
    Number(u64),
}

impl<'de> Deserialize<'de> for ModeValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ModeValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mode such as \"0640\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ModeValue, E> {
                Ok(ModeValue::Text(v.to_owned()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ModeValue, E> {
                Ok(ModeValue::Number(v))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<ModeValue, E> {
                // Some parsers hand a leading-zero number over as a float.
                if v.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&v) {
                    Ok(ModeValue::Number(v as u64))
                } else {
                    Err(E::custom(
                        "a mode is written as octal text, such as \"0640\"",
                    ))
                }
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ModeValue, E> {
                u64::try_from(v)
                    .map(ModeValue::Number)
                    .map_err(|_| E::custom("a mode cannot be negative"))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// A service of the product.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceService {
    /// Its name for the service manager.
    pub name: String,
    /// Services listed before it that must start first (it stops before
    /// them); services that name none start together.
    #[serde(default)]
    pub after: Vec<String>,
    /// How long a graceful stop may take (`30s`).
    #[serde(default)]
    pub stop_timeout: Option<String>,
    /// How to tell it is healthy.
    #[serde(default)]
    pub health: Option<SourceHealth>,
    /// A signal to send before the stop, and how long to wait.
    #[serde(default)]
    pub drain: Option<SourceDrain>,
}

/// A health probe: one of `http`, `tcp`, `command`, `notify`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceHealth {
    /// A URL whose GET must answer 2xx.
    #[serde(default)]
    pub http: Option<String>,
    /// `host:port` that must accept a connection.
    #[serde(default)]
    pub tcp: Option<String>,
    /// A shell command that must exit 0.
    #[serde(default)]
    pub command: Option<String>,
    /// `true`: ready when systemd says the unit is active (`Type=notify`).
    #[serde(default)]
    pub notify: Option<bool>,
    /// How long to keep trying (`60s`).
    #[serde(default)]
    pub timeout: Option<String>,
    /// How long it must stay healthy (`10s`, the default).
    #[serde(default)]
    pub settle: Option<String>,
}

/// A drain signal and how long the service may take to exit after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceDrain {
    /// A signal name such as `SIGUSR2`.
    pub signal: String,
    /// How long to wait (`30s`).
    pub timeout: String,
}

impl SourceManifest {
    /// Parses a source manifest's text.
    pub fn parse(text: &str) -> Result<Self, yaml::YamlError> {
        yaml::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_design_example() {
        let text = r#"
product: manager
from: 4.0.1
to: 4.1.1
database:
  min_server_version: {postgresql: "13", mariadb: "10.6", sqlite: "3.35"}
components:
  - rpm: rpms/rest-service-4.1.1-1.noarch.rpm
    name: rest-service
    version: 4.1.1
configs:
  - source: configs/rest.yaml
    dest: /etc/manager/rest.yaml
    mode: "0640"
    preserve_local_edits: true
migrations: migrations/
services:
  - name: rest-service
    stop_timeout: 30s
    health: {http: "http://127.0.0.1:8101/readyz", timeout: 60s}
scripts:
  post_install: scripts/post-install.sh
"#;
        let m = SourceManifest::parse(text).unwrap();
        assert_eq!(m.product, "manager");
        assert_eq!(m.components[0].name, "rest-service");
        assert_eq!(m.configs[0].mode, Some(ModeValue::Text("0640".into())));
        assert_eq!(
            m.services[0].health.as_ref().unwrap().timeout.as_deref(),
            Some("60s")
        );
    }

    #[test]
    fn refuses_unknown_fields_and_duplicate_keys() {
        assert!(SourceManifest::parse("product: a\nfrom: 1\nto: 2\nfrmo: 3\n").is_err());
        assert!(SourceManifest::parse("product: a\nproduct: b\nfrom: 1\nto: 2\n").is_err());
    }
}
