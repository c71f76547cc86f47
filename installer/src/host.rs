//! The host: its config (`etc/hop/host.yaml` under `--root`) and where its
//! files are.
//!
//! Every absolute path hop reads from host.yaml or a package (config
//! destinations, the SQLite file, the supervisord conf, the key directory)
//! is resolved inside the root, as the host itself would resolve it (see
//! [`crate::hostfs`]): with `--root /srv/h1`, `/etc/manager/rest.yaml` is
//! `/srv/h1/etc/manager/rest.yaml`, and a link in that path cannot lead
//! out of `/srv/h1`. Defaults (`/etc/supervisord.conf`) go through the
//! root too.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use hop_artifact::yaml;
use hop_migrate::DatabaseUrl;
use serde::{Deserialize, Serialize};

use crate::hostfs::HostFs;
use crate::state_dir::{STATE_DIR, StateDir};

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
    /// This host's name in a cluster (what the shared database records
    /// and `status` shows); the host name when absent.
    #[serde(default)]
    pub node: Option<String>,
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

/// The supervisord config hop uses when host.yaml names none.
pub const DEFAULT_SUPERVISORD_CONF: &str = "/etc/supervisord.conf";

/// A host rooted at a directory.
#[derive(Clone)]
pub struct Host {
    /// The host's root directory (`/` on a real host).
    pub root: PathBuf,
    /// `etc/hop/host.yaml`.
    pub config: HostConfig,
    /// The host's files, resolved inside `root`.
    pub fs: Arc<HostFs>,
    /// hop's state directory (`/var/lib/hop`), resolved inside `root`.
    state_dir: PathBuf,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("root", &self.root)
            .field("config", &self.config)
            .finish()
    }
}

impl Host {
    /// The paths of hop's state directory on this host.
    pub fn state(&self) -> StateDir {
        StateDir {
            dir: self.state_dir.clone(),
        }
    }

    /// Reads `<root>/etc/hop/host.yaml`.
    pub fn open(root: &Path) -> Result<Self> {
        // Tools such as `rpm --root` need an absolute root.
        let root = &std::path::absolute(root)
            .with_context(|| format!("cannot resolve {}", root.display()))?;
        let path = root.join(HOST_CONFIG);
        let fs = HostFs::open(root)?;
        let unreadable = || {
            format!(
                "cannot read {} (is this a manager host? pass --root DIR for another root)",
                path.display()
            )
        };
        let file = fs
            .read_file(&format!("/{HOST_CONFIG}"))
            .with_context(unreadable)?
            .with_context(|| format!("{}: No such file or directory", unreadable()))?;
        crate::hostfs::only_owner_may_write(&path.display().to_string(), file.uid, file.mode)
            .map_err(anyhow::Error::msg)?;
        let text = String::from_utf8(file.data)
            .with_context(|| format!("{} is not UTF-8 text", path.display()))?;
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
        if let Some(node) = &config.node
            && !hop_migrate::cluster::valid_node_name(node)
        {
            bail!(
                "{}: node: {node:?} is not a node name (letters, digits, '.', '-' and '_')",
                path.display()
            );
        }
        let state = format!("/{}", STATE_DIR);
        let state_dir = fs
            .real_path_for(&state)
            .unwrap_or_else(|_| inside(fs.root_dir(), &state));
        Ok(Self {
            root: fs.root_dir().to_path_buf(),
            config,
            fs: Arc::new(fs),
            state_dir,
        })
    }

    /// An absolute host path joined under the root, for display and for
    /// tools that take `--root` themselves. To open or write a host file,
    /// go through [`Host::fs`], which resolves links inside the root.
    pub fn path(&self, absolute: &str) -> PathBuf {
        inside(&self.root, absolute)
    }

    /// The supervisord config, resolved inside the root.
    pub fn supervisord_conf(&self) -> Result<PathBuf> {
        let conf = self
            .config
            .services
            .supervisord_conf
            .as_deref()
            .unwrap_or(DEFAULT_SUPERVISORD_CONF);
        self.fs.real_path(conf).with_context(|| {
            format!("the supervisord config {conf} (services.supervisord_conf in host.yaml)")
        })
    }

    /// This host's name in a cluster: host.yaml's `node`, else the
    /// kernel's host name.
    pub fn node_name(&self) -> String {
        self.config.node.clone().unwrap_or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_owned())
                .unwrap_or_else(|_| "unknown".to_owned())
        })
    }

    /// Which machine and root this host is (a digest of the machine id
    /// and the root): what tells two nodes that were given one name apart.
    pub fn machine(&self) -> String {
        let id = std::fs::read_to_string("/etc/machine-id")
            .or_else(|_| std::fs::read_to_string("/proc/sys/kernel/hostname"))
            .unwrap_or_default();
        let digest = hop_artifact::digest::Sha256Digest::of(
            format!("{}\n{}", id.trim(), self.root.display()).as_bytes(),
        );
        digest.to_string()[..16].to_owned()
    }

    /// The product's database URL, a SQLite file resolved inside the root.
    pub fn database_url(&self) -> Result<DatabaseUrl> {
        let url = DatabaseUrl::parse(&self.config.database.url, &self.root)?;
        match url.sqlite_path() {
            Some(_) => {
                let text = &self.config.database.url;
                let path = text.trim_start_matches("sqlite://");
                let path = path.split('?').next().unwrap_or(path);
                let real = self
                    .fs
                    .real_path_for(path)
                    .with_context(|| format!("the SQLite database {path}"))?;
                Ok(url.with_sqlite_path(real))
            }
            None => Ok(url),
        }
    }
}

/// Joins an absolute path under `root` (`/` stays `/`).
pub fn inside(root: &Path, absolute: &str) -> PathBuf {
    root.join(absolute.trim_start_matches('/'))
}
