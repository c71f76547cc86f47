//! `status` answers "where does this host stand, and what do I run": after
//! hop-install was killed in each step of a hop (a power cut), on a single
//! host and on a node of a cluster, its whole output is compared with
//! `tests/golden/status-*.txt`: between versions, the RPMs and schema as
//! they are, each service's state, which way `resume` would go and why,
//! what `rollback` would do — and exit 3 while the operation is open.

mod common;

use common::*;
use hop_artifact::migration::Backend;
use hop_testdata::golden::Transcript;
use hop_testdata::sandbox::Sandbox;

fn golden_status(host: &Sandbox, name: &str) -> Run {
    let run = hop(host, &["status"]);
    let root = host.root.display().to_string();
    Transcript {
        program: "hop-install",
        args: &["status"],
        code: run.code,
        stdout: &run.stdout,
        stderr: &run.stderr,
    }
    .assert_matches(env!("CARGO_MANIFEST_DIR"), name, &[(root.as_str(), "ROOT")]);
    run
}

#[test]
fn status_after_a_kill_in_each_step_of_a_hop() {
    std::thread::scope(|s| {
        for chunk in HOST_STEPS.chunks(3) {
            s.spawn(move || {
                for step in chunk {
                    let host = killed_host(
                        &format!("status-{step}"),
                        Backend::Sqlite,
                        &format!("{step}.begin"),
                    );
                    let run = golden_status(&host, &format!("status-killed-{step}"));
                    run.assert_code(3).assert_stdout("BETWEEN VERSIONS");
                    // No cluster block on a host that is in none.
                    assert!(!run.stdout.contains("cluster"), "{}", run.stdout);
                }
            });
        }
    });
}

#[test]
fn status_of_a_cluster_node_killed_in_each_step_of_its_part() {
    let f = fixtures();
    let pkg = f.rolling_package("4.0.1", "4.1.1").display().to_string();
    for step in [
        "stop_services",
        "install_rpms",
        "deploy_configs",
        "start_services",
        "commit",
    ] {
        let dir = std::path::PathBuf::from(format!(
            "/tmp/hop-clusters/{}-status-{step}",
            std::process::id()
        ));
        let c = hop_testdata::cluster::Cluster::create(
            &dir,
            f.release(),
            &f.vendor_key().public,
            1,
            "4.0.1",
        )
        .unwrap();
        let node = &c.nodes[0];
        hop(node, &["expand", &pkg]).assert_code(0);
        let killed = hop_env(
            node,
            &["apply", &pkg, "--node"],
            &[("HOP_FAULT", &format!("kill@{step}.begin"))],
        );
        assert_eq!(killed.code, -1, "{step}: not killed\n{}", killed.stderr);
        let run = golden_status(node, &format!("status-node-killed-{step}"));
        run.assert_code(3)
            .assert_stdout("BETWEEN VERSIONS")
            .assert_stdout("cluster (as the database records it; this node: node1)");
    }
}
