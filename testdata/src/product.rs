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
pub const VERSIONS: [(&str, u32); 4] = [("4.0.1", 5), ("4.1.1", 15), ("4.2.0", 23), ("4.3.0", 32)];

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

pub const COMPONENTS: [ComponentInfo; 4] = [
    ComponentInfo {
        name: "manager-common",
        service: None,
    },
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

/// The product's service user (made by manager-common's `%pre`).
pub const SERVICE_USER: &str = "manager";

/// The systemd unit of a service component: mgmtworker tells systemd when
/// it is ready (`Type=notify`), rest-service does not.
pub fn unit_file(component: &str, version: &str, config: &str) -> String {
    let kind = if component == "mgmtworker" {
        "notify\nNotifyAccess=main"
    } else {
        "simple"
    };
    format!(
        "[Unit]\nDescription=manager {component} {version}\nAfter=network.target\n\n\
         [Service]\nType={kind}\nEnvironment=MANAGER_UNIT={version}\n\
         ExecStart=/usr/bin/python3 {program} --config /etc/manager/{config}\n\
         KillSignal=SIGTERM\nTimeoutStopSec=30\nRestart=on-failure\n\n\
         [Install]\nWantedBy=multi-user.target\n",
        program = service_program(component)
    )
}

/// `%pre` of manager-common: the service user and group, made with
/// useradd where the host has it (every RHEL host), else by hand (the
/// sandbox's busybox userland).
const MAKE_SERVICE_USER: &str = r#"if command -v useradd >/dev/null 2>&1; then
    getent group manager >/dev/null || groupadd -r -g 981 manager
    getent passwd manager >/dev/null || useradd -r -u 981 -g manager -d /var/lib/manager -s /sbin/nologin manager
else
    grep -q '^manager:' /etc/group || echo 'manager:x:981:' >> /etc/group
    grep -q '^manager:' /etc/passwd || echo 'manager:x:981:981:manager services:/var/lib/manager:/sbin/nologin' >> /etc/passwd
fi
exit 0"#;

/// `%postun` of manager-common: the user goes with the last package only.
const REMOVE_SERVICE_USER: &str = r#"if [ "$1" = 0 ]; then
    sed -i '/^manager:/d' /etc/passwd /etc/group
fi
exit 0"#;

/// The RPM of one component at one version: what a product's real RPMs
/// hold — scriptlets, a `%config(noreplace)` file, a systemd unit, files
/// owned by the service user, and the dependency on manager-common.
pub fn component_rpm(component: &str, version: &str) -> Result<RpmSpec> {
    let info = COMPONENTS
        .iter()
        .find(|c| c.name == component)
        .with_context(|| format!("no component {component}"))?;
    let doc = format!("/usr/share/doc/manager/{component}/VERSION");
    let common = format!("{version}-1");
    let mut spec = RpmSpec::new(component, version);
    if component == "manager-common" {
        spec = spec
            .dir("/etc/manager", 0o755)
            .file(
                "/etc/manager/common.yaml",
                format!("# manager {version}: settings every service reads\nlog_level: info\n"),
                0o640,
            )
            .owned_by("root", SERVICE_USER)
            .config_noreplace()
            .dir("/var/lib/manager", 0o755)
            .dir("/var/log/manager", 0o750)
            .owned_by(SERVICE_USER, SERVICE_USER)
            .file(&doc, format!("{version}\n"), 0o644);
        spec.scripts.pre = Some(MAKE_SERVICE_USER.into());
        spec.scripts.postun = Some(REMOVE_SERVICE_USER.into());
        return Ok(spec);
    }
    let Some(service) = info.service else {
        let cli = std::fs::read_to_string(source_dir().join("cli.sh")).context("reading cli.sh")?;
        return Ok(spec
            .file(
                "/usr/bin/manager-cli",
                cli.replace("@VERSION@", version)
                    .replace("@COMPONENT@", component),
                0o755,
            )
            .file(&doc, format!("{version}\n"), 0o644)
            .requires("manager-common", &common));
    };
    let template =
        std::fs::read_to_string(source_dir().join("service.py")).context("reading service.py")?;
    let program = template
        .replace("@VERSION@", version)
        .replace("@COMPONENT@", component);
    let state = format!("/var/lib/manager/{component}");
    let unit = format!("/usr/lib/systemd/system/{component}.service");
    spec = spec
        .dir(&format!("/usr/lib/manager/{component}"), 0o755)
        .file(&service_program(component), program, 0o755)
        .file(&unit, unit_file(component, version, service.config), 0o644)
        .dir(&state, 0o750)
        .owned_by(SERVICE_USER, SERVICE_USER)
        .file(
            &format!("{state}/format"),
            format!("{component} state format of {version}\n"),
            0o640,
        )
        .owned_by(SERVICE_USER, SERVICE_USER)
        .file(&doc, format!("{version}\n"), 0o644)
        .requires("manager-common", &common);
    spec.scripts.post = Some(
        "if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || :; fi\nexit 0"
            .into(),
    );
    spec.scripts.preun = Some(format!(
        "if [ \"$1\" = 0 ] && [ -d /run/systemd/system ]; then\n    \
         systemctl --no-reload disable --now {component}.service >/dev/null 2>&1 || :\nfi\nexit 0"
    ));
    // Only an erase ($1 = 0) removes the service's state: an upgrade or
    // a downgrade must leave it to the version that stays.
    spec.scripts.postun = Some(format!(
        "if [ \"$1\" = 0 ]; then rm -rf {state}; fi\nexit 0"
    ));
    Ok(spec)
}

/// The sandbox hosts' base system as an RPM, as a real host's base
/// packages are: busybox as `/bin/sh` and the tools scriptlets use, and
/// `/etc/passwd` and `/etc/group` with root.
pub fn base_rpm() -> Result<RpmSpec> {
    crate::fixtures::require_tool("busybox", "busybox-static")?;
    let busybox = std::fs::read("/bin/busybox").context("reading /bin/busybox")?;
    let mut spec =
        RpmSpec::new(BASE_PACKAGE, "1.0")
            .dir("/bin", 0o755)
            .file("/bin/busybox", busybox, 0o755);
    for applet in [
        "sh", "grep", "sed", "echo", "cat", "mkdir", "rm", "rmdir", "chown", "chmod", "test", "[",
        "touch", "ln", "sleep", "date", "cut", "id", "env", "true", "false", "ls", "mv", "cp",
        "pwd", "head", "tail", "wc", "tr", "sort",
    ] {
        spec = spec.symlink(&format!("/bin/{applet}"), "busybox");
    }
    Ok(spec
        .dir("/etc", 0o755)
        .file(
            "/etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
            0o644,
        )
        .config_noreplace()
        .file("/etc/group", "root:x:0:\nnogroup:x:65534:\n", 0o644)
        .config_noreplace())
}

/// The base package every sandbox host has.
pub const BASE_PACKAGE: &str = "sandbox-base";

/// On the systemd test host (a Debian system, whose base packages dpkg
/// owns), what a real host's base RPMs would provide to the product's.
pub const PROVIDES_PACKAGE: &str = "debian-system-provides";

pub fn provides_rpm() -> RpmSpec {
    let mut spec = RpmSpec::new(PROVIDES_PACKAGE, "1.0");
    spec.provides = vec!["/bin/sh".into()];
    spec.summary = "the Debian base system, as RPM dependencies see it".into();
    spec
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
    base_rpm()?.build(&rpms)?;
    provides_rpm().build(&rpms)?;
    for (version, _) in VERSIONS {
        for component in COMPONENTS {
            component_rpm(component.name, version)?.build(&rpms)?;
        }
        write_configs(version, &out.join(version).join("configs"))?;
        write_migrations(version, &out.join(version).join("migrations"))?;
        write_rolling_migrations(version, &out.join(version).join("migrations-rolling"))?;
    }
    Ok(())
}

/// Writes the cluster edition's migrations up to `version`: the same
/// history with each offline migration replaced by its expand/contract
/// form from `migrations-rolling/` (same number, on every database).
pub fn write_rolling_migrations(version: &str, dir: &Path) -> Result<()> {
    write_migrations(version, dir)?;
    let last = last_migration(version)?;
    let overrides = source_dir().join("migrations-rolling");
    let number = |name: &str| name.split('_').next().and_then(|n| n.parse::<u32>().ok());
    for entry in std::fs::read_dir(&overrides)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let Some(n) = number(&name).filter(|n| *n <= last) else {
            continue;
        };
        for sub in ["", "postgresql", "mariadb", "sqlite"] {
            let (from, to) = (overrides.join(sub), dir.join(sub));
            let Ok(listing) = std::fs::read_dir(&to) else {
                continue;
            };
            for old in listing.flatten() {
                if number(&old.file_name().to_string_lossy()) == Some(n) {
                    std::fs::remove_file(old.path())?;
                }
            }
            for new in std::fs::read_dir(&from).into_iter().flatten().flatten() {
                let file = new.file_name().to_string_lossy().into_owned();
                if number(&file) == Some(n) && new.file_type()?.is_file() {
                    std::fs::create_dir_all(&to)?;
                    std::fs::copy(new.path(), to.join(&file))?;
                }
            }
        }
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
