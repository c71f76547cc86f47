//! A manager cluster on this machine, for the rolling-upgrade tests and
//! `make demo-cluster`: three sandbox nodes, each in its own network
//! namespace reached from the machine over a veth pair, with its own
//! supervisord; one PostgreSQL database they share; and HAProxy on
//! 127.0.0.1 checking each node's `/readyz` (see [`balancer`]). The
//! services listen on the node's address and drain on SIGTERM.

pub mod balancer;
pub mod demo;
pub mod load;
pub mod subnets;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::sandbox::{NodeOptions, Sandbox, SandboxOptions};
use balancer::Balancer;
use subnets::Lease;

/// How long a node's services keep serving after SIGTERM.
pub const DRAIN_SECONDS: f32 = 1.0;

/// A running cluster; stopped and removed on drop.
pub struct Cluster {
    /// Declared first: stopped before the nodes.
    pub balancer: Balancer,
    /// The nodes, `node1` first (it made the shared database).
    pub nodes: Vec<Sandbox>,
    pub dir: PathBuf,
    /// The nodes' subnets, held until the nodes are gone.
    _subnets: Lease,
}

impl Cluster {
    /// Makes `count` nodes at `version` under `dir`, trusting `trusted_key`.
    pub fn create(
        dir: &Path,
        release: &Path,
        trusted_key: &Path,
        count: usize,
        version: &str,
    ) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let dir = std::path::absolute(dir)?;
        // A subnet per node, different for every cluster on the machine.
        if count > usize::from(subnets::BLOCK) {
            anyhow::bail!("a test cluster has at most {} nodes", subnets::BLOCK);
        }
        let lease = Lease::take()?;
        let (a, first) = (lease.a, lease.first);
        let mut nodes: Vec<Sandbox> = Vec::new();
        for i in 0..count {
            let name = format!("node{}", i + 1);
            let shared_database = nodes
                .first()
                .and_then(|n| n.database.as_ref())
                .map(|d| d.url.clone());
            let opts = SandboxOptions {
                version: version.to_owned(),
                node: Some(NodeOptions {
                    name: name.clone(),
                    shared_database,
                    subnet: (a, first.wrapping_add(i as u8)),
                    drain_seconds: DRAIN_SECONDS,
                }),
                ..SandboxOptions::postgresql()
            };
            let node = Sandbox::create(&dir.join(&name), release, trusted_key, &opts)
                .with_context(|| format!("making {name}"))?;
            nodes.push(node);
        }
        let servers: Vec<(String, String)> = nodes
            .iter()
            .filter_map(|n| n.node.as_ref())
            .map(|n| (n.name.clone(), format!("{}:8101", n.address())))
            .collect();
        let balancer = Balancer::start(&dir, &servers)?;
        Ok(Self {
            balancer,
            nodes,
            dir,
            _subnets: lease,
        })
    }

    /// Each node's name and the version its rest-service answers.
    pub fn versions(&self) -> Vec<(String, String)> {
        self.nodes
            .iter()
            .map(|n| {
                let name = n.node.as_ref().map(|o| o.name.clone()).unwrap_or_default();
                let version = n
                    .http_get(8101, "/version")
                    .unwrap_or_else(|e| format!("not answering: {e:#}"));
                (name, version)
            })
            .collect()
    }

    /// Waits until HAProxy sees every node UP.
    pub fn wait_all_in_balancer(&self, timeout: Duration) -> Result<()> {
        let n = self.nodes.len();
        self.balancer.wait_for(timeout, |s| {
            s.len() == n && s.iter().all(|(_, state)| state == "UP")
        })
    }

    /// The Ansible inventory of the cluster (YAML): every node reached on
    /// this machine (`ansible_connection: local`), its `hop-install` run
    /// inside its namespace, HAProxy's admin socket, the packages.
    pub fn inventory(&self, hop_install: &Path, packages: &Path, to: &str) -> String {
        let mut hosts = String::new();
        for n in &self.nodes {
            let (Some(node), Some(ns)) = (&n.node, &n.netns) else {
                continue;
            };
            hosts += &format!(
                "        {name}:\n          hop_command: \"ip netns exec {ns} {bin}\"\n          \
                 hop_root: \"{root}\"\n          hop_haproxy_server: {name}\n          \
                 hop_node_address: \"{address}\"\n",
                name = node.name,
                bin = hop_install.display(),
                root = n.root.display(),
                address = node.address(),
            );
        }
        format!(
            "# The test cluster: three nodes on this machine, each in its own network namespace.\n\
             all:\n  children:\n    managers:\n      hosts:\n{hosts}      vars:\n        \
             ansible_connection: local\n        ansible_python_interpreter: /usr/bin/python3\n        \
             hop_haproxy_host: localhost\n        hop_haproxy_socket: \"{socket}\"\n        \
             hop_haproxy_backend: {backend}\n        hop_balancer_settle: 2\n        \
             hop_packages: \"{packages}\"\n        hop_to: \"{to}\"\n",
            socket = self.balancer.socket.display(),
            backend = balancer::BACKEND,
            packages = packages.display(),
        )
    }
}

impl Cluster {
    /// Runs `ansible/playbooks/upgrade.yml` to `to` against the cluster,
    /// with `extra` arguments (`--check`); (exit code, output). With
    /// `echo`, the output goes to this process's own instead.
    pub fn playbook(
        &self,
        hop_install: &Path,
        packages: &Path,
        to: &str,
        extra: &[&str],
        echo: bool,
    ) -> Result<(i32, String)> {
        crate::fixtures::require_tool("ansible-playbook", "ansible")?;
        let inventory = self.dir.join("inventory.yml");
        std::fs::write(&inventory, self.inventory(hop_install, packages, to))?;
        let mut cmd = std::process::Command::new("ansible-playbook");
        cmd.arg("-i")
            .arg(&inventory)
            .arg(crate::fixtures::workspace_root().join("ansible/playbooks/upgrade.yml"))
            .args(extra)
            .env("ANSIBLE_NOCOLOR", "1");
        if echo {
            let status = cmd.status().context("running ansible-playbook")?;
            return Ok((status.code().unwrap_or(-1), String::new()));
        }
        let out = cmd.output().context("running ansible-playbook")?;
        Ok((
            out.status.code().unwrap_or(-1),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        ))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.stop();
        }
        if std::env::var_os("HOP_KEEP_SANDBOX").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
