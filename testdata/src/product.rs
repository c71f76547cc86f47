//! The demo product `manager`: its versions, components, configs and
//! migrations, and the release tree the manifests in `manifests/` build
//! from.
//!
//! The release tree (`manifests/release/` by default) holds what a
//! product's release CI would hand to `hop-build`: the component RPMs of
//! every version, each version's config files, and each version's
//! migrations directory (all migrations up to that version: a hop carries
//! the product's whole migration history, so the installer can check what
//! a database already has against it).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::rpms::RpmSpec;

pub const PRODUCT: &str = "manager";

/// Every version of the demo product, oldest first, with the last
/// migration that belongs to it.
pub const VERSIONS: [(&str, u32); 4] = [("4.0.1", 3), ("4.1.1", 7), ("4.2.0", 11), ("4.3.0", 14)];

/// A component of the product and, for services, its port and config.
#[derive(Clone, Copy, Debug)]
pub struct ComponentInfo {
    pub name: &'static str,
    /// `Some` for long-running services.
    pub service: Option<ServiceInfo>,
}

#[derive(Clone, Copy, Debug)]
pub struct ServiceInfo {
    pub port: u16,
    /// The config file's name under `/etc/manager/`.
    pub config: &'static str,
}

pub const COMPONENTS: [ComponentInfo; 3] = [
    ComponentInfo {
        name: "rest-service",
        service: Some(ServiceInfo {
            port: 8101,
            config: "rest.yaml",
        }),
    },
    ComponentInfo {
        name: "mgmtworker",
        service: Some(ServiceInfo {
            port: 8102,
            config: "mgmtworker.yaml",
        }),
    },
    ComponentInfo {
        name: "cli",
        service: None,
    },
];

/// Where the product's fixture sources live.
pub fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("product")
}

/// Where a service's program is installed.
pub fn service_program(component: &str) -> String {
    format!("/usr/lib/manager/{component}/server.py")
}

/// The RPM of one component at one version.
pub fn component_rpm(component: &str, version: &str) -> Result<RpmSpec> {
    let info = COMPONENTS
        .iter()
        .find(|c| c.name == component)
        .with_context(|| format!("no component {component}"))?;
    let template_name = if info.service.is_some() {
        "service.py"
    } else {
        "cli.sh"
    };
    let template = std::fs::read_to_string(source_dir().join(template_name))
        .with_context(|| format!("reading {template_name}"))?;
    let program = template
        .replace("@VERSION@", version)
        .replace("@COMPONENT@", component);
    let path = if info.service.is_some() {
        service_program(component)
    } else {
        "/usr/bin/manager-cli".to_owned()
    };
    Ok(RpmSpec::new(component, version)
        .file(&path, program, 0o755)
        .file(
            &format!("/usr/share/doc/manager/{component}/VERSION"),
            format!("{version}\n"),
            0o644,
        ))
}

/// The last migration of a version.
pub fn last_migration(version: &str) -> Result<u32> {
    VERSIONS
        .iter()
        .find(|(v, _)| *v == version)
        .map(|(_, last)| *last)
        .with_context(|| format!("the demo product has no version {version}"))
}

/// Writes the release tree: `rpms/`, and per version `configs/` and
/// `migrations/`.
pub fn write_release_tree(out: &Path) -> Result<()> {
    let rpms = out.join("rpms");
    for (version, _) in VERSIONS {
        for component in COMPONENTS {
            component_rpm(component.name, version)?.build(&rpms)?;
        }
        write_configs(version, &out.join(version).join("configs"))?;
        write_migrations(version, &out.join(version).join("migrations"))?;
    }
    Ok(())
}

/// Copies a version's config files into `dir`.
pub fn write_configs(version: &str, dir: &Path) -> Result<()> {
    copy_dir_files(&source_dir().join("configs").join(version), dir, |_| true)
}

/// Writes the migrations up to `version` (portable files and per-database
/// variants) into `dir`, replacing what was there.
pub fn write_migrations(version: &str, dir: &Path) -> Result<()> {
    let last = last_migration(version)?;
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    let source = source_dir().join("migrations");
    let up_to_version = |name: &str| {
        name.split('_')
            .next()
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| n <= last)
    };
    copy_dir_files(&source, dir, up_to_version)?;
    for backend in ["postgresql", "mariadb", "sqlite"] {
        let variants = source.join(backend);
        if variants.is_dir() {
            copy_dir_files(&variants, &dir.join(backend), up_to_version)?;
        }
    }
    Ok(())
}

fn copy_dir_files(from: &Path, to: &Path, keep: impl Fn(&str) -> bool) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    let mut copied = 0;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type()?.is_file() && keep(&name) {
            std::fs::copy(entry.path(), to.join(&name))
                .with_context(|| format!("copying {name} to {}", to.display()))?;
            copied += 1;
        }
    }
    if copied == 0 && !from.ends_with("postgresql") && !from.ends_with("mariadb") {
        bail!("nothing to copy from {}", from.display());
    }
    Ok(())
}
