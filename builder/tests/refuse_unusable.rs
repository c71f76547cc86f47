//! `hop-build build` refuses what no host could install: a package it
//! signed would fail on every one, or leave them stuck. Each refusal is
//! exit 2, names the field, and writes nothing.

mod common;

use common::{Case, fixtures};

/// A vendor check block appended to the manifest.
fn check(id: &str, sql: &str) -> String {
    format!(
        "  - id: {id}\n    title: the check {id}\n    severity: failure\n    sql: {sql}\n    remedy: fix it\n"
    )
}

#[test]
fn refuses_a_to_version_no_component_carries() {
    Case::new("to-not-carried")
        .replace("\nto: 4.1.1\n", "\nto: 4.1.2\n")
        .refused_with(&["to: no component carries 4.1.2", "rest-service 4.1.1"]);
}

#[test]
fn refuses_kept_local_edits_without_the_from_file() {
    Case::new("edits-without-from")
        .replace(
            "    from_source: release/4.0.1/configs/rest.yaml   # tells a user's edit from the 4.0.1 file\n",
            "",
        )
        .refused_with(&[
            "configs[0].from_source",
            "preserve_local_edits needs from_source",
        ]);
}

#[test]
fn refuses_two_vendor_checks_with_one_id() {
    let mut case = Case::new("check-ids");
    case.yaml += &format!(
        "checks:\n{}{}",
        check("manager.twice", "SELECT 1"),
        check("manager.twice", "SELECT 2")
    );
    case.refused_with(&["checks[1] (manager.twice).id", "the id of another check"]);
}

#[test]
fn refuses_a_vendor_query_that_fails_on_the_hops_own_schema() {
    let mut case = Case::new("check-column");
    // deployments has no column `nam`: the query fails on every host.
    case.yaml += &format!(
        "checks:\n{}",
        check("manager.names", "SELECT nam FROM deployments")
    );
    case.refused_with(&[
        "checks (manager.names): its sql fails on a sqlite database at 4.1.1",
        "nam",
    ]);
}

#[test]
fn refuses_a_schema_db_it_cannot_read() {
    let case = Case::new("schema-db-url");
    case.refused_saying(
        case.build_with(
            &["--schema-db", "mariadb//root@127.0.0.1"],
            &fixtures().vendor_key().secret,
        ),
        &["--schema-db", "is not a URL", "mysql://USER@HOST"],
    );
}

#[test]
fn refuses_to_sign_with_an_expired_key() {
    let expired = fixtures().gpg_key("expired-signer", false).unwrap();
    let case = Case::new("expired-key");
    case.refused_saying(
        case.build_with(&[], &expired.secret),
        &["the key expired at", "no host accepts what it signs"],
    );
}

#[test]
fn refuses_a_key_that_cannot_sign_as_bad_input() {
    let case = Case::new("public-key");
    // The public half, as a release engineer may pick by mistake.
    case.refused_saying(
        case.build_with(&[], &fixtures().vendor_key().public),
        &["not a usable secret key", "NAME.sec.asc"],
    );
    let case = Case::new("missing-key");
    case.refused_saying(
        case.build_with(&[], std::path::Path::new("/nonexistent/vendor.sec.asc")),
        &["--key /nonexistent/vendor.sec.asc: cannot read it"],
    );
}

#[test]
fn a_release_number_names_the_published_rpm() {
    let case = Case::new("release-2").replace("\nto: 4.1.1\n", "\nto: 4.1.1\nrelease: 2\n");
    let (code, stderr, written) = case.build();
    assert_eq!(code, 0, "{stderr}");
    assert!(written);
    Case::new("release-0")
        .replace("\nto: 4.1.1\n", "\nto: 4.1.1\nrelease: 0\n")
        .refused_with(&["release: a release is a number from 1 up"]);
}
