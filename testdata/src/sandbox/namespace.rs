//! The network namespaces sandboxes run in: one per sandbox, removed with
//! it, and those of test processes that died removed at the next start.

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use super::run;

/// Links namespace `ns` to the machine with a veth pair: the machine is
/// `10.A.B.1`, the namespace `10.A.B.2` (its `eth0`), routed through the
/// machine, which forwards between its namespaces (so one node reaches
/// another, as nodes on one network do). The pair goes with the namespace.
pub(super) fn link(ns: &str, (a, b): (u8, u8)) -> Result<()> {
    let outside = format!("hv{a}x{b}");
    let _ = Command::new("ip").args(["link", "del", &outside]).output();
    run(Command::new("ip").args([
        "link", "add", &outside, "type", "veth", "peer", "name", "eth0", "netns", ns,
    ]))?;
    run(Command::new("ip").args(["addr", "add", &format!("10.{a}.{b}.1/24"), "dev", &outside]))?;
    run(Command::new("ip").args(["link", "set", &outside, "up"]))?;
    let inside = |args: &[&str]| {
        run(Command::new("ip")
            .args(["netns", "exec", ns, "ip"])
            .args(args))
    };
    inside(&["addr", "add", &format!("10.{a}.{b}.2/24"), "dev", "eth0"])?;
    inside(&["link", "set", "eth0", "up"])?;
    inside(&["route", "add", "default", "via", &format!("10.{a}.{b}.1")])?;
    // Nodes of a cluster talk to each other through the machine.
    std::fs::write("/proc/sys/net/ipv4/ip_forward", "1\n")?;
    Ok(())
}

pub(super) fn kill_namespace(ns: &str) {
    if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
        for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            let _ = Command::new("kill").args(["-KILL", pid]).output();
        }
    }
    let _ = Command::new("ip").args(["netns", "del", ns]).output();
}

/// Deletes namespaces of sandboxes whose test process is gone.
pub(super) fn remove_stale_namespaces() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        if let Some(rest) = name.strip_prefix("hop-")
            && let Some(pid) = rest.split('-').next()
            && !Path::new("/proc").join(pid).exists()
        {
            kill_namespace(name);
        }
    }
}
