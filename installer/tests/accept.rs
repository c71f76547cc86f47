//! An operator lets a check that does not apply to this host pass, with a
//! reason on record — never the checks that keep the upgrade safe.

mod common;

use common::{assert_refused, hop, package, sandbox};
use hop_artifact::migration::Backend;
use serde_json::Value;

const REASON: &str = "the DBA widened deployments.name for a customer import";

#[test]
fn schema_drift_accepted_with_a_reason_goes_on_record() {
    let host = sandbox("accept-drift", Backend::Postgresql);
    host.sql("ALTER TABLE deployments ALTER COLUMN name TYPE VARCHAR(64)")
        .unwrap();
    let pkg = package("4.0.1", "4.1.1");

    let check = hop(&host, &["check", &pkg]);
    check.assert_code(2);
    assert!(
        check.line("schema").contains("hop.schema-drift"),
        "{}",
        check.stdout
    );

    // Only what hop can live through may be accepted, and only with a reason.
    assert_refused(
        &host,
        &[
            "apply",
            &pkg,
            "--accept",
            "hop.signature",
            "--reason",
            "trust me",
        ],
        &["hop.signature cannot be accepted"],
    );
    assert_refused(
        &host,
        &[
            "apply",
            &pkg,
            "--accept",
            "hop.no-such-check",
            "--reason",
            "x",
        ],
        &["hop.no-such-check is not a check id"],
    );
    assert_refused(
        &host,
        &["apply", &pkg, "--accept", "hop.schema-drift"],
        &["--reason"],
    );

    let check = hop(
        &host,
        &[
            "check",
            &pkg,
            "--accept",
            "hop.schema-drift",
            "--reason",
            REASON,
        ],
    );
    assert_ne!(check.code, 2, "{}", check.stdout);
    let line = check.line("schema");
    assert!(line.contains("ACCEPTED") && line.contains(REASON), "{line}");

    hop(
        &host,
        &[
            "apply",
            &pkg,
            "--accept",
            "hop.schema-drift",
            "--reason",
            REASON,
        ],
    )
    .assert_code(0)
    .assert_stdout("accepted hop.schema-drift (FAILURE: ");
    let history = hop(&host, &["history", "--json"]);
    let lines: Value = serde_json::from_str(&history.stdout).unwrap();
    let accepted = &lines.as_array().unwrap().last().unwrap()["accepted"][0];
    assert_eq!(accepted["id"], "hop.schema-drift");
    assert_eq!(accepted["reason"], REASON);
    assert!(!accepted["by"].as_str().unwrap().is_empty());
    hop(&host, &["history"]).assert_stdout("accepted hop.schema-drift (FAILURE) by ");
}
