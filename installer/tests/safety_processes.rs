//! What hop starts runs as it must: a service that ignores SIGTERM is
//! gone before any RPM is installed, no secret of hop's environment
//! reaches a tool it runs, and a vendor's check script runs as nobody and
//! leaves nothing behind.

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
