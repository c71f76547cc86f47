//! The parts of a package manifest: RPM components, configs, migrations,
//! services and their health checks, hooks, and payload members.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::digest::Sha256Digest;
use crate::migration::{Backend, Phase};

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
    #[serde(with = "super::checks::mode_text")]
    pub mode: u32,
    /// Keep a file the user edited and write the new one beside it as
    /// `.hopnew`.
    #[serde(default)]
    pub preserve_local_edits: bool,
    /// Digest of the file as the `from` version shipped it: a file on the
    /// host with this digest was not edited by its user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_sha256: Option<Sha256Digest>,
    /// The payload member a node of a cluster runs while the roll is under
    /// way (pinned versions); `file` replaces it at `hop-install unpin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub during_roll: Option<String>,
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
    /// Per backend, the phase of a variant that declares another one (an
    /// `ALTER TYPE … ADD VALUE` online on PostgreSQL whose MariaDB variant
    /// copies the table, offline).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub phases: BTreeMap<Backend, Phase>,
}

impl Migration {
    /// The member that applies on `backend`.
    pub fn file_for(&self, backend: Backend) -> &str {
        self.variants.get(&backend).unwrap_or(&self.file)
    }

    /// The phase it runs in on `backend` (`None`: the portable file's).
    pub fn phase_on(&self, backend: Option<Backend>) -> Phase {
        backend
            .and_then(|b| self.phases.get(&b).copied())
            .unwrap_or(self.phase)
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

/// A service of the product. Services start together unless one names
/// others it must start `after` (and stop before); the health gate probes
/// them all at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// The service's name for the service manager (`rest-service`).
    pub name: String,
    /// Services listed before this one that must be started first (and
    /// stopped after it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
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
    /// How long the probe must keep passing, with the service manager
    /// showing the service running and not restarted, before the service
    /// counts as healthy ([`DEFAULT_SETTLE`] in packages that say none).
    #[serde(default = "default_settle", with = "crate::duration_text")]
    pub settle: Duration,
}

/// How long a service must stay healthy unless its manifest says: long
/// enough to catch a release that passes one probe and dies a few seconds
/// later (a crash at start-up under the first real work), short enough not
/// to stretch the health gate.
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(10);

fn default_settle() -> Duration {
    DEFAULT_SETTLE
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
pub(super) mod timeouts_text {
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

/// A check the vendor ships, run by `hop-install check` beside hop's own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorCheck {
    /// Its stable id (`manager.unique-emails`).
    pub id: String,
    /// What it checks.
    pub title: String,
    /// `true`: a finding is a FAILURE; `false`: a WARNING.
    pub failure: bool,
    /// The read-only query (any row is a finding), inline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// The script's payload member (`scripts/checks/<id>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    /// How long the script may run.
    #[serde(with = "crate::duration_text")]
    pub timeout: Duration,
    /// What to do about a finding.
    pub remedy: String,
    /// Whether `--accept` may let a finding pass.
    pub waivable: bool,
    /// `root` when the script must run as root; otherwise it runs as the
    /// unprivileged user `nobody`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_as: Option<String>,
}

impl VendorCheck {
    /// Whether its script runs as root (the manifest says `run_as: root`).
    pub fn runs_as_root(&self) -> bool {
        self.run_as.as_deref() == Some("root")
    }
}

/// A finding of the online-migration linter that a migration waived
/// (`-- hop: allow RULE because REASON` on the line before the statement):
/// listed in hop.yaml so that a reviewer sees every exception that shipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintWaiver {
    /// The payload member of the migration (`migrations/0012_x.sql`).
    pub file: String,
    /// The line of the waiver comment.
    pub line: usize,
    /// The rule waived.
    pub rule: String,
    /// Why, in the release engineer's words.
    pub reason: String,
}
