//! What the cluster tests share: a cluster of `n` nodes, the packages of
//! a route, the playbook, the load and what the nodes' journals say.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::common::{HOP_INSTALL, fixtures};
use hop_testdata::cluster::Cluster;
use hop_testdata::cluster::load::{LoadReport, steady_then_during};
use serde_json::Value;

/// One cluster at a time in a process (`cargo test`); `make test` runs
/// each test in a process of its own, two clusters at most at once (the
/// `clusters` group of .config/nextest.toml). Three nodes, HAProxy and
/// the load are enough for two cores.
pub static ONE_CLUSTER: Mutex<()> = Mutex::new(());

pub fn cluster(name: &str) -> Cluster {
    cluster_of(name, 3)
}

pub fn cluster_of(name: &str, nodes: usize) -> Cluster {
    let f = fixtures();
    let dir = PathBuf::from(format!("/tmp/hop-clusters/{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    Cluster::create(&dir, f.release(), &f.vendor_key().public, nodes, "4.0.1")
        .unwrap_or_else(|e| panic!("cannot make the cluster {name}: {e:#}"))
}

/// The cluster edition's packages of the hops from 4.0.1 up to `to`.
pub fn rolling_packages(name: &str, to: &str) -> PathBuf {
    fixtures()
        .rolling_route(name, to)
        .unwrap_or_else(|e| panic!("{e:#}"))
}

/// Runs the playbook against the cluster; (exit code, output).
pub fn playbook(c: &Cluster, packages: &Path, to: &str, extra: &[&str]) -> (i32, String) {
    c.playbook(Path::new(HOP_INSTALL), packages, to, extra, false)
        .unwrap_or_else(|e| panic!("{e:#}"))
}

/// Load before the roll (steady state), then during `roll`.
pub fn under_load<T>(c: &Cluster, roll: impl FnOnce() -> T) -> (T, LoadReport, LoadReport) {
    let (result, steady, during) = steady_then_during(c.balancer.port, roll);
    println!("steady state: {}", steady.summary());
    println!("during the roll: {}", during.summary());
    (result, steady, during)
}

pub fn assert_no_failed_request(r: &LoadReport) {
    assert!(
        r.requests > 100,
        "too few requests to tell: {}",
        r.summary()
    );
    assert_eq!(r.failed, 0, "{}: {:?}", r.summary(), r.failures);
}

/// The journals of every operation on a node, oldest first.
pub fn journals(node: &Path) -> Vec<Value> {
    let dir = node.join("var/lib/hop/operations");
    let mut ids: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    ids.sort();
    ids.iter()
        .map(|d| serde_json::from_slice(&std::fs::read(d.join("journal.json")).unwrap()).unwrap())
        .collect()
}

/// How many operations of `scope` the cluster's nodes ran.
pub fn operations(c: &Cluster, scope: &str) -> usize {
    c.nodes
        .iter()
        .flat_map(|n| journals(&n.root))
        .filter(|j| j["scope"] == scope)
        .count()
}

/// When a step of a journal started and ended (ms since the epoch).
pub fn step_time(journal: &Value, step: &str) -> (u64, u64) {
    let s = journal["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == step)
        .unwrap_or_else(|| panic!("no step {step} in {journal}"));
    let start = s["started_ms"].as_u64().unwrap();
    (start, start + s["duration_ms"].as_u64().unwrap_or(0))
}

pub fn versions(c: &Cluster) -> Vec<String> {
    c.versions().into_iter().map(|(_, v)| v).collect()
}
