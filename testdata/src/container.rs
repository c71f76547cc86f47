//! A manager host booted with a real systemd: the Debian root file system
//! `scripts/systemd-rootfs.sh` builds once (target/systemd-rootfs), booted
//! with `systemd-nspawn --volatile=overlay` (changes are thrown away at
//! shutdown), in a private network (its services' ports clash with no
//! other host's) that reaches this machine's PostgreSQL through its
//! socket. The product's RPMs are installed with the container's own
//! `rpm`, their units enabled and started; `hop-install` runs inside at
//! root `/`, as a customer runs it.
//!
//! Each container runs in cgroups of its own, so that several can run at
//! once; it is stopped (SIGTERM to nspawn) and its cgroups removed on drop.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hop_artifact::migration::Backend;
use hop_migrate::{DatabaseUrl, Migrator, Options, Quiet};

use crate::db::TestDatabase;
use crate::product::{COMPONENTS, SERVICE_USER};

/// Where the root file system is, relative to the workspace.
pub const ROOTFS: &str = "target/systemd-rootfs";

/// A booted container.
pub struct Container {
    pub name: String,
    /// The nspawn process.
    nspawn: u32,
    /// The container's systemd (PID 1 inside).
    pub init: u32,
    pub database: Option<TestDatabase>,
    /// What the container sees at `/fixtures` (read-only).
    pub fixtures: PathBuf,
}

/// The root file system, or how to get it.
pub fn rootfs() -> Result<PathBuf> {
    let dir = crate::fixtures::workspace_root().join(ROOTFS);
    if !dir.join(".hop-complete").exists() {
        bail!(
            "the systemd test host's root file system is missing: run `make systemd-rootfs` \
             (debootstrap, about a minute, once)"
        );
    }
    Ok(dir)
}

fn cgroup_dirs(name: &str) -> [PathBuf; 2] {
    [
        PathBuf::from("/sys/fs/cgroup/systemd").join(name),
        PathBuf::from("/sys/fs/cgroup/unified").join(name),
    ]
}

impl Container {
    /// Boots a container named `name` with `hop_install` at
    /// `/usr/local/bin/hop-install` and `fixtures` at `/fixtures`.
    pub fn boot(name: &str, hop_install: &Path, fixtures: &Path) -> Result<Self> {
        crate::fixtures::require_tool("systemd-nspawn", "systemd-container")?;
        let root = rootfs()?;
        let name = format!("hop-{}-{name}", std::process::id());
        let mut join = String::new();
        for dir in cgroup_dirs(&name) {
            if dir.parent().is_some_and(Path::exists) {
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                join += &format!("echo $$ > {}/cgroup.procs; ", dir.display());
            }
        }
        let log = std::fs::File::create(Path::new("/tmp").join(format!("{name}.log")))?;
        let script = format!(
            "{join}exec systemd-nspawn --quiet --register=no --keep-unit --machine={name} -D {root} \
             -b --console=passive --volatile=overlay --private-network \
             --bind=/var/run/postgresql --bind-ro={hop}:/usr/local/bin/hop-install \
             --bind-ro={fixtures}:/fixtures",
            root = root.display(),
            hop = hop_install.display(),
            fixtures = fixtures.display(),
        );
        let mut cmd = Command::new("sh");
        cmd.args(["-c", &script])
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        // SAFETY: setsid is async-signal-safe and touches no memory of the
        // parent; it runs in the forked child before exec, so that the
        // container does not share the test's session and terminal.
        unsafe {
            cmd.pre_exec(|| {
                nix_setsid();
                Ok(())
            });
        }
        let child = cmd.spawn().context("starting systemd-nspawn")?;
        let nspawn = child.id();
        let deadline = Instant::now() + Duration::from_secs(30);
        // nspawn forks a helper before the container's init: wait for the
        // child that runs systemd.
        let init = loop {
            let children =
                std::fs::read_to_string(format!("/proc/{nspawn}/task/{nspawn}/children"))
                    .unwrap_or_default();
            let systemd = children.split_whitespace().find(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|c| c.trim() == "systemd")
            });
            if let Some(pid) = systemd.and_then(|p| p.parse().ok()) {
                break pid;
            }
            if Instant::now() > deadline || !Path::new("/proc").join(nspawn.to_string()).exists() {
                bail!("systemd-nspawn started no container (see /tmp/{name}.log)");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        std::mem::forget(child);
        let container = Self {
            name,
            nspawn,
            init,
            database: None,
            fixtures: fixtures.to_path_buf(),
        };
        let mut state = String::new();
        while Instant::now() < deadline {
            let out = container.exec(&["systemctl", "is-system-running", "--wait"])?;
            state = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            if state == "running" || state == "degraded" {
                return Ok(container);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!(
            "the container's systemd is {state:?} (see /tmp/{}.log)",
            container.name
        )
    }

    /// Runs a command inside the container (all its namespaces).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.args(["-t", &self.init.to_string(), "-a", "--"]);
        cmd.args(args);
        cmd
    }

    pub fn exec(&self, args: &[&str]) -> Result<Output> {
        self.command(args)
            .output()
            .with_context(|| format!("running {args:?} in the container"))
    }

    /// Runs a command that must succeed; its standard output.
    pub fn check(&self, args: &[&str]) -> Result<String> {
        let out = self.exec(args)?;
        if !out.status.success() {
            bail!(
                "{args:?} failed in the container: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// A path inside the container, seen from this machine.
    pub fn path(&self, absolute: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root", self.init)).join(absolute.trim_start_matches('/'))
    }

    /// Makes a manager host at `version`: the product's RPMs installed with
    /// the container's `rpm` from the release tree (not kept on the host),
    /// configs, the database (PostgreSQL on this machine, or SQLite inside),
    /// host.yaml trusting `key`, the units enabled and started.
    pub fn install_product(&mut self, version: &str, backend: Backend, key: &Path) -> Result<()> {
        let mut rpms = vec![format!(
            "/fixtures/manifests/release/rpms/{}-1.0-1.noarch.rpm",
            crate::product::PROVIDES_PACKAGE
        )];
        rpms.extend(COMPONENTS.iter().map(|c| {
            format!(
                "/fixtures/manifests/release/rpms/{}-{version}-1.noarch.rpm",
                c.name
            )
        }));
        let mut args = vec!["rpm", "-i"];
        args.extend(rpms.iter().map(String::as_str));
        self.check(&args)?;
        let release = self.fixtures.join("manifests/release").join(version);
        for c in COMPONENTS.iter().filter_map(|c| c.service) {
            let target = self.path(&format!("/etc/manager/{}", c.config));
            std::fs::copy(release.join("configs").join(c.config), &target)?;
            self.check(&[
                "chown",
                &format!("root:{SERVICE_USER}"),
                &format!("/etc/manager/{}", c.config),
            ])?;
            self.check(&["chmod", "0640", &format!("/etc/manager/{}", c.config)])?;
        }
        let url = match backend {
            Backend::Postgresql => {
                let db = TestDatabase::create(Backend::Postgresql, &std::env::temp_dir())?;
                let url = db.url.clone();
                self.database = Some(db);
                url
            }
            _ => "sqlite:///var/lib/manager/db.sqlite".to_owned(),
        };
        // The product's installer: its schema, through hop's engine. (A
        // SQLite file is made here and copied in: SQLite resolves the
        // /proc/PID/root link to this machine's root.)
        let scratch = tempfile_dir(&self.name)?;
        let parsed = match backend {
            Backend::Postgresql => DatabaseUrl::parse(&url, Path::new("/"))?,
            _ => DatabaseUrl::parse(&url, &scratch)?,
        };
        let scripts = hop_migrate::script::load_dir(&release.join("migrations"), backend)
            .map_err(anyhow::Error::msg)?;
        let mut migrator = Migrator::connect(
            &parsed,
            Options {
                create_sqlite: true,
                ..Options::default()
            },
        )?;
        for (i, script) in scripts.iter().enumerate() {
            migrator.apply(
                &scripts[..=i],
                script.phase,
                &format!("install {version}"),
                &mut Quiet,
            )?;
        }
        drop(migrator);
        if let Some(file) = parsed.sqlite_path() {
            std::fs::copy(file, self.path("/var/lib/manager/db.sqlite"))?;
        }
        std::fs::create_dir_all(self.path("/etc/hop/trusted-keys"))?;
        std::fs::copy(key, self.path("/etc/hop/trusted-keys/vendor.pub.asc"))?;
        std::fs::write(
            self.path("/etc/hop/host.yaml"),
            format!(
                "product: manager\nversion_from_rpm: rest-service\ndatabase:\n  url: \"{url}\"\n\
                 services:\n  manager: systemd\ntrusted_keys: /etc/hop/trusted-keys/\n"
            ),
        )?;
        self.check(&["systemctl", "enable", "--now", "rest-service", "mgmtworker"])?;
        self.wait_until_serving(Duration::from_secs(30))
    }

    /// GET http://127.0.0.1:PORT/PATH inside the container.
    pub fn http_get(&self, port: u16, path: &str) -> Result<String> {
        let out = self.exec(&[
            "curl",
            "-sf",
            "-m",
            "2",
            &format!("http://127.0.0.1:{port}{path}"),
        ])?;
        if !out.status.success() {
            bail!("GET {path} on port {port} failed");
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Waits until every service answers /readyz.
    pub fn wait_until_serving(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        for c in COMPONENTS.iter().filter_map(|c| c.service) {
            while self.http_get(c.port, "/readyz").is_err() {
                if Instant::now() > deadline {
                    bail!("the container's service on port {} did not start", c.port);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Ok(())
    }

    /// What `/version` and `/unit` (the unit file that started it) say.
    pub fn service_reports(&self) -> Vec<(String, Option<String>, Option<String>)> {
        COMPONENTS
            .iter()
            .filter_map(|c| {
                c.service.map(|s| {
                    (
                        c.name.to_owned(),
                        self.http_get(s.port, "/version").ok(),
                        self.http_get(s.port, "/unit").ok(),
                    )
                })
            })
            .collect()
    }

    /// `systemctl is-active` of each service.
    pub fn unit_states(&self) -> Vec<String> {
        ["rest-service", "mgmtworker"]
            .iter()
            .map(|u| {
                self.exec(&["systemctl", "is-active", u])
                    .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                    .unwrap_or_default()
            })
            .collect()
    }

    /// The installed RPMs of the product, sorted.
    pub fn rpms(&self) -> Vec<String> {
        let names: Vec<&str> = COMPONENTS.iter().map(|c| c.name).collect();
        let mut args = vec!["rpm", "-q", "--qf", "%{NAME}-%{VERSION}-%{RELEASE}\\n"];
        args.extend(names);
        crate::sandbox::inspect::sorted_lines(self.exec(&args).ok())
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.nspawn.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Path::new("/proc").join(self.nspawn.to_string()).exists() && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill")
            .args(["-KILL", &self.nspawn.to_string()])
            .status();
        for dir in cgroup_dirs(&self.name) {
            remove_cgroup(&dir);
        }
    }
}

/// Removes a cgroup directory and the ones nspawn made inside it.
fn remove_cgroup(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.path().is_dir() {
                remove_cgroup(&e.path());
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
}

/// A fresh scratch directory for one container's files made outside it.
fn tempfile_dir(name: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("{name}-scratch"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("var/lib/manager"))?;
    Ok(dir)
}

/// `setsid(2)`: a new session for the container.
fn nix_setsid() {
    let _ = nix::unistd::setsid();
}
