//! Packages in an S3 bucket (moto, authentication on, on 127.0.0.1 inside
//! the sandbox's network namespace): a route found under a prefix
//! downloads only the packages on it, a wrong credential is a clear error
//! that does not show the secret, and a transfer slower than a minute
//! finishes in one run.

mod common;

use std::path::PathBuf;

use common::{assert_runs_release, downloads, hop, hop_env, package, sandbox};
use hop_artifact::migration::Backend;
use hop_testdata::servers::S3Server;

/// A slow link: the package arrives at 900 B/s, over more than a minute —
/// longer than the whole-request limit rust-s3 used to put on a GET, which
/// cut every attempt. The transfer is bounded by silence, not by time: it
/// finishes in one run, without a resume.
#[test]
fn a_throttled_s3_download_longer_than_a_minute_finishes_in_one_run() {
    let host = sandbox("s3-throttled", Backend::Sqlite);
    let pkg = PathBuf::from(package("4.0.1", "4.1.1"));
    let size = std::fs::metadata(&pkg).unwrap().len();
    let rate = 900;
    assert!(
        size / rate > 60,
        "the package is too small to outlast a minute"
    );
    let objects = [("releases/manager-4.0.1-to-4.1.1.hop".to_owned(), pkg)];
    let server = S3Server::start_with(
        host.command("python3"),
        "slow-packages",
        &objects,
        Some(rate),
    )
    .unwrap();
    let env = server.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let started = std::time::Instant::now();
    let run = hop_env(
        &host,
        &[
            "apply",
            "s3://slow-packages/releases/manager-4.0.1-to-4.1.1.hop",
        ],
        &env,
    );
    run.assert_code(0);
    let took = started.elapsed();
    assert!(
        took > std::time::Duration::from_secs(60),
        "the download took {took:?}: shorter than the old limit, so it proves nothing"
    );
    assert!(!run.stderr.contains("resuming from byte"), "{}", run.stderr);
    assert!(!run.stderr.contains("timed out"), "{}", run.stderr);
    assert_runs_release(&host, "4.1.1");
}

#[test]
fn upgrade_from_an_s3_bucket_downloads_only_the_route() {
    let host = sandbox("s3-route", Backend::Sqlite);
    let objects: Vec<(String, PathBuf)> =
        [("4.0.1", "4.1.1"), ("4.1.1", "4.2.0"), ("4.2.0", "4.3.0")]
            .iter()
            .map(|(from, to)| {
                let p = PathBuf::from(package(from, to));
                // Under a prefix, as docs/delivery.md shows a bucket.
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (format!("releases/{name}"), p)
            })
            .collect();
    let server = S3Server::start(host.command("python3"), "vendor-packages", &objects).unwrap();
    let env = server.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let path = hop_env(
        &host,
        &["path", "--to", "4.2.0", "s3://vendor-packages/releases/"],
        &env,
    );
    path.assert_code(0)
        .assert_stdout("2 hop(s) from 4.0.1 to 4.2.0")
        .assert_stdout("4.1.1 → 4.2.0  s3://vendor-packages/releases/manager-4.1.1-to-4.2.0.hop");

    let run = hop_env(
        &host,
        &[
            "upgrade",
            "--to",
            "4.2.0",
            "--from-repo",
            "s3://vendor-packages/releases/",
        ],
        &env,
    );
    run.assert_code(0);
    let status = hop(&host, &["status"]).line("manager");
    assert!(status.starts_with("manager 4.2.0 "), "{status}");
    // Each hop's download went when it committed; the 4.2.0 → 4.3.0
    // package was listed and its head read, not downloaded (it would stay:
    // no hop of it committed).
    let got = downloads(&host);
    assert!(got.is_empty(), "{got:?}");
    let journals = std::fs::read_dir(host.root.join("var/lib/hop/operations"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("journal.json").is_file())
        .count();
    assert_eq!(journals, 2, "two hops ran from downloads");
}

#[test]
fn a_wrong_s3_credential_is_a_clear_error_without_the_secret() {
    let host = sandbox("s3-denied", Backend::Sqlite);
    let pkg = PathBuf::from(package("4.0.1", "4.1.1"));
    let objects = vec![("manager-4.0.1-to-4.1.1.hop".to_owned(), pkg)];
    let server = S3Server::start(host.command("python3"), "vendor-packages", &objects).unwrap();
    let url = "s3://vendor-packages/manager-4.0.1-to-4.1.1.hop";
    let wrong_secret = "wrong-secret-Zq8vK2pX4mN7";
    for (id, secret) in [
        (server.access_key.as_str(), wrong_secret),
        ("AKIANOSUCHKEY0000000", wrong_secret),
    ] {
        let env = [
            ("AWS_ACCESS_KEY_ID", id),
            ("AWS_SECRET_ACCESS_KEY", secret),
            ("AWS_ENDPOINT_URL", server.endpoint.as_str()),
            ("AWS_REGION", "us-east-1"),
        ];
        let before = host.snapshot();
        let run = hop_env(&host, &["apply", url], &env);
        run.assert_code(2);
        run.assert_stderr(
            "s3://vendor-packages/manager-4.0.1-to-4.1.1.hop: the server refused access (HTTP 403",
        );
        run.assert_stderr("AWS_SECRET_ACCESS_KEY");
        assert!(
            !run.text().contains(secret),
            "the secret was shown: {}",
            run.text()
        );
        assert_eq!(host.snapshot(), before, "a refusal changed the host");
    }
    // Nor is it in any log hop keeps.
    let logs = host.root.join("var/lib/hop/logs");
    for entry in std::fs::read_dir(&logs).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        assert!(
            !text.contains(wrong_secret),
            "{} holds the secret",
            entry.path().display()
        );
    }
    // With the right credentials the same URL applies.
    let env = server.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    hop_env(&host, &["apply", url], &env).assert_code(0);
    assert_runs_release(&host, "4.1.1");
}
