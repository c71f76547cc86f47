//! Packages where customers get them: an HTTPS server and an S3-compatible
//! server on 127.0.0.1 (inside the sandbox host's network namespace, where
//! hop-install runs). Downloads resume after a cut, a byte changed on the
//! server is refused before any change, a wrong credential is a clear
//! error that does not show the secret, and a route found in a bucket
//! downloads only the packages on it.

mod common;

use std::path::{Path, PathBuf};

use common::{
    assert_refused, assert_runs_release, finish, fixtures, hop, hop_env, hop_install_binary,
    interrupt, package, sandbox,
};
use hop_artifact::migration::Backend;
use hop_testdata::sandbox::Sandbox;
use hop_testdata::servers::{FileServer, FileServerOptions, S3Server, make_tls};

/// A directory of copies of the given packages, served as a web root.
fn web_root(name: &str, packages: &[(&str, &str)]) -> PathBuf {
    let dir = fixtures().scratch(&format!("web-{name}")).unwrap();
    for (from, to) in packages {
        let p = PathBuf::from(package(from, to));
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    dir
}

fn https_server(host: &Sandbox, dir: &Path, cut_once: Option<f64>) -> (FileServer, PathBuf) {
    https_server_with(
        host,
        dir,
        FileServerOptions {
            cut_once,
            ..Default::default()
        },
    )
}

fn https_server_with(host: &Sandbox, dir: &Path, opts: FileServerOptions) -> (FileServer, PathBuf) {
    let (ca, cert, key) = make_tls(&dir.with_extension("tls")).unwrap();
    let opts = FileServerOptions {
        tls: Some((cert, key)),
        ..opts
    };
    (
        FileServer::start(host.command("python3"), dir, &opts).unwrap(),
        ca,
    )
}

fn downloads(host: &Sandbox) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(host.root.join("var/lib/hop/downloads"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn apply_from_an_https_url_resumes_a_download_cut_halfway() {
    let host = sandbox("https-resume", Backend::Sqlite);
    let dir = web_root("resume", &[("4.0.1", "4.1.1")]);
    let (server, ca) = https_server(&host, &dir, Some(0.5));
    let url = format!(
        "https://127.0.0.1:{}/manager-4.0.1-to-4.1.1.hop",
        server.port
    );
    let size = std::fs::metadata(dir.join("manager-4.0.1-to-4.1.1.hop"))
        .unwrap()
        .len();

    // Without the CA that signed the server's certificate: refused, nothing changed.
    assert_refused(&host, &["apply", &url], &["certificate", "--ca-file"]);

    let ca = ca.display().to_string();
    let run = hop(&host, &["apply", &url, "--ca-file", &ca]);
    run.assert_code(0);
    run.assert_stderr("the download was cut");
    run.assert_stderr("resuming from byte");
    assert_runs_release(&host, "4.1.1");

    // The second request asked only for the rest, from about half way.
    let requests = server.requests();
    let ranges: Vec<u64> = requests
        .iter()
        .filter_map(|r| r.split("range=bytes=").nth(1))
        .filter_map(|r| r.trim_end_matches('-').parse().ok())
        .collect();
    assert_eq!(ranges.len(), 1, "{requests:?}");
    assert!(
        ranges[0] >= size * 2 / 5 && ranges[0] <= size * 3 / 5,
        "resumed at {} of {size}: {requests:?}",
        ranges[0]
    );
    // The hop committed: its download and the download's note are gone.
    assert!(downloads(&host).is_empty(), "{:?}", downloads(&host));
}

/// An HTTPS server of `dir` that stalls as `opts` says: it, the package's
/// URL, and its CA file.
fn stalling_server(
    host: &Sandbox,
    dir: &Path,
    opts: FileServerOptions,
) -> (FileServer, String, String) {
    let (server, ca) = https_server_with(host, dir, opts);
    let url = format!(
        "https://127.0.0.1:{}/manager-4.0.1-to-4.1.1.hop",
        server.port
    );
    (server, url, ca.display().to_string())
}

#[test]
fn a_server_that_goes_silent_midway_is_given_up_on_and_resumed() {
    let host = sandbox("https-stall", Backend::Sqlite);
    let dir = web_root("stall", &[("4.0.1", "4.1.1")]);
    let (_server, url, ca) = stalling_server(
        &host,
        &dir,
        FileServerOptions {
            stall_once: Some(0.5),
            ..Default::default()
        },
    );
    let run = hop_env(
        &host,
        &["apply", &url, "--ca-file", &ca, "--stall-timeout", "3s"],
        &[("HOP_PROGRESS_SECONDS", "1")],
    );
    run.assert_code(0)
        .assert_stderr("the server sent nothing for")
        .assert_stderr("(--stall-timeout)")
        .assert_stderr("resuming from byte");
    // A sign of life while it waited: progress lines at 0 B/s.
    assert!(
        run.stderr
            .lines()
            .any(|l| l.starts_with("progress: downloading") && l.ends_with(", 0 B/s")),
        "{}",
        run.stderr
    );
    assert_runs_release(&host, "4.1.1");
}

#[test]
fn a_server_that_always_goes_silent_is_refused_and_the_part_kept() {
    let host = sandbox("https-stall-always", Backend::Sqlite);
    let dir = web_root("stall-always", &[("4.0.1", "4.1.1")]);
    let (_server, url, ca) = stalling_server(
        &host,
        &dir,
        FileServerOptions {
            stall_always: Some(0.3),
            ..Default::default()
        },
    );
    let before = host.snapshot();
    let run = hop(
        &host,
        &["apply", &url, "--ca-file", &ca, "--stall-timeout", "1s"],
    );
    run.assert_code(2)
        .assert_stderr("the server sent nothing for")
        .assert_stderr("downloaded so far are kept")
        .assert_stderr("run the command again");
    assert_eq!(
        run.stderr.matches("resuming from byte").count(),
        5,
        "{}",
        run.stderr
    );
    assert_eq!(
        host.snapshot(),
        before,
        "a refused download changed the host"
    );
    assert!(
        downloads(&host).iter().any(|n| n.ends_with(".part")),
        "{:?}",
        downloads(&host)
    );
}

/// Ctrl-C while a download waits on a silent server: hop says so at once
/// (not after the stall timeout), keeps the part, changes nothing.
#[test]
fn ctrl_c_during_a_download_says_so_and_keeps_the_part() {
    let host = sandbox("https-ctrl-c", Backend::Sqlite);
    let dir = web_root("ctrl-c", &[("4.0.1", "4.1.1")]);
    let (_server, url, ca) = stalling_server(
        &host,
        &dir,
        FileServerOptions {
            stall_always: Some(0.3),
            ..Default::default()
        },
    );
    let before = host.snapshot();
    let child = host
        .command(&hop_install_binary())
        .args([
            "apply",
            &url,
            "--ca-file",
            &ca,
            "--stall-timeout",
            "5m",
            "--root",
        ])
        .arg(&host.root)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Until the part has its first bytes: the server then goes silent.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !downloads(&host).iter().any(|n| n.ends_with(".part")) {
        assert!(std::time::Instant::now() < deadline, "no download began");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let asked = std::time::Instant::now();
    let mut child = child;
    interrupt(&child);
    while child.try_wait().unwrap().is_none() {
        if asked.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            panic!("hop did not stop within 30 s of Ctrl-C");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let run = finish(child);
    run.assert_code(2)
        .assert_stderr("the download was interrupted by the operator at byte")
        .assert_stderr("nothing on the host changed")
        .assert_stderr("run the command again");
    assert_eq!(
        host.snapshot(),
        before,
        "an interrupted download changed the host"
    );
    assert!(
        downloads(&host).iter().any(|n| n.ends_with(".part")),
        "{:?}",
        downloads(&host)
    );
}

#[test]
fn a_byte_changed_on_the_server_is_refused_before_any_change() {
    let host = sandbox("https-tampered", Backend::Sqlite);
    let dir = web_root("tampered", &[("4.0.1", "4.1.1")]);
    let file = dir.join("manager-4.0.1-to-4.1.1.hop");
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&file, bytes).unwrap();
    let (server, ca) = https_server(&host, &dir, None);
    let url = format!(
        "https://127.0.0.1:{}/manager-4.0.1-to-4.1.1.hop",
        server.port
    );

    let ca = ca.display().to_string();
    assert_refused(
        &host,
        &["apply", &url, "--ca-file", &ca],
        &[
            "is refused before anything changed",
            "not the one they signed",
        ],
    );
    // Nothing of the bad package is kept.
    assert!(downloads(&host).is_empty(), "{:?}", downloads(&host));
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

#[test]
fn path_through_an_https_directory_reads_its_index() {
    let host = sandbox("https-index", Backend::Sqlite);
    let dir = web_root(
        "index",
        &[("4.0.1", "4.1.1"), ("4.1.1", "4.2.0"), ("4.2.0", "4.3.0")],
    );
    hop_builder::index(&dir).unwrap();
    let (server, ca) = https_server(&host, &dir, None);
    let url = format!("https://127.0.0.1:{}/", server.port);
    let ca = ca.display().to_string();
    let run = hop(&host, &["path", "--to", "4.3.0", &url, "--ca-file", &ca]);
    run.assert_code(0)
        .assert_stdout("3 hop(s) from 4.0.1 to 4.3.0");
    // Only heads were read, by ranged GETs of a few KiB: the server served
    // each package at most a few KiB, never a whole object.
    let requests = server.requests();
    assert!(
        requests[0].starts_with("GET /hop-index.json"),
        "{requests:?}"
    );
    let mut served: std::collections::BTreeMap<String, u64> = Default::default();
    for r in &requests[1..] {
        // "GET /manager-4.0.1-to-4.1.1.hop range=bytes=0-8191"
        let (path, range) = r
            .strip_prefix("GET /")
            .and_then(|r| r.split_once(" range=bytes="))
            .unwrap_or_else(|| panic!("a GET without a range: {r}"));
        let (first, last) = range.split_once('-').unwrap();
        let (first, last): (u64, u64) = (first.parse().unwrap(), last.parse().unwrap());
        *served.entry(path.to_owned()).or_default() += last - first + 1;
    }
    assert_eq!(served.len(), 3, "{requests:?}");
    for (package, bytes) in &served {
        assert!(
            *bytes <= 24 << 10,
            "{package}: {bytes} bytes read for its head"
        );
    }
    assert!(downloads(&host).is_empty());
}
