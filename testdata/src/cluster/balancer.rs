//! The cluster's load balancer: a real HAProxy on 127.0.0.1 that checks
//! every node's `/readyz` and is driven through its runtime API (the
//! admin socket), as the Ansible playbook drives it.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The backend the nodes' rest-service sits in.
pub const BACKEND: &str = "managers";

/// A running HAProxy; stopped on drop.
pub struct Balancer {
    child: Child,
    /// Where clients connect: `127.0.0.1:port`.
    pub port: u16,
    /// The runtime API (admin level).
    pub socket: PathBuf,
}

impl Balancer {
    /// Starts HAProxy in front of `servers` (name, address:port).
    pub fn start(dir: &Path, servers: &[(String, String)]) -> Result<Self> {
        crate::fixtures::require_tool("haproxy", "haproxy")?;
        let port = free_port()?;
        let socket = dir.join("haproxy.sock");
        let _ = std::fs::remove_file(&socket);
        let mut config = format!(
            "global\n    stats socket {socket} mode 600 level admin\n\n\
             defaults\n    mode http\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n\
             \x20   # As customers write it: no redispatch, no retry-on. A request sent to\n\
             \x20   # a node that is going down fails; the roll must never let that happen.\n\n\
             frontend api\n    bind 127.0.0.1:{port}\n    default_backend {BACKEND}\n\n\
             backend {BACKEND}\n    balance roundrobin\n    option httpchk GET /readyz\n    http-check expect status 200\n\
             \x20   # Three failed checks in a row before a node is taken out, two good\n\
             \x20   # ones before it is back: the usual settings.\n\
             \x20   default-server inter 500ms fall 3 rise 2\n",
            socket = socket.display()
        );
        for (name, address) in servers {
            config += &format!("    server {name} {address} check\n");
        }
        let file = dir.join("haproxy.cfg");
        std::fs::write(&file, config)?;
        let child = Command::new("haproxy")
            .arg("-f")
            .arg(&file)
            .arg("-db")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting haproxy")?;
        let balancer = Self {
            child,
            port,
            socket,
        };
        balancer.wait_for(Duration::from_secs(20), |states| {
            states.len() == servers.len() && states.iter().all(|(_, s)| s == "UP")
        })?;
        Ok(balancer)
    }

    /// Sends one command to the runtime API; its answer.
    pub fn command(&self, line: &str) -> Result<String> {
        let mut stream = UnixStream::connect(&self.socket)
            .with_context(|| format!("connecting to {}", self.socket.display()))?;
        stream.write_all(format!("{line}\n").as_bytes())?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer)
    }

    /// Each server of the backend and its state (`UP`, `DOWN`, `MAINT`, …).
    pub fn states(&self) -> Result<Vec<(String, String)>> {
        let stat = self.command("show stat")?;
        Ok(stat
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let cells: Vec<&str> = l.split(',').collect();
                let (backend, server, status) = (cells.first()?, cells.get(1)?, cells.get(17)?);
                (*backend == BACKEND && *server != "BACKEND" && *server != "FRONTEND")
                    .then(|| (server.to_string(), status.to_string()))
            })
            .collect())
    }

    /// Waits until `ready` holds of the servers' states.
    pub fn wait_for(
        &self,
        timeout: Duration,
        ready: impl Fn(&[(String, String)]) -> bool,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let states = self.states().unwrap_or_default();
            if ready(&states) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("HAProxy's servers did not reach the state awaited: {states:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// A TCP port free on 127.0.0.1 right now.
fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
