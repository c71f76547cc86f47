//! The plan shown is the plan run: `apply --dry-run --json` lists, step by
//! step, exactly the actions the apply then journals — on a hop that drops
//! a component (erased) and a service (the old version's is stopped, not
//! started again) and has a hook, then on the hop that brings both back.

mod common;

use common::*;
use hop_artifact::migration::Backend;
use serde_json::Value;

/// The 4.1.1 → 4.2.0 hop without the `cli` component and the
/// `mgmtworker` service, with a `post_install` hook.
fn reshaped_package() -> String {
    let f = fixtures();
    variant_of(
        "reshaped",
        ("4.1.1", "4.2.0"),
        |d| std::fs::write(d.join("post_install.sh"), "#!/bin/sh\nexit 0\n").unwrap(),
        |m| {
            let m = replace(
                m,
                "  - rpm: release/rpms/cli-4.2.0-1.noarch.rpm\n    name: cli\n    version: 4.2.0\n",
                "",
            );
            let m = replace(
                m,
                "  - name: mgmtworker\n    stop_timeout: 30s\n    drain: {signal: SIGUSR2, timeout: 20s}   # finish running jobs before the stop\n    health: {tcp: \"127.0.0.1:8102\", timeout: 60s, settle: 2s}\n",
                "",
            );
            let hook = f.dir().join("scratch/variant-reshaped/post_install.sh");
            format!("{m}scripts:\n  post_install: {}\n", hook.display())
        },
        &f.vendor_key(),
    )
}

/// Each step's actions: `(step, actions)` from a plan's or a journal's steps.
fn actions_by_step(steps: &Value) -> Vec<(String, Value)> {
    steps
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap().to_owned(),
                s.get("actions")
                    .cloned()
                    .unwrap_or(Value::Array(Vec::new())),
            )
        })
        .collect()
}

fn journal_of_last_operation(host: &hop_testdata::sandbox::Sandbox) -> Value {
    let ops = host.root.join("var/lib/hop/operations");
    let mut dirs: Vec<_> = std::fs::read_dir(&ops)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    let newest = dirs
        .into_iter()
        .filter(|d| d.join("journal.json").is_file())
        .max_by_key(|d| {
            std::fs::metadata(d.join("journal.json"))
                .unwrap()
                .modified()
                .unwrap()
        })
        .unwrap();
    serde_json::from_slice(&std::fs::read(newest.join("journal.json")).unwrap()).unwrap()
}

/// Applies `pkg` and compares what each step journaled, and what the
/// report says it did, with `planned`.
fn assert_plan_is_run(
    host: &hop_testdata::sandbox::Sandbox,
    pkg: &str,
    planned: &[(String, Value)],
) {
    let run = hop(host, &["apply", pkg, "--json"]);
    run.assert_code(0);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let reported = actions_by_step(&report["steps"]);
    let journal = journal_of_last_operation(host);
    let done = actions_by_step(&journal["steps"]);
    assert_eq!(
        reported, done,
        "the report says other actions than the journal"
    );
    assert_eq!(done.len(), planned.len(), "{journal:#}");
    for ((step, planned), (journaled_step, done)) in planned.iter().zip(&done) {
        assert_eq!(step, journaled_step);
        assert_eq!(
            planned, done,
            "{pkg}, step {step}: the dry run planned {planned:#} and the apply did {done:#}"
        );
    }
}

/// The actions `planned` lists for the step `name`.
fn step_actions(planned: &[(String, Value)], name: &str) -> Vec<Value> {
    planned
        .iter()
        .find(|(s, _)| s == name)
        .and_then(|(_, a)| a.as_array().cloned())
        .unwrap_or_else(|| panic!("no step {name} in the plan"))
}

fn planned(host: &hop_testdata::sandbox::Sandbox, pkg: &str) -> Vec<(String, Value)> {
    let json = hop(host, &["apply", pkg, "--dry-run", "--json"]);
    json.assert_code(0);
    let plan: Value = serde_json::from_str(&json.stdout).unwrap();
    actions_by_step(&plan["steps"])
}

/// Every demo hop on `backend`: the dry run's actions are the apply's.
fn every_demo_hop_runs_its_plan(backend: Backend) {
    let host = sandbox(&format!("plan-demo-{backend}"), backend);
    for (from, to) in [("4.0.1", "4.1.1"), ("4.1.1", "4.2.0"), ("4.2.0", "4.3.0")] {
        let pkg = package(from, to);
        let plan = planned(&host, &pkg);
        assert!(
            plan.iter()
                .any(|(_, a)| a.as_array().is_some_and(|a| !a.is_empty())),
            "{from} → {to}: an empty plan"
        );
        assert_plan_is_run(&host, &pkg, &plan);
    }
}

#[test]
fn every_demo_hop_runs_the_plan_its_dry_run_shows_on_sqlite() {
    every_demo_hop_runs_its_plan(Backend::Sqlite);
}

#[test]
fn every_demo_hop_runs_the_plan_its_dry_run_shows_on_postgresql() {
    every_demo_hop_runs_its_plan(Backend::Postgresql);
}

#[test]
fn the_dry_run_lists_exactly_what_the_apply_then_does() {
    let host = sandbox("plan-as-run", Backend::Sqlite);
    hop(&host, &["apply", &package("4.0.1", "4.1.1")]).assert_code(0);
    let pkg = reshaped_package();

    let json = hop(&host, &["apply", &pkg, "--dry-run", "--json"]);
    json.assert_code(0);
    let plan: Value = serde_json::from_str(&json.stdout).unwrap();
    let planned = actions_by_step(&plan["steps"]);
    let step = |name: &str| step_actions(&planned, name);
    // The version that runs is stopped: both of 4.1.1's services, the
    // dropped one too; only 4.2.0's one is started and gated.
    let stops: Vec<String> = step("stop_services")
        .iter()
        .map(|a| a["service"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(stops, ["mgmtworker", "rest-service"], "{plan:#}");
    let starts: Vec<String> = step("start_services")
        .iter()
        .map(|a| a["service"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(starts, ["rest-service"], "{plan:#}");
    // The dropped component is erased; every install is a real change.
    let rpms = step("install_rpms");
    assert!(
        rpms.iter()
            .any(|a| a["action"] == "erase_rpm" && a["nevra"] == "cli-4.1.1-1.noarch"),
        "{plan:#}"
    );
    assert!(
        rpms.iter()
            .filter(|a| a["action"] == "install_rpm")
            .all(|a| a["installed"] != a["to"]),
        "{plan:#}"
    );
    assert!(
        step("deploy_configs")
            .iter()
            .any(|a| a["action"] == "run_hook" && a["hook"] == "post_install"),
        "{plan:#}"
    );
    let text = hop(&host, &["apply", &pkg, "--dry-run"]);
    text.assert_code(0)
        .assert_stdout("erase cli-4.1.1-1.noarch (no longer shipped)")
        .assert_stdout("mgmtworker: drain with SIGUSR2 ≤20s, stop ≤30s")
        .assert_stdout("run the post_install hook");

    assert_plan_is_run(&host, &pkg, &planned);
    // And the host is as the plan said.
    assert!(
        !host.rpms().iter().any(|n| n.starts_with("cli-")),
        "cli is still installed"
    );

    // The next hop, 4.2.0 → 4.3.0, brings both back: a component the host
    // does not have (installed from nothing) and a service that does not
    // run (started and gated, not stopped first).
    let next = package("4.2.0", "4.3.0");
    let planned = self::planned(&host, &next);
    let step = |name: &str| step_actions(&planned, name);
    let services = |name: &str| -> Vec<String> {
        step(name)
            .iter()
            .map(|a| a["service"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(services("stop_services"), ["rest-service"], "{planned:#?}");
    assert_eq!(
        services("start_services"),
        ["rest-service", "mgmtworker"],
        "{planned:#?}"
    );
    assert_eq!(
        services("health_gate"),
        ["rest-service", "mgmtworker"],
        "{planned:#?}"
    );
    assert!(
        step("install_rpms")
            .iter()
            .any(|a| a["action"] == "install_rpm"
                && a["installed"].is_null()
                && a["to"] == "cli-4.3.0-1.noarch"),
        "{planned:#?}"
    );
    assert_plan_is_run(&host, &next, &planned);
    assert!(host.rpms().iter().any(|n| n == "cli-4.3.0-1.noarch"));
    // Both services answer as 4.3.0.
    for (service, answer) in host.service_versions() {
        let answer = answer.unwrap_or_default();
        assert!(answer.contains("4.3.0"), "{service} answers {answer:?}");
    }
}
