//! Packages where customers get them: an HTTPS server and an S3-compatible
//! server on 127.0.0.1 (inside the sandbox host's network namespace, where
//! hop-install runs). Downloads resume after a cut, a byte changed on the
//! server is refused before any change, a stalled server is given up on,
//! Ctrl-C says so, and heads are read by ranges (S3: tests/remote_s3.rs).

mod common;

use std::path::{Path, PathBuf};

use common::{
    assert_refused, assert_runs_release, downloads, finish, fixtures, hop, hop_env,
    hop_install_binary, interrupt, package, sandbox,
};
use hop_artifact::migration::Backend;
use hop_testdata::sandbox::{HostSnapshot, Sandbox};
use hop_testdata::servers::{FileServer, FileServerOptions, make_tls};

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
/// A host at 4.0.1 and an HTTPS server of its one hop that stalls as
/// `opts` says: the host, the server, the package's URL and the CA file.
fn stalling_server(name: &str, opts: FileServerOptions) -> (Sandbox, FileServer, String, String) {
    let host = sandbox(&format!("https-{name}"), Backend::Sqlite);
    let dir = web_root(name, &[("4.0.1", "4.1.1")]);
    let (server, ca) = https_server_with(&host, &dir, opts);
    let url = format!(
        "https://127.0.0.1:{}/manager-4.0.1-to-4.1.1.hop",
        server.port
    );
    (host, server, url, ca.display().to_string())
}

/// A server that goes silent after 30% of every answer.
fn always_silent() -> FileServerOptions {
    FileServerOptions {
        stall_always: Some(0.3),
        ..Default::default()
    }
}

#[test]
fn a_server_that_goes_silent_midway_is_given_up_on_and_resumed() {
    let (host, _server, url, ca) = stalling_server(
        "stall",
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
    let (host, _server, url, ca) = stalling_server("stall-always", always_silent());
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
    assert_unchanged_but_the_part(&host, &before, "a refused download changed the host");
}

/// The host as it was, and the download's part kept for the next run.
fn assert_unchanged_but_the_part(host: &Sandbox, before: &HostSnapshot, what: &str) {
    assert_eq!(&host.snapshot(), before, "{what}");
    assert!(has_part(host), "no part kept: {:?}", downloads(host));
}

fn has_part(host: &Sandbox) -> bool {
    downloads(host).iter().any(|n| n.ends_with(".part"))
}

/// Ctrl-C while a download waits on a silent server: hop says so at once
/// (not after the stall timeout), keeps the part, changes nothing.
#[test]
fn ctrl_c_during_a_download_says_so_and_keeps_the_part() {
    let (host, _server, url, ca) = stalling_server("ctrl-c", always_silent());
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
    while !has_part(&host) {
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
    assert_unchanged_but_the_part(&host, &before, "an interrupted download changed the host");
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
