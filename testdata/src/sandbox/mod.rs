//! A whole manager host in a directory, for the installer's tests and the
//! demo: the RPM database with the product's RPMs installed by the system
//! `rpm --root`, supervisord running the installed services, host.yaml,
//! trusted keys, and a database (SQLite in the root, or a fresh PostgreSQL
//! database) with the installed version's schema and some rows.
//!
//! In tests each sandbox gets its own network namespace, so that many hosts
//! can run side by side on this machine, each with its services on the
//! ports the package's configs name (8101, 8102). PostgreSQL is reached
//! over its Unix socket, which namespaces do not hide.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hop_artifact::migration::Backend;

use crate::db::TestDatabase;

mod database;
pub(crate) mod inspect;
mod namespace;
mod setup;
mod watch;

pub use watch::{ServedWatch, ready};

use namespace::{kill_namespace, remove_stale_namespaces};

use crate::product::{self, COMPONENTS};
pub use inspect::HostSnapshot;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// How to make a sandbox.
#[derive(Clone, Debug)]
pub struct SandboxOptions {
    pub backend: Backend,
    /// Run the services in a network namespace of their own.
    pub netns: bool,
    /// The product version to install.
    pub version: String,
    /// PostgreSQL only: the database's owner logs in with this password.
    pub database_password: Option<String>,
    /// Who made the database: hop's engine (the default), or the
    /// product's previous tool.
    pub made_by: MadeBy,
    /// Keep the installed RPM files in `/var/cache/manager/rpms` and name
    /// it as host.yaml's `rpm_cache`. Off by default: a customer's host has
    /// no copy of the RPMs it runs (yum keeps none).
    pub rpm_cache: bool,
    /// A node of a cluster (see [`crate::cluster`]).
    pub node: Option<NodeOptions>,
}

/// What makes a sandbox a node of a cluster.
#[derive(Clone, Debug)]
pub struct NodeOptions {
    /// The node's name (host.yaml's `node`).
    pub name: String,
    /// The database the cluster shares; `None` for the node that makes it.
    pub shared_database: Option<String>,
    /// The network the node's namespace is reached on from the machine:
    /// the node is `10.A.B.2`, the machine `10.A.B.1`.
    pub subnet: (u8, u8),
    /// How long the services keep serving after SIGTERM (their drain).
    pub drain_seconds: f32,
}

impl NodeOptions {
    /// The node's address, as the balancer reaches it.
    pub fn address(&self) -> String {
        format!("10.{}.{}.2", self.subnet.0, self.subnet.1)
    }
}

impl SandboxOptions {
    pub fn sqlite() -> Self {
        Self {
            backend: Backend::Sqlite,
            netns: true,
            version: "4.0.1".into(),
            database_password: None,
            made_by: MadeBy::Hop,
            rpm_cache: false,
            node: None,
        }
    }

    pub fn mariadb() -> Self {
        Self {
            backend: Backend::Mariadb,
            ..Self::sqlite()
        }
    }

    pub fn postgresql() -> Self {
        Self {
            backend: Backend::Postgresql,
            ..Self::sqlite()
        }
    }
}

/// Who made a sandbox's database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MadeBy {
    /// hop's migration engine: `hop_schema_history` is there.
    Hop,
    /// The database's own client (psql, mariadb, SQLite) running the
    /// version's migration files, as the product's previous tool would:
    /// no hop history, and the tool's own history table if it kept one.
    Tool(ToolHistory),
}

/// The history table the previous tool kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToolHistory {
    None,
    /// `schema_migrations (version, dirty)`.
    GolangMigrate,
    /// `flyway_schema_history`.
    Flyway,
}

/// A running sandbox host; stopped and cleaned up on drop.
pub struct Sandbox {
    pub root: PathBuf,
    pub backend: Backend,
    pub netns: Option<String>,
    pub database: Option<TestDatabase>,
    /// Set when the sandbox is a node of a cluster.
    pub node: Option<NodeOptions>,
    socket: PathBuf,
    stopped: bool,
    left_running: bool,
}

impl Sandbox {
    /// Makes a host at `opts.version` under `root` from the release tree,
    /// trusting `trusted_key`.
    pub fn create(
        root: &Path,
        release: &Path,
        trusted_key: &Path,
        opts: &SandboxOptions,
    ) -> Result<Self> {
        remove_stale_namespaces();
        if root.exists() {
            std::fs::remove_dir_all(root)
                .with_context(|| format!("clearing {}", root.display()))?;
        }
        std::fs::create_dir_all(root)?;
        let root = std::path::absolute(root)?;
        let id = format!(
            "{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let netns = opts.netns.then(|| format!("hop-{id}"));
        let socket = PathBuf::from(format!("/tmp/hop-sbx-{id}.sock"));
        let mut sandbox = Self {
            root: root.clone(),
            backend: opts.backend,
            netns,
            database: None,
            node: opts.node.clone(),
            socket,
            stopped: true,
            left_running: false,
        };
        sandbox.install_rpms(release, &opts.version, opts.rpm_cache)?;
        sandbox.write_configs(release, &opts.version)?;
        if opts
            .node
            .as_ref()
            .is_none_or(|n| n.shared_database.is_none())
        {
            sandbox.create_database(
                release,
                &opts.version,
                opts.database_password.as_deref(),
                opts.made_by,
            )?;
        }
        sandbox.write_host_config(trusted_key, opts.rpm_cache)?;
        sandbox.write_supervisord_conf()?;
        sandbox.start()?;
        Ok(sandbox)
    }

    fn path(&self, absolute: &str) -> PathBuf {
        self.root.join(absolute.trim_start_matches('/'))
    }

    /// Installs the base system and the product with the system `rpm`,
    /// straight from the release tree, as the vendor's install bundle
    /// would: the RPM files stay outside the host unless `cache` asks for
    /// a copy in `/var/cache/manager/rpms`.
    fn install_rpms(&self, release: &Path, version: &str, cache: bool) -> Result<()> {
        crate::fixtures::require_tool("rpm", "rpm")?;
        let root = self.root.display().to_string();
        // Scriptlets redirect to /dev/null, as on any host.
        std::fs::create_dir_all(self.path("/dev"))?;
        run(Command::new("mknod")
            .args(["-m", "666"])
            .arg(self.path("/dev/null"))
            .args(["c", "1", "3"]))?;
        run(Command::new("rpm").args(["--root", &root, "--initdb"]))?;
        let rpms = release.join("rpms");
        let mut files = vec![rpms.join(format!("{}-1.0-1.noarch.rpm", product::BASE_PACKAGE))];
        for c in COMPONENTS {
            files.push(rpms.join(format!("{}-{version}-1.noarch.rpm", c.name)));
        }
        run(Command::new("rpm")
            .args(["--root", &root, "-i"])
            .args(&files))?;
        if cache {
            let dir = self.path("/var/cache/manager/rpms");
            std::fs::create_dir_all(&dir)?;
            for file in &files[1..] {
                let name = file.file_name().context("no file name")?;
                std::fs::copy(file, dir.join(name))
                    .with_context(|| format!("copying {}", file.display()))?;
            }
        }
        Ok(())
    }

    /// A command run inside the sandbox's network namespace.
    pub fn command(&self, program: &str) -> Command {
        match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, program]);
                c
            }
            None => Command::new(program),
        }
    }

    /// Starts supervisord (and the namespace) and waits for the services.
    pub fn start(&mut self) -> Result<()> {
        crate::fixtures::require_tool("supervisord", "supervisor")?;
        if let Some(ns) = &self.netns {
            crate::fixtures::require_tool("ip", "iproute2")?;
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
            run(Command::new("ip").args(["netns", "add", ns]))?;
            run(Command::new("ip").args(["netns", "exec", ns, "ip", "link", "set", "lo", "up"]))?;
            if let Some(node) = &self.node {
                namespace::link(ns, node.subnet)?;
            }
        }
        let conf = self.path("/etc/supervisord.conf");
        run(self.command("supervisord").arg("-c").arg(&conf))?;
        self.stopped = false;
        self.wait_until_serving(Duration::from_secs(20))
    }

    /// Waits until every service answers /readyz.
    pub fn wait_until_serving(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        for c in COMPONENTS.iter().filter_map(|c| c.service) {
            loop {
                if self.http_get(c.port, "/readyz").is_ok() {
                    break;
                }
                if Instant::now() > deadline {
                    bail!("the sandbox's service on port {} did not start", c.port);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Ok(())
    }

    /// A client asking both services' `/readyz` every 5 ms from now on.
    pub fn watch_served(&self) -> ServedWatch {
        ServedWatch::start(self.netns.as_deref(), &[8101, 8102])
    }

    /// GET http://127.0.0.1:PORT/PATH from inside the sandbox; the body.
    pub fn http_get(&self, port: u16, path: &str) -> Result<String> {
        let out = self
            .command("curl")
            .args(["-sf", "-m", "2", &format!("http://127.0.0.1:{port}{path}")])
            .output()
            .context("running curl")?;
        if !out.status.success() {
            bail!("GET {path} on port {port} failed");
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Runs `hop-install ARGS --root ROOT` inside the sandbox.
    pub fn hop_install(&self, binary: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.command(binary);
        cmd.args(args).arg("--root").arg(&self.root);
        for (k, v) in env {
            cmd.env(k, v);
        }
        match cmd.output() {
            Ok(o) => o,
            Err(e) => panic!("cannot run {binary}: {e}"),
        }
    }

    /// Leaves the host running after this value is gone (the demo).
    pub fn leave_running(mut self) {
        self.left_running = true;
        if let Some(db) = self.database.as_mut() {
            db.keep();
        }
    }

    /// Stops supervisord and its services, and the namespace.
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let conf = self.path("/etc/supervisord.conf");
        let _ = Command::new("supervisorctl")
            .arg("-c")
            .arg(&conf)
            .arg("shutdown")
            .output();
        let pidfile = self.path("/run/supervisord.pid");
        let deadline = Instant::now() + Duration::from_secs(15);
        while let Ok(pid) = std::fs::read_to_string(&pidfile) {
            if !Path::new("/proc").join(pid.trim()).exists() || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("pkill")
            .args([
                "-KILL",
                "-f",
                &format!("{}/usr/lib/manager", self.root.display()),
            ])
            .output();
        if let Some(ns) = &self.netns {
            kill_namespace(ns);
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if self.left_running {
            return;
        }
        self.stop();
        if std::env::var_os("HOP_KEEP_SANDBOX").is_none() {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
