//! Safety: nothing written where it must not be, nothing run that was not
//! vetted, no wait without end. Each test builds the situation an audit
//! found, acts once and compares the host (processes, files, rows) with
//! what it must be.

mod common;

use common::*;
use hop_artifact::migration::Backend;

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

/// The 4.0.1 → 4.1.1 hop with rest-service's stop timeout at 2 s, shorter
/// than supervisord's own `stopwaitsecs` (10 s): hop's timeout ends first.
fn short_stop_package() -> String {
    variant(
        "stop-2s",
        |_| {},
        |m| {
            replace(
                m,
                "stop_timeout: 30s\n    health: {http",
                "stop_timeout: 2s\n    health: {http",
            )
        },
    )
}

#[test]
fn a_service_that_ignores_sigterm_is_gone_before_any_rpm_is_installed() {
    let host = sandbox("ignore-sigterm", Backend::Sqlite);
    let initial = host.snapshot();
    let pkg = short_stop_package();
    let fault = host.root.join("etc/manager/ignore-sigterm-4.0.1");
    std::fs::write(&fault, "").unwrap();
    let old = host.service_pid("rest-service").expect("rest-service runs");

    // hop dies as the RPM step begins: what runs then is what the RPM
    // transaction, the migrations and a restore would have run beside.
    let killed = hop_env(
        &host,
        &["apply", &pkg],
        &[("HOP_FAULT", "kill@install_rpms.begin")],
    );
    assert_eq!(killed.code, -1, "apply was not killed:\n{}", killed.stderr);
    assert!(
        !alive(old),
        "the old rest-service (pid {old}) still ran when the RPM step began:\n{}",
        killed.stdout
    );
    killed.assert_stderr("rest-service: killed after the stop timeout");

    std::fs::remove_file(&fault).unwrap();
    // Before commit, resume rolls back: exit 1, the host as it was.
    hop(&host, &["resume"]).assert_code(1);
    assert_eq!(assert_consistent(&host, &initial), "4.0.1");
}

#[test]
fn an_apply_whose_old_service_ignores_sigterm_kills_it_and_upgrades() {
    let host = sandbox("ignore-sigterm-apply", Backend::Sqlite);
    let pkg = short_stop_package();
    std::fs::write(host.root.join("etc/manager/ignore-sigterm-4.0.1"), "").unwrap();
    let old = host.service_pid("rest-service").expect("rest-service runs");
    let applied = hop(&host, &["apply", &pkg]);
    applied
        .assert_code(0)
        .assert_stderr("rest-service: killed after the stop timeout");
    assert!(!alive(old), "the old rest-service (pid {old}) still runs");
    assert_eq!(
        host.http_get(8101, "/version").unwrap(),
        "4.1.1",
        "the new version does not serve"
    );
}

/// A MariaDB host whose `events` table has a trigger writing into
/// `target` (a table name, qualified as the trigger's author wrote it).
fn mariadb_host_with_audit_trigger(name: &str, target: &str) -> hop_testdata::sandbox::Sandbox {
    let host = sandbox_with(name, &hop_testdata::sandbox::SandboxOptions::mariadb());
    let live = host.database.as_ref().unwrap().database_url().database();
    let target = target.replace("LIVE", &live);
    host.sql("CREATE TABLE rehearsal_audit (event_id INT, note VARCHAR(40))")
        .unwrap();
    host.sql(&format!(
        "CREATE TRIGGER events_audit AFTER UPDATE ON events FOR EACH ROW \
         INSERT INTO {target} VALUES (NEW.id, 'written by the trigger')"
    ))
    .unwrap();
    host
}

#[test]
fn a_mariadb_rehearsal_never_writes_into_the_live_database_through_a_trigger() {
    let host = mariadb_host_with_audit_trigger("rehearse-trigger", "LIVE.rehearsal_audit");
    let before = host.database_snapshot().unwrap();
    // Its offline migration updates every row of events: the trigger fires
    // in the copy for each.
    let rehearsed = hop(&host, &["rehearse", &rewriting_package(), "--json"]);
    rehearsed.assert_code(0);
    assert_eq!(
        host.query_i64("SELECT COUNT(*) FROM rehearsal_audit")
            .unwrap(),
        0,
        "the rehearsal wrote into the live database"
    );
    assert_eq!(
        host.database_snapshot().unwrap(),
        before,
        "the live database changed"
    );
    // The copy carried the trigger: the migration fired it there.
    let report: serde_json::Value = serde_json::from_str(&rehearsed.stdout).unwrap();
    let rewrote = report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["file"].as_str().unwrap_or("").starts_with("0012"))
        .map(|m| m["rows"].as_u64().unwrap_or(0));
    assert!(rewrote.unwrap_or(0) >= 120, "{}", rehearsed.stdout);
}

#[test]
fn a_mariadb_rehearsal_refuses_stored_code_that_names_another_database() {
    let host = mariadb_host_with_audit_trigger("rehearse-other-db", "mysql.rehearsal_audit");
    assert_refused(
        &host,
        &["rehearse", &rewriting_package()],
        &[
            "cannot rehearse on a copy",
            "trigger events_audit: it names the database mysql",
        ],
    );
}

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

/// Every process but `except` whose environment holds `needle`:
/// (pid, uid, command line). hop's own image is not counted: a child
/// hop has forked but not yet exec'd still shows hop's environment (the
/// cleared one takes effect at `execve`), and that is hop itself.
fn processes_holding(needle: &str, except: u32) -> Vec<(u32, u32, String)> {
    use std::os::unix::fs::MetadataExt;
    let hop = std::fs::canonicalize(HOP_INSTALL).unwrap();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            if std::fs::read_link(e.path().join("exe")).is_ok_and(|exe| exe == hop) {
                return None;
            }
            let environ = std::fs::read(e.path().join("environ")).ok()?;
            let found = environ
                .windows(needle.len())
                .any(|w| w == needle.as_bytes());
            (found && pid != except && pid != std::process::id()).then(|| {
                let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
                let uid = e.metadata().map(|m| m.uid()).unwrap_or(0);
                (pid, uid, String::from_utf8_lossy(&cmd).replace('\0', " "))
            })
        })
        .collect()
}

#[test]
fn no_secret_of_hops_environment_reaches_the_processes_it_starts() {
    use std::os::unix::fs::PermissionsExt;
    let host = sandbox("secret-env", Backend::Postgresql);
    let tmp = host.root.join("var/tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let canary = format!("hop-secret-canary-{}", std::process::id());
    // A rehearsal in a private cluster: initdb, pg_ctl and postgres run
    // as the postgres user; pg_dump and psql as root.
    let mut child = host
        .command(HOP_INSTALL)
        .args([
            "rehearse",
            &rewriting_package(),
            "--scratch-cluster",
            "--root",
        ])
        .arg(&host.root)
        .env("AWS_SECRET_ACCESS_KEY", &canary)
        .env("PGPASSWORD", &canary)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut seen = Vec::new();
    let mut others_user = false;
    while child.try_wait().unwrap().is_none() {
        for p in processes_holding(&canary, child.id()) {
            others_user |= p.1 != 0;
            if !seen.contains(&p) {
                seen.push(p);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the rehearsal failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        seen.is_empty(),
        "the secret reached {} (another user's: {others_user}): {seen:#?}",
        seen.len()
    );
}

/// Processes whose command line holds `needle`.
fn processes_named(needle: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(needle))
        .collect()
}

#[test]
fn a_check_script_runs_as_nobody_and_leaves_nothing_running_even_past_setsid() {
    let host = sandbox("check-escape", Backend::Sqlite);
    let canary = format!("hop-escape-canary-{}", std::process::id());
    let pkg = variant(
        "check-escape",
        |dir| {
            std::fs::write(
                dir.join("escape.sh"),
                format!(
                    "#!/bin/sh\nsetsid sh -c 'sleep 300; : {canary}' </dev/null >/dev/null 2>&1 &\n\
                     ( setsid sh -c 'sleep 300; : {canary}' & ) </dev/null >/dev/null 2>&1\n\
                     echo \"running as uid $(id -u)\"\nexit 1\n"
                ),
            )
            .unwrap();
        },
        |text| {
            let dir = fixtures().dir().join("scratch/variant-check-escape");
            format!(
                "{text}checks:\n\
                 \x20 - id: manager.escape\n\
                 \x20   title: a script that leaves daemons\n\
                 \x20   severity: warning\n\
                 \x20   script: {}\n\
                 \x20   timeout: 10s\n\
                 \x20   remedy: none\n",
                dir.join("escape.sh").display()
            )
        },
    );
    let check = hop(&host, &["check", &pkg]);
    check.assert_code(1);
    let line = check.line("a script that leaves daemons");
    let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap().uid;
    assert!(line.contains(&format!("running as uid {nobody}")), "{line}");
    let left = processes_named(&canary);
    assert!(left.is_empty(), "the check left {left:?} running");
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

fn postgres_databases() -> Vec<String> {
    let out = std::process::Command::new("psql")
        .args(["-h", "/var/run/postgresql", "-d", "postgres", "-tAc"])
        .arg("SELECT datname FROM pg_database")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn psql(sql: &str) {
    let out = std::process::Command::new("psql")
        .args(["-h", "/var/run/postgresql", "-d", "postgres", "-tAc", sql])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_rehearsal_drops_only_its_own_machines_leftover_scratch_databases() {
    let host = sandbox("scratch-owners", Backend::Postgresql);
    let me = hop_migrate::scratch::Owner::this_process();
    let pid = std::process::id();
    // Another machine's rehearsal, running now on the shared server, and
    // one of this machine whose process is gone (its start time is not
    // that of the process now holding the number).
    let theirs = format!("hop_scratch_0badf00d_{pid}_1_0_rehearse");
    let ours_dead = format!("hop_scratch_{}_{pid}_{}_0_rehearse", me.host, me.start + 1);
    for name in [&theirs, &ours_dead] {
        psql(&format!("CREATE DATABASE {name}"));
    }
    hop(&host, &["rehearse", &package("4.0.1", "4.1.1")]).assert_code(0);
    let now = postgres_databases();
    let kept = now.contains(&theirs);
    let dropped = !now.contains(&ours_dead);
    for name in [&theirs, &ours_dead] {
        psql(&format!("DROP DATABASE IF EXISTS {name}"));
    }
    assert!(kept, "another machine's scratch database was dropped");
    assert!(dropped, "this machine's leftover was not dropped");
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
