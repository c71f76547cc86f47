//! A throwaway PostgreSQL server (an `initdb` "cluster" in PostgreSQL's
//! words, not a cluster of manager nodes) for a rehearsal's copy, made with
//! `initdb` in a private directory when the live server's disk has no
//! room for a copy (or when asked: `rehearse --scratch-cluster`). It runs
//! the live server's major version with its encoding and the settings
//! that decide a migration's speed, as the user the live server runs as,
//! listening only on a socket in its own directory, with the live
//! server's roles (no passwords) so the dump loads with its owners and
//! grants. It is stopped and removed when its value goes; a marker in the
//! rehearsal directory lets the next rehearsal stop and remove one a
//! killed rehearsal left.

mod dir;
mod live;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use hop_exec::Command;
use hop_migrate::url::DatabaseUrl;
use nix::unistd::User;
use serde::{Deserialize, Serialize};

use crate::runner::Runner;

pub use live::LiveServer;

/// The cluster's own superuser, which hop connects as.
const SUPERUSER: &str = "hop_rehearsal";
/// Its port: only the name of its socket, in its own directory.
const PORT: u16 = 5432;

/// What the next rehearsal needs to remove a cluster a killed one left.
#[derive(Serialize, Deserialize)]
struct Marker {
    dir: PathBuf,
    bin: PathBuf,
    user: String,
}

impl Marker {
    fn path(rehearsals: &Path, pid: u32) -> PathBuf {
        rehearsals.join(format!("cluster-{pid}.json"))
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// `pg_ctl … stop` as the cluster's user; `immediate` for one whose
    /// rehearsal is gone.
    fn stop(&self, runner: &Runner, mode: &str) -> Result<()> {
        let cmd = as_user(&self.user, &self.bin.join("pg_ctl"))
            .args(["-D", &self.data().display().to_string()])
            .args(["-m", mode, "-w", "-t", "60", "stop"])
            .timeout(std::time::Duration::from_secs(90));
        runner.check(&cmd).map(|_| ())
    }

    /// Stops the cluster, ends what else of its user still works in its
    /// directory (an initdb a killed rehearsal left running), and removes
    /// the directory (never following a link in it) and the marker.
    fn remove(&self, runner: &Runner, mode: &str, marker: &Path) {
        if self.data().join("postmaster.pid").exists() {
            let _ = self.stop(runner, mode);
        }
        if let Ok(Some(user)) = User::from_name(&self.user) {
            end_processes_in(&self.dir, user.uid);
        }
        let ours = self
            .dir
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("hop-rehearsal-"));
        if ours {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        let _ = std::fs::remove_file(marker);
    }
}

/// SIGKILLs the processes of `uid` working in (whose current directory
/// is under) `dir`, and waits up to 10 s for them to go.
fn end_processes_in(dir: &Path, uid: nix::unistd::Uid) {
    use std::os::unix::fs::MetadataExt;
    let working_here = || -> Vec<i32> {
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let pid: i32 = e.file_name().to_str()?.parse().ok()?;
                let owner = e.metadata().ok()?.uid();
                let cwd = std::fs::read_link(e.path().join("cwd")).ok()?;
                (owner == uid.as_raw() && cwd.starts_with(dir)).then_some(pid)
            })
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let pids = working_here();
        if pids.is_empty() || std::time::Instant::now() > deadline {
            return;
        }
        for pid in pids {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn as_user(user: &str, program: &Path) -> Command {
    Command::new("runuser")
        .args(["-u", user, "--"])
        .arg(program.display().to_string())
        .for_another_user()
}

/// A private cluster checked before anything is made: the live server's
/// facts, its `initdb`'s directory, the user to run it as, and where.
pub struct Plan {
    server: LiveServer,
    bin: PathBuf,
    user: User,
    parent: PathBuf,
}

/// Plans a cluster like `live`'s server under `parent`, or says why
/// there cannot be one.
pub fn preflight(live: &DatabaseUrl, parent: &Path) -> Result<Plan> {
    let server = LiveServer::read(live).context("cannot read the live server's settings")?;
    let bin = live::bindir(server.major)?;
    let user = dir::run_as(server.data_directory.as_deref())?;
    if let Some(why) = dir::unusable_parent(parent, &user) {
        return Err(anyhow!(
            "cannot make a private cluster under {}: {why}",
            parent.display()
        ));
    }
    let inside = dir::path_under(parent);
    if !live::is_plain_path(&inside) {
        return Err(anyhow!(
            "{} is too long or has characters a socket path cannot: choose another --scratch-dir",
            inside.display()
        ));
    }
    Ok(Plan {
        server,
        bin,
        user,
        parent: parent.to_path_buf(),
    })
}

/// A running private cluster.
pub struct PrivateServer {
    marker: Marker,
    marker_path: PathBuf,
    url: DatabaseUrl,
    runner: Runner,
    major: u32,
}

impl PrivateServer {
    /// Makes and starts the cluster `plan` describes, its data copied
    /// from `live`'s server (roles); its marker goes into `rehearsals`.
    pub fn create(
        live: &DatabaseUrl,
        plan: &Plan,
        rehearsals: &Path,
        runner: &Runner,
    ) -> Result<Self> {
        let Plan {
            server,
            bin,
            user,
            parent,
        } = plan;
        let marker_path = Marker::path(rehearsals, std::process::id());
        let marker = Marker {
            dir: dir::path_under(parent),
            bin: bin.clone(),
            user: user.name.clone(),
        };
        let url = DatabaseUrl::parse(
            &format!(
                "postgresql://{SUPERUSER}@localhost:{PORT}/postgres?host={}",
                marker.dir.display()
            ),
            Path::new("/"),
        )?;
        crate::atomic::write(&marker_path, &serde_json::to_vec(&marker)?, 0o600)?;
        // Only a directory made here is ever removed.
        if let Err(e) = dir::create(parent, user) {
            let _ = std::fs::remove_file(&marker_path);
            return Err(e);
        }
        let cluster = Self {
            marker,
            marker_path,
            url,
            runner: runner.clone(),
            major: server.major,
        };
        cluster.init(server, user)?;
        cluster.start(server)?;
        cluster.copy_roles(live)?;
        Ok(cluster)
    }

    fn init(&self, server: &LiveServer, user: &User) -> Result<()> {
        let mut cmd = as_user(&user.name, &self.marker.bin.join("initdb"))
            .args(["-D", &self.marker.data().display().to_string()])
            .args(["-U", SUPERUSER, "--auth=trust", "--no-sync"])
            .arg(format!("--encoding={}", server.encoding))
            .arg(format!("--lc-collate={}", server.collate))
            .arg(format!("--lc-ctype={}", server.ctype));
        cmd.cwd = Some(self.marker.dir.clone());
        self.runner
            .check(&cmd)
            .context("initdb of the private cluster failed")?;
        Ok(())
    }

    fn start(&self, server: &LiveServer) -> Result<()> {
        let available = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| live::mem_available(&m));
        let options = server.options(&self.marker.dir, available).join(" ");
        let mut cmd = as_user(&self.marker.user, &self.marker.bin.join("pg_ctl"))
            .args(["-D", &self.marker.data().display().to_string()])
            .arg("-l")
            .arg(self.marker.dir.join("server.log").display().to_string())
            .args(["-w", "-t", "120", "-o", &options, "start"]);
        cmd.cwd = Some(self.marker.dir.clone());
        self.runner.check(&cmd).with_context(|| {
            format!(
                "the private cluster did not start (its log: {})",
                self.marker.dir.join("server.log").display()
            )
        })?;
        Ok(())
    }

    /// The live server's roles, without passwords: a statement that
    /// fails (a role that exists) is logged and skipped.
    fn copy_roles(&self, live: &DatabaseUrl) -> Result<()> {
        let roles = self
            .marker_path
            .with_file_name(format!("roles-{}.sql", std::process::id()));
        crate::atomic::create_private(&roles)?;
        let mut dump = Command::new("pg_dumpall")
            .args(["--roles-only", "--no-role-passwords"])
            .arg(format!("--dbname={}", live.without_password()))
            .secret_env("PGPASSWORD", live.password());
        dump.stdout = Some(roles.clone());
        let load = Command::new("psql")
            .args(["--no-psqlrc", "--quiet", "--no-password"])
            .arg(format!("--dbname={}", self.url.without_password()))
            .arg("-f")
            .arg(roles.display().to_string());
        let result = self
            .runner
            .check(&dump)
            .and_then(|_| self.runner.check(&load))
            .context("cannot copy the live server's roles into the private cluster");
        let _ = std::fs::remove_file(&roles);
        result.map(|_| ())
    }

    /// A superuser's URL of the cluster's `postgres` database.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// "a private PostgreSQL 15 cluster in /var/tmp/hop-rehearsal-42".
    pub fn describe(&self) -> String {
        format!(
            "a private PostgreSQL {} cluster in {}",
            self.major,
            self.marker.dir.display()
        )
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        self.marker.remove(&self.runner, "fast", &self.marker_path);
    }
}

/// Stops and removes the clusters of rehearsals that are gone; their
/// directories.
/// Private clusters killed rehearsals left in `rehearsals`, said for
/// `status`: what is there and what removes it.
pub fn leftovers(rehearsals: &Path) -> Vec<String> {
    left_markers(rehearsals)
        .into_iter()
        .map(|(_, m)| {
            let running = m.data().join("postmaster.pid").exists();
            format!(
                "a killed rehearsal's private PostgreSQL cluster in {}{}; the next \
                 `hop-install rehearse` stops and removes it",
                m.dir.display(),
                if running {
                    ", its server still running"
                } else {
                    ""
                }
            )
        })
        .collect()
}

/// The markers of clusters whose rehearsal is gone.
fn left_markers(rehearsals: &Path) -> Vec<(PathBuf, Marker)> {
    std::fs::read_dir(rehearsals)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name
                .strip_prefix("cluster-")?
                .strip_suffix(".json")?
                .to_owned();
            if Path::new("/proc").join(&pid).exists() {
                return None;
            }
            let m = crate::atomic::read_json::<Marker>(&entry.path()).ok()?;
            Some((entry.path(), m))
        })
        .collect()
}

pub fn drop_leftovers(rehearsals: &Path, runner: &Runner) -> Vec<String> {
    left_markers(rehearsals)
        .into_iter()
        .map(|(marker, m)| {
            m.remove(runner, "immediate", &marker);
            m.dir.display().to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests;
