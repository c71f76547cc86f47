//! `make demo-cluster`: a three-node cluster on this machine rolled to a
//! version through the Ansible playbook while clients send requests
//! through HAProxy; prints what the clients saw.

use std::path::Path;

use anyhow::{Result, bail};

use super::Cluster;
use super::load::steady_then_during;

/// Where the demo's inputs are.
pub struct Demo<'a> {
    pub release: &'a Path,
    pub trust: &'a Path,
    pub packages: &'a Path,
    pub hop_install: &'a Path,
    pub dir: &'a Path,
    pub to: &'a str,
}

/// Makes the cluster at 4.0.1, rolls it to `to`, reports, removes it.
pub fn run(d: &Demo<'_>) -> Result<()> {
    println!("== a cluster: three manager nodes at 4.0.1, one PostgreSQL database, HAProxy");
    let cluster = Cluster::create(d.dir, d.release, d.trust, 3, "4.0.1")?;
    for (name, version) in cluster.versions() {
        println!("  {name}: rest-service {version}");
    }
    println!(
        "  HAProxy on 127.0.0.1:{} checks each node's /readyz; inventory: {}",
        cluster.balancer.port,
        cluster.dir.join("inventory.yml").display()
    );
    println!("== the plan (ansible-playbook --check)");
    let (code, _) = cluster.playbook(d.hop_install, d.packages, d.to, &["--check"], true)?;
    if code != 0 {
        bail!("ansible-playbook --check failed (exit {code})");
    }
    println!(
        "== the rolling upgrade to {}, with clients sending requests the whole time",
        d.to
    );
    let (played, steady, during) = steady_then_during(cluster.balancer.port, || {
        cluster.playbook(d.hop_install, d.packages, d.to, &[], true)
    });
    let (code, _) = played?;
    println!("== what the clients saw");
    println!("  before the roll: {}", steady.summary());
    println!("  during the roll: {}", during.summary());
    for (name, version) in cluster.versions() {
        println!("  {name}: rest-service {version}");
    }
    let status =
        cluster.nodes[0].hop_install(&d.hop_install.display().to_string(), &["status"], &[]);
    print!("{}", String::from_utf8_lossy(&status.stdout));
    if code != 0 || during.failed > 0 {
        bail!(
            "the roll failed (ansible-playbook exit {code}, {} failed requests)",
            during.failed
        );
    }
    println!("== done: the cluster is removed again");
    Ok(())
}
