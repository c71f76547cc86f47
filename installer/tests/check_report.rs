//! The check report to attach to a ticket: `check --json` in its
//! versioned format, and `check --html FILE`, one self-contained page
//! that a real headless browser (Debian's chromium) renders with every
//! check; its screenshot is kept under the test directory.

mod common;

use std::process::Command;

use common::{fixtures, hop, package, packages_dir, sandbox};
use hop_artifact::migration::Backend;
use hop_testdata::fixtures::require_tool;
use serde_json::Value;

#[test]
fn the_html_report_shows_every_check_in_a_real_browser() {
    let host = sandbox("check-report", Backend::Sqlite);
    let pkg = package("4.0.1", "4.1.1");
    let dir = fixtures().scratch("check-report").unwrap();
    let page = dir.join("report.html");

    let run = hop(
        &host,
        &["check", &pkg, "--json", "--html", page.to_str().unwrap()],
    );
    run.assert_code(0);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["schema"], "hop.check/1");
    assert_eq!(report["result"], "OK");
    assert_eq!(report["host"]["version"], "4.0.1");
    assert_eq!(report["package"]["to"], "4.1.1");
    assert!(!report["plan"]["steps"].as_array().unwrap().is_empty());
    let ids: Vec<String> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(ids.contains(&"hop.disk-space".to_owned()));

    // A report is never written over a file that is there.
    let again = hop(&host, &["check", &pkg, "--html", page.to_str().unwrap()]);
    again.assert_code(2).assert_stderr("cannot write");

    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));

    require_tool("chromium", "chromium").unwrap();
    let browser = |args: &[&str]| {
        Command::new("chromium")
            .args(["--headless", "--no-sandbox", "--disable-gpu"])
            .arg(format!(
                "--user-data-dir={}",
                dir.join("chromium-profile").display()
            ))
            .args(args)
            .arg(format!("file://{}", page.display()))
            .output()
            .expect("chromium runs")
    };
    let out = browser(&["--dump-dom"]);
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("<table"),
        "chromium rendered nothing ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| !l.contains("dbus"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    for id in &ids {
        assert!(
            dom.contains(&format!("id=\"{id}\"")),
            "{id} not in the rendered page"
        );
    }
    assert!(dom.contains("The plan (what apply would do)"));
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("check-report.png");
    let _ = std::fs::remove_file(&shot);
    browser(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=1280,2200",
    ]);
    let png = std::fs::read(&shot).expect("the browser wrote a screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
    println!("screenshot: {}", shot.display());
}

#[test]
fn a_chain_report_shows_the_route_and_checks_its_first_hop() {
    let host = sandbox("check-route", Backend::Sqlite);
    let dir = packages_dir(
        "check-route",
        &[
            package("4.0.1", "4.1.1"),
            package("4.1.1", "4.2.0"),
            package("4.2.0", "4.3.0"),
        ],
    );
    let page = fixtures()
        .scratch("check-route-page")
        .unwrap()
        .join("r.html");
    let run = hop(
        &host,
        &[
            "check",
            &dir,
            "--to",
            "4.3.0",
            "--json",
            "--html",
            page.to_str().unwrap(),
        ],
    );
    run.assert_code(0);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let route: Vec<(&str, &str)> = report["route"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["from"].as_str().unwrap(), s["to"].as_str().unwrap()))
        .collect();
    assert_eq!(
        route,
        [("4.0.1", "4.1.1"), ("4.1.1", "4.2.0"), ("4.2.0", "4.3.0")]
    );
    assert_eq!(report["package"]["to"], "4.1.1", "the first hop is checked");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("The route") && html.contains("4.2.0 → 4.3.0"));
}
