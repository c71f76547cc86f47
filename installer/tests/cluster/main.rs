//! Rolling upgrades of a three-node cluster through the Ansible playbook
//! in `ansible/`, with real HAProxy in front and a load generator sending
//! requests through it the whole time: no request may fail.

#[path = "../common/mod.rs"]
mod common;
mod support;

use std::time::{Duration, Instant};

use common::{HOP_INSTALL, assert_refused, fixtures, hop, package};
use serde_json::Value;
use support::*;

#[test]
fn a_rolling_upgrade_through_haproxy_fails_no_request() {
    let _one = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let c = cluster("roll");
    let packages = rolling_packages("roll", "4.1.1");
    let ((code, out), _steady, during) = under_load(&c, || playbook(&c, &packages, "4.1.1", &[]));
    assert_eq!(code, 0, "{out}");
    assert_no_failed_request(&during);
    assert_eq!(versions(&c), ["4.1.1", "4.1.1", "4.1.1"]);
    assert!(
        during.versions.contains_key("4.0.1") && during.versions.contains_key("4.1.1"),
        "both versions served during the roll: {:?}",
        during.versions
    );
    c.wait_all_in_balancer(Duration::from_secs(10)).unwrap();

    // The hop pins the 4.0 format while 4.0.1 nodes serve: no client got
    // an unpinned 4.1.1 answer before the last 4.0.1 one; after the final
    // rolling restart every node answers in its own format.
    let seen = |k: &str| during.seen.get(k).copied();
    let (last_old, first_unpinned) = (seen("4.0.1 4.0"), seen("4.1.1 4.1"));
    assert!(
        seen("4.1.1 4.0").is_some(),
        "upgraded nodes served pinned: {:?}",
        during.seen
    );
    assert!(
        last_old.unwrap().1 < first_unpinned.expect("unpinned after contract").0,
        "an unpinned 4.1.1 answered while 4.0.1 still served: {:?}",
        during.seen
    );
    for n in &c.nodes {
        assert_eq!(
            n.http_get(8101, "/format").unwrap(),
            "4.1",
            "{} is still pinned",
            n.root.display()
        );
    }
    assert_eq!(operations(&c, "unpin"), 3, "one final restart per node");

    // Expand ran once, on the first node, before any node stopped a
    // service; contract once, after every node committed.
    let ops: Vec<(usize, Value)> = c
        .nodes
        .iter()
        .enumerate()
        .flat_map(|(i, n)| journals(&n.root).into_iter().map(move |j| (i, j)))
        .collect();
    let of = |scope: &str| -> Vec<&(usize, Value)> {
        ops.iter().filter(|(_, j)| j["scope"] == scope).collect()
    };
    let (expand, nodes, contract) = (of("expand"), of("node"), of("contract"));
    assert_eq!(
        (expand.len(), nodes.len(), contract.len()),
        (1, 3, 1),
        "{ops:?}"
    );
    let expanded = step_time(&expand[0].1, "online_migrations").1;
    let first_stop = nodes
        .iter()
        .map(|(_, j)| step_time(j, "stop_services").0)
        .min()
        .unwrap();
    let last_commit = nodes
        .iter()
        .map(|(_, j)| step_time(j, "commit").1)
        .max()
        .unwrap();
    let contracted = step_time(&contract[0].1, "post_migrations").0;
    assert!(expanded <= first_stop, "expand before the first node");
    assert!(last_commit <= contracted, "contract after the last node");
    // The nodes one at a time: each stopped after the previous committed.
    let mut windows: Vec<(u64, u64)> = nodes
        .iter()
        .map(|(_, j)| (step_time(j, "stop_services").0, step_time(j, "commit").1))
        .collect();
    windows.sort();
    assert!(windows.windows(2).all(|w| w[0].1 <= w[1].0), "{windows:?}");

    // Every node's status shows the cluster as the database records it.
    let status = c.nodes[2].hop_install(HOP_INSTALL, &["status", "--json"], &[]);
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    let nodes: Vec<(&str, &str)> = status["cluster"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["node"].as_str().unwrap(), n["version"].as_str().unwrap()))
        .collect();
    assert_eq!(
        nodes,
        [("node1", "4.1.1"), ("node2", "4.1.1"), ("node3", "4.1.1")]
    );
    assert_eq!(status["cluster"]["contract_pending"], Value::Null);
    let db = c.nodes[0].database.as_ref().unwrap();
    assert_eq!(
        db.query_i64("SELECT COUNT(*) FROM deployments WHERE status IS NULL")
            .unwrap(),
        0,
        "the post migration ran"
    );
}

#[test]
fn a_node_that_never_gets_healthy_stops_the_roll_and_a_rerun_finishes_it() {
    let _one = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let c = cluster("unhealthy");
    let packages = rolling_packages("unhealthy", "4.1.1");
    // On node2, 4.1.1 never answers /readyz with 200.
    let fault = c.nodes[1].root.join("etc/manager/never-ready-4.1.1");
    std::fs::write(&fault, "").unwrap();
    let node3_before = c.nodes[2].snapshot();

    let started = Instant::now();
    let ((code, out), _, during) = under_load(&c, || playbook(&c, &packages, "4.1.1", &[]));
    println!("the failed roll took {:?}", started.elapsed());
    assert_ne!(code, 0, "{out}");
    assert_no_failed_request(&during);
    assert_eq!(versions(&c), ["4.1.1", "4.0.1", "4.0.1"], "{out}");
    assert!(out.contains("health"), "the failure is named: {out}");
    // node2 rolled back and back in the balancer; node3 untouched; no
    // contract ran.
    c.wait_all_in_balancer(Duration::from_secs(20)).unwrap();
    assert_eq!(c.nodes[2].snapshot().rpms, node3_before.rpms);
    assert!(journals(&c.nodes[2].root).is_empty());
    let status = c.nodes[1].hop_install(HOP_INSTALL, &["status", "--json"], &[]);
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["version"], "4.0.1");
    assert_eq!(status["unfinished"], Value::Null);
    assert_eq!(operations(&c, "contract"), 0);

    std::fs::remove_file(&fault).unwrap();
    let ((code, out), _, during) = under_load(&c, || playbook(&c, &packages, "4.1.1", &[]));
    assert_eq!(code, 0, "{out}");
    assert_no_failed_request(&during);
    assert_eq!(versions(&c), ["4.1.1", "4.1.1", "4.1.1"]);
    // The rerun expanded nothing again: one expand in all.
    assert_eq!(operations(&c, "expand"), 1, "the rerun skips what is done");
}

#[test]
fn a_release_that_crashes_after_its_first_good_probe_stops_the_roll_at_its_node() {
    let _one = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let c = cluster("crash");
    let packages = rolling_packages("crash", "4.1.1");
    // On node2, 4.1.1 SIGKILLs itself 0.3–3 s after its first ready
    // answer, each time supervisord starts it again.
    let fault = c.nodes[1].root.join("etc/manager/crash-after-ready-4.1.1");
    std::fs::write(&fault, "").unwrap();
    let node3_pid = c.nodes[2].service_pid("rest-service");
    let node3_before = c.nodes[2].snapshot();

    let ((code, out), _, during) = under_load(&c, || playbook(&c, &packages, "4.1.1", &[]));
    assert_ne!(code, 0, "the playbook passed a release that crashes: {out}");
    assert!(
        out.contains("the roll stops at node2"),
        "node2 is named: {out}"
    );
    assert!(out.contains("after its first healthy answer"), "{out}");
    assert_no_failed_request(&during);
    assert_eq!(versions(&c), ["4.1.1", "4.0.1", "4.0.1"], "{out}");
    // node2 is back at 4.0.1 and in the balancer; node3 was never stopped;
    // no contract ran.
    c.wait_all_in_balancer(Duration::from_secs(20)).unwrap();
    assert_eq!(
        c.nodes[2].service_pid("rest-service"),
        node3_pid,
        "node3 was restarted"
    );
    assert_eq!(c.nodes[2].snapshot(), node3_before);
    assert!(journals(&c.nodes[2].root).is_empty());
    assert_eq!(operations(&c, "contract"), 0);
    let status = c.nodes[1].hop_install(HOP_INSTALL, &["status", "--json"], &[]);
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["version"], "4.0.1");
}

#[test]
fn a_route_of_seven_hops_runs_to_its_end_and_one_that_cannot_reach_its_target_fails() {
    let _one = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let c = cluster_of("seven", 2);
    let packages = fixtures().rolling_route("seven", "4.7.0").unwrap();
    // A node that calls itself otherwise than the inventory does: the play
    // stops before any change, saying what to set.
    let config = c.nodes[1].root.join("etc/hop/host.yaml");
    let own = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, own.replace("node: node2\n", "node: manager-2\n")).unwrap();
    let before = c.nodes[0].snapshot();
    let (code, out) = playbook(&c, &packages, "4.7.0", &[]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("node2 calls itself manager-2"), "{out}");
    assert!(out.contains("set hop_node: manager-2"), "{out}");
    assert_eq!(c.nodes[0].snapshot(), before);
    std::fs::write(&config, own).unwrap();
    // No package reaches 4.8.0: the play fails, naming why, and changes nothing.
    let before = c.nodes[0].snapshot();
    let (code, out) = playbook(&c, &packages, "4.8.0", &[]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("no route from 4.0.1 to 4.8.0"), "{out}");
    assert_eq!(c.nodes[0].snapshot(), before);

    let started = Instant::now();
    let ((code, out), _, during) = under_load(&c, || playbook(&c, &packages, "4.7.0", &[]));
    println!("seven hops took {:?}", started.elapsed());
    assert_eq!(code, 0, "{out}");
    assert_no_failed_request(&during);
    assert_eq!(versions(&c), ["4.7.0", "4.7.0"], "{out}");
    assert_eq!(
        operations(&c, "node"),
        14,
        "each node upgraded once per hop"
    );
    // The maintenance hops have no post migrations: three contracts.
    assert_eq!(operations(&c, "contract"), 3);
}

#[test]
fn a_chain_of_rolling_hops_to_4_3_0() {
    let _one = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let c = cluster("chain");
    let packages = rolling_packages("chain", "4.3.0");

    // --check prints the plan and changes nothing.
    let before = c.nodes[0].snapshot();
    let (code, out) = playbook(&c, &packages, "4.3.0", &["--check"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("route: 4.0.1 -> 4.1.1"), "{out}");
    assert!(out.contains("4.2.0 -> 4.3.0"), "{out}");
    // The plan of expand, from hop-install expand --dry-run.
    assert!(
        out.contains("0010_4.1.0_add_deployments_status.sql"),
        "{out}"
    );
    assert!(
        out.contains("node2 4.0.1 -> 4.1.1: out of HAProxy"),
        "{out}"
    );
    assert_eq!(c.nodes[0].snapshot(), before);

    let ((code, out), _, during) = under_load(&c, || playbook(&c, &packages, "4.3.0", &[]));
    assert_eq!(code, 0, "{out}");
    assert_no_failed_request(&during);
    assert_eq!(versions(&c), ["4.3.0", "4.3.0", "4.3.0"]);
    assert_eq!(operations(&c, "contract"), 3, "one contract per hop");
}

#[test]
fn the_parts_of_a_rolling_hop_refuse_what_would_break_the_cluster() {
    let _one = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let c = cluster_of("refusals", 2);
    let (node1, node2) = (&c.nodes[0], &c.nodes[1]);
    let offline = package("4.0.1", "4.1.1");
    let rolling = fixtures()
        .rolling_package("4.0.1", "4.1.1")
        .display()
        .to_string();

    // A hop with offline migrations cannot roll: every part refuses.
    for args in [
        vec!["expand", offline.as_str()],
        vec!["apply", offline.as_str(), "--node"],
        vec!["contract", offline.as_str()],
    ] {
        assert_refused(
            node1,
            &args,
            &[
                "cannot be applied node by node",
                "0012_rename_events_message.sql",
            ],
        );
    }
    // A node before the database is expanded.
    assert_refused(
        node1,
        &["apply", &rolling, "--node"],
        &["run `hop-install expand PKG` once for the cluster"],
    );
    // Contract before every node runs 4.1.1.
    hop(node1, &["expand", &rolling]).assert_code(0);
    hop(node1, &["apply", &rolling, "--node"]).assert_code(0);
    assert_refused(
        node1,
        &["contract", &rolling, "--nodes", "node1,node2"],
        &["node2 is not recorded"],
    );
    assert_refused(
        node2,
        &["contract", &rolling],
        &["this node runs 4.0.1; contract runs once every node runs 4.1.1"],
    );

    // Mid-roll, every node's status says where the cluster is.
    hop(node2, &["status"])
        .assert_stdout("node node1: 4.1.1")
        .assert_stdout("expanded for 4.0.1→4.1.1: this node is still to be upgraded");
    hop(node1, &["status"]).assert_stdout("contract pending: 4.0.1→4.1.1 (1 post migration(s))");

    // node2 given node1's name would share node1's record: refused.
    let config = node2.root.join("etc/hop/host.yaml");
    let own = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, own.replace("node: node2\n", "node: node1\n")).unwrap();
    assert_refused(
        node2,
        &["apply", &rolling, "--node"],
        &["the node name node1 is already recorded for another machine"],
    );
    std::fs::write(&config, &own).unwrap();

    hop(node2, &["apply", &rolling, "--node"]).assert_code(0);
    // A node that committed but does not serve: contract probes it at its
    // address and refuses, naming it.
    let nodes = format!(
        "node1={},node2={}",
        c.nodes[0].node.as_ref().unwrap().address(),
        c.nodes[1].node.as_ref().unwrap().address()
    );
    let ctl = |action: &str| {
        hop_testdata::fixtures::run_ok(
            std::process::Command::new("supervisorctl")
                .arg("-c")
                .arg(node2.root.join("etc/supervisord.conf"))
                .args([action, "rest-service"]),
        )
    };
    ctl("stop");
    assert_refused(
        node1,
        &["contract", &rolling, "--nodes", &nodes],
        &[
            "not every node answers its health probe",
            "node2 (",
            "rest-service",
        ],
    );
    ctl("start");
    hop(node1, &["contract", &rolling, "--nodes", &nodes]).assert_code(0);
    // Each part run again has nothing to do.
    for args in [
        vec!["expand", rolling.as_str()],
        vec!["apply", rolling.as_str(), "--node"],
        vec!["contract", rolling.as_str()],
    ] {
        hop(node1, &args)
            .assert_code(0)
            .assert_stdout("nothing to do");
    }
    hop(node1, &["status"]).assert_stdout("contract pending: none");
}
