//! The host: its config (`etc/hop/host.yaml` under `--root`) and where its
//! files are.
//!
//! Every absolute path hop reads from host.yaml or a package (config
//! destinations, the SQLite file, the supervisord conf, the key directory)
//! is taken inside the root: with `--root /srv/h1`,
//! `/etc/manager/rest.yaml` is `/srv/h1/etc/manager/rest.yaml`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use hop_artifact::yaml;
use serde::{Deserialize, Serialize};

/// Where host.yaml lives, relative to the root.
pub const HOST_CONFIG: &str = "etc/hop/host.yaml";

/// What a customer's host says about itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// The product installed here; packages for other products are refused.
    pub product: String,
    /// The RPM whose version is the product's version before hop's first run.
    pub version_from_rpm: String,
    pub database: DatabaseConfig,
    pub services: ServicesConfig,
    /// Directory of `*.asc` public keys whose signatures this host trusts.
    pub trusted_keys: String,
    /// Directory holding the RPMs of the installed version, used to roll
    /// back the first hop hop applies here (later hops keep their own).
    #[serde(default)]
    pub rpm_cache: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `postgresql://…`, `mysql://…`/`mariadb://…`, or `sqlite:///path`.
    pub url: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServicesConfig {
    pub manager: ServiceManagerKind,
    /// The supervisord config that names its control socket.
    #[serde(default)]
    pub supervisord_conf: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceManagerKind {
    Supervisord,
    Systemd,
}

/// A host rooted at a directory.
#[derive(Clone, Debug)]
pub struct Host {
    pub root: PathBuf,
    pub config: HostConfig,
}

impl Host {
    /// Reads `<root>/etc/hop/host.yaml`.
    pub fn open(root: &Path) -> Result<Self> {
        // Tools such as `rpm --root` need an absolute root.
        let root = &std::path::absolute(root)
            .with_context(|| format!("cannot resolve {}", root.display()))?;
        let path = root.join(HOST_CONFIG);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read {} (is this a manager host? pass --root DIR for another root)",
                path.display()
            )
        })?;
        let mut config: HostConfig = yaml::from_str(&text)
            .with_context(|| format!("{} is not a valid host config", path.display()))?;
        // Directories may be written with a trailing slash.
        for dir in [Some(&mut config.trusted_keys), config.rpm_cache.as_mut()]
            .into_iter()
            .flatten()
        {
            if dir.len() > 1 {
                *dir = dir.trim_end_matches('/').to_owned();
            }
        }
        for (field, value) in [
            ("trusted_keys", Some(&config.trusted_keys)),
            ("rpm_cache", config.rpm_cache.as_ref()),
            (
                "services.supervisord_conf",
                config.services.supervisord_conf.as_ref(),
            ),
        ] {
            if let Some(v) = value
                && let Err(e) = hop_artifact::package_manifest::check_host_path(v)
            {
                bail!("{}: {field}: {e}", path.display());
            }
        }
        Ok(Self {
            root: root.to_path_buf(),
            config,
        })
    }

    /// An absolute host path, taken inside the root.
    pub fn path(&self, absolute: &str) -> PathBuf {
        inside(&self.root, absolute)
    }
}

/// Joins an absolute path under `root` (`/` stays `/`).
pub fn inside(root: &Path, absolute: &str) -> PathBuf {
    root.join(absolute.trim_start_matches('/'))
}
