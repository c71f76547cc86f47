//! Checks the vendor ships in a package: a query that finds duplicate
//! rows refuses the upgrade until they are fixed, and a script that hangs
//! is stopped at its timeout and reported — in `check`'s table, its JSON
//! and `apply`'s refusal, with nothing on the host changed.

mod common;

use common::{assert_refused, hop, sandbox, variant};
use hop_artifact::migration::Backend;
use serde_json::Value;

/// The 4.0.1 → 4.1.1 package with two vendor checks: no two deployments
/// of one name (a query), and a licence script that hangs while the host
/// has `/tmp/hang`.
fn package_with_checks() -> String {
    variant(
        "vendor-checks",
        |dir| {
            let script = dir.join("licence.sh");
            std::fs::write(
                &script,
                "#!/bin/sh\nif [ -e \"$HOP_ROOT/tmp/hang\" ]; then sleep 60; fi\necho licence allows 4.1.1\nexit 0\n",
            )
            .unwrap();
        },
        |text| {
            let dir = common::fixtures()
                .dir()
                .join("scratch/variant-vendor-checks");
            format!(
                "{text}checks:\n\
                 \x20 - id: manager.unique-deployment-names\n\
                 \x20   title: no two deployments share a name\n\
                 \x20   severity: failure\n\
                 \x20   sql: SELECT name, COUNT(*) FROM deployments GROUP BY name HAVING COUNT(*) > 1\n\
                 \x20   remedy: rename the duplicates; 0011 indexes deployments by name\n\
                 \x20   waivable: false\n\
                 \x20 - id: manager.licence\n\
                 \x20   title: the licence allows 4.1.1\n\
                 \x20   severity: failure\n\
                 \x20   script: {}\n\
                 \x20   timeout: 2s\n\
                 \x20   remedy: ask the vendor for a licence for 4.1.1\n",
                dir.join("licence.sh").display()
            )
        },
    )
}

#[test]
fn a_vendor_query_refuses_until_the_rows_are_fixed_and_a_hanging_script_is_stopped() {
    let host = sandbox("vendor-checks", Backend::Sqlite);
    let pkg = package_with_checks();
    host.sql("UPDATE deployments SET name = 'twin' WHERE id IN (3, 7)")
        .unwrap();

    let check = hop(&host, &["check", &pkg]);
    check.assert_code(2);
    let line = check.line("no two deployments share a name");
    assert!(
        line.contains("manager.unique-deployment-names")
            && line.contains("FAILURE")
            && line.contains("1 row(s): (twin, 2)")
            && line.contains("remedy: rename the duplicates"),
        "{}",
        check.stdout
    );
    let json = hop(&host, &["check", &pkg, "--json"]);
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "manager.licence" && c["result"] == "OK")
    );
    assert_refused(
        &host,
        &["apply", &pkg],
        &["manager.unique-deployment-names", "(twin, 2)"],
    );
    // The vendor said this one may not be accepted.
    assert_refused(
        &host,
        &[
            "apply",
            &pkg,
            "--accept",
            "manager.unique-deployment-names",
            "--reason",
            "x",
        ],
        &["cannot be accepted"],
    );

    // A script that hangs is stopped at its timeout and reported.
    std::fs::create_dir_all(host.root.join("tmp")).unwrap();
    std::fs::write(host.root.join("tmp/hang"), "").unwrap();
    let started = std::time::Instant::now();
    let check = hop(&host, &["check", &pkg]);
    assert!(started.elapsed().as_secs() < 30, "the hang was not stopped");
    check.assert_code(2);
    let line = check.line("the licence allows 4.1.1");
    assert!(
        line.contains("FAILURE") && line.contains("timed out after 2s"),
        "{}",
        check.stdout
    );
    std::fs::remove_file(host.root.join("tmp/hang")).unwrap();

    // Rows fixed: the upgrade goes through.
    host.sql("UPDATE deployments SET name = 'deployment-7' WHERE id = 7")
        .unwrap();
    hop(&host, &["check", &pkg]).assert_code(0);
    hop(&host, &["apply", &pkg]).assert_code(0);
}
