//! Safety: nothing written where it must not be, nothing run that was not
//! vetted, no wait without end. Each test builds the situation an audit
//! found, acts once and compares the host (processes, files, rows) with
//! what it must be.

mod common;

use common::*;
use hop_artifact::migration::Backend;

fn host_with_rpm_cache(name: &str) -> hop_testdata::sandbox::Sandbox {
    sandbox_with(
        name,
        &hop_testdata::sandbox::SandboxOptions {
            rpm_cache: true,
            ..hop_testdata::sandbox::SandboxOptions::sqlite()
        },
    )
}

#[test]
fn an_rpm_cache_under_a_directory_another_user_owns_is_not_trusted() {
    let host = host_with_rpm_cache("cache-parent");
    // The cache itself is root's 0755; its parent is a user's, who could
    // swap the cache for one of their own between check and use.
    let parent = host.root.join("var/cache/manager");
    std::os::unix::fs::chown(&parent, Some(65534), Some(65534)).unwrap();
    let check = hop(&host, &["check", &package("4.0.1", "4.1.1")]);
    check.assert_code(2);
    let line = check.line("components");
    assert!(
        line.contains("var/cache/manager, which belongs to uid 65534"),
        "{line}"
    );
    assert_refused(
        &host,
        &["apply", &package("4.0.1", "4.1.1")],
        &["which belongs to uid 65534"],
    );
}

#[test]
fn a_cached_rpm_whose_payload_changed_behind_its_header_is_refused() {
    let host = host_with_rpm_cache("cache-payload");
    let file = host
        .root
        .join("var/cache/manager/rpms/rest-service-4.0.1-1.noarch.rpm");
    let mut bytes = std::fs::read(&file).unwrap();
    let at = bytes.len() - 100;
    bytes[at] ^= 0xff;
    std::fs::write(&file, &bytes).unwrap();
    let check = hop(&host, &["check", &package("4.0.1", "4.1.1")]);
    check.assert_code(2);
    let line = check.line("components");
    assert!(
        line.contains("rest-service-4.0.1-1.noarch.rpm")
            && line.contains("its payload does not match its header's digests"),
        "{line}"
    );
    assert_refused(
        &host,
        &["apply", &package("4.0.1", "4.1.1")],
        &["its payload does not match"],
    );
}

/// A package with one vendor check whose query is `MARKER`, to be
/// rewritten in a re-signed copy.
const MARKER: &str = "SELECT name FROM deployments WHERE name = 'no such deployment'";

fn package_with_query_check() -> String {
    variant(
        "query-check",
        |_| {},
        |text| {
            format!(
                "{text}checks:\n\
                 \x20 - id: manager.query\n\
                 \x20   title: the vendor's query\n\
                 \x20   severity: failure\n\
                 \x20   sql: {MARKER}\n\
                 \x20   timeout: 3s\n\
                 \x20   remedy: none\n"
            )
        },
    )
}

/// `check` of the package whose check query is `sql` (signed, but made
/// without the builder): exit 2, the check's line saying `why`, and the
/// rows of `events` untouched.
fn a_check_query_is_refused(
    host: &hop_testdata::sandbox::Sandbox,
    name: &str,
    sql: &str,
    why: &str,
) {
    let pkg = resigned_package(name, &package_with_query_check(), |m| {
        assert!(m.contains(MARKER), "{m}");
        m.replace(MARKER, sql)
    });
    let events = host.query_i64("SELECT COUNT(*) FROM events").unwrap();
    let check = hop(host, &["check", &pkg]);
    check.assert_code(2);
    let line = check.line("the vendor's query");
    assert!(
        line.contains("FAILURE") && line.contains(why),
        "{sql}: {line}"
    );
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM events").unwrap(),
        events,
        "{sql} changed the database"
    );
}

#[test]
fn a_vendor_query_cannot_write_signal_or_outlast_its_timeout() {
    let host = sandbox("check-sql", Backend::Postgresql);
    let db = host.database.as_ref().unwrap().database_url().database();
    host.sql("CREATE EXTENSION IF NOT EXISTS dblink")
        .expect("the dblink extension (Debian's postgresql package has it)");
    a_check_query_is_refused(
        &host,
        "multi",
        "SELECT 1; COMMIT; DELETE FROM events",
        "exactly one query",
    );
    a_check_query_is_refused(
        &host,
        "dblink",
        &format!(
            "SELECT dblink_exec('dbname={db} host=/var/run/postgresql', 'DELETE FROM events')"
        ),
        "calls dblink_exec()",
    );
    a_check_query_is_refused(
        &host,
        "terminate",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()",
        "calls pg_terminate_backend()",
    );
    let begun = std::time::Instant::now();
    a_check_query_is_refused(&host, "sleep", "SELECT pg_sleep(20)", "statement timeout");
    assert!(
        begun.elapsed() < std::time::Duration::from_secs(15),
        "the query ran past its 3s timeout: {:?}",
        begun.elapsed()
    );
}

#[test]
fn a_row_with_escape_sequences_reaches_the_terminal_shown_not_sent() {
    let host = sandbox("check-escapes", Backend::Sqlite);
    let pkg = resigned_package("check-escapes", &package_with_query_check(), |m| {
        m.replace(
            MARKER,
            "SELECT name FROM deployments WHERE name LIKE 'evil%'",
        )
    });
    // A title sequence and a screen clear, as a hostile row might hold.
    host.sql("UPDATE deployments SET name = 'evil' || char(27) || ']0;pwned' || char(7) || char(27) || '[2J' WHERE id = 3")
        .unwrap();
    let check = hop(&host, &["check", &pkg]);
    check.assert_code(2);
    assert!(
        !check.stdout.contains('\x1b') && !check.stderr.contains('\x1b'),
        "a raw escape reached the terminal: {:?}",
        check.stdout
    );
    let line = check.line("the vendor's query");
    assert!(line.contains(r"evil\x1b]0;pwned\x07\x1b[2J"), "{line}");
}

/// Puts the host's state directory on a file system of its own of
/// `size` (tmpfs), with what it held; unmounted on drop.
struct SmallStateDir {
    dir: std::path::PathBuf,
}

impl SmallStateDir {
    fn mount(host: &hop_testdata::sandbox::Sandbox, size: &str) -> Self {
        let dir = host.root.join("var/lib/hop");
        let keep = host.root.join("var/lib/hop.before");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::rename(&dir, &keep).unwrap();
        std::fs::create_dir(&dir).unwrap();
        hop_testdata::fixtures::run_ok(
            std::process::Command::new("mount")
                .args([
                    "-t",
                    "tmpfs",
                    "-o",
                    &format!("size={size},mode=0700"),
                    "tmpfs",
                ])
                .arg(&dir),
        );
        hop_testdata::fixtures::run_ok(
            std::process::Command::new("cp")
                .arg("-a")
                .arg(format!("{}/.", keep.display()))
                .arg(&dir),
        );
        Self { dir }
    }

    /// Gives it room: the same contents on a larger file system.
    fn grow(&self, size: &str) {
        hop_testdata::fixtures::run_ok(
            std::process::Command::new("mount")
                .args(["-o", &format!("remount,size={size}")])
                .arg(&self.dir),
        );
    }
}

impl Drop for SmallStateDir {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.dir)
            .status();
    }
}

/// The 4.0.1 → 4.1.1 hop with a 6 MiB post_install hook: its payload
/// does not fit a 2 MiB state directory.
fn big_package() -> String {
    let dir = fixtures().dir().join("scratch/variant-big-payload");
    variant(
        "big-payload",
        |d| {
            let padding = "#".repeat(6 << 20);
            std::fs::write(
                d.join("post_install.sh"),
                format!("#!/bin/sh\n{padding}\nexit 0\n"),
            )
            .unwrap();
        },
        |m| {
            format!(
                "{m}scripts:\n  post_install: {}\n",
                dir.join("post_install.sh").display()
            )
        },
    )
}

#[test]
fn a_state_directory_without_room_for_the_payload_is_refused_before_any_change() {
    let host = sandbox("full-disk", Backend::Sqlite);
    let pkg = big_package();
    let state = SmallStateDir::mount(&host, "2m");
    // Even with the disk-space check accepted, nothing is written that
    // cannot fit: the payload's room is checked from the signed head.
    let args = [
        "apply",
        pkg.as_str(),
        "--accept",
        "hop.disk-space",
        "--reason",
        "test: the disk is small",
    ];
    assert_refused(
        &host,
        &args,
        &[
            "not enough space for the package's payload",
            "free space there and run the command again",
        ],
    );
    let refused = hop(&host, &args);
    assert!(
        !refused.stderr.contains("fetch the package again"),
        "a full disk is blamed on the package: {}",
        refused.stderr
    );
    state.grow("64m");
    hop(&host, &["apply", &pkg]).assert_code(0);
    drop(state);
}

#[test]
fn a_download_that_would_fill_the_state_directory_is_refused_before_writing() {
    use hop_testdata::servers::{FileServer, FileServerOptions};
    let host = sandbox("full-download", Backend::Sqlite);
    let web = fixtures().scratch("web-full-download").unwrap();
    let pkg = big_package();
    std::fs::copy(&pkg, web.join("big.hop")).unwrap();
    let server =
        FileServer::start(host.command("python3"), &web, &FileServerOptions::default()).unwrap();
    let url = format!("http://127.0.0.1:{}/big.hop", server.port);
    let state = SmallStateDir::mount(&host, "2m");
    let run = hop(&host, &["apply", &url]);
    run.assert_code(2)
        .assert_stderr("not enough space for the download")
        .assert_stderr("the part downloaded so far is kept");
    let parts: u64 = std::fs::read_dir(host.root.join("var/lib/hop/downloads"))
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    assert!(parts < 1 << 20, "the download wrote {parts} bytes anyway");
    state.grow("64m");
    hop(&host, &["apply", &url]).assert_code(0);
    drop(state);
}

#[test]
fn a_trusted_key_or_host_config_others_may_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let host = sandbox("planted-keys", Backend::Sqlite);
    let pkg = package("4.0.1", "4.1.1");
    let keys = host.root.join("etc/hop/trusted-keys");
    let key = std::fs::read_dir(&keys)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().ends_with(".asc"))
        .unwrap()
        .path();
    let mode = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };
    mode(&key, 0o666);
    assert_refused(&host, &["apply", &pkg], &["writable by others (mode 666)"]);
    mode(&key, 0o644);
    std::os::unix::fs::chown(&key, Some(65534), None).unwrap();
    assert_refused(&host, &["apply", &pkg], &["belongs to uid 65534"]);
    std::os::unix::fs::chown(&key, Some(0), None).unwrap();
    mode(&keys, 0o777);
    assert_refused(&host, &["apply", &pkg], &["trusted keys directory"]);
    mode(&keys, 0o755);
    let config = host.root.join("etc/hop/host.yaml");
    mode(&config, 0o646);
    assert_refused(
        &host,
        &["apply", &pkg],
        &["host.yaml is writable by others"],
    );
    mode(&config, 0o644);
    hop(&host, &["apply", &pkg]).assert_code(0);
}
