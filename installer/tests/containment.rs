//! Nothing escapes: hop writes only inside the host's root (a link cannot
//! lead it out), never through a link at a config's place, finds its
//! defaults inside the root; the programs a package brings (hooks, health
//! commands) run contained — clean environment, the root as working
//! directory, a timeout that kills their whole process group, nothing
//! left running behind them — and a killed hop-install leaves nothing
//! running that a later `resume` would race with.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use hop_artifact::migration::Backend;
use hop_testdata::fixtures::run_ok;
use hop_testdata::sandbox::Sandbox;

/// A 4.0.1 → 4.1.1 variant whose `hook` runs `body` (a shell script),
/// with an optional timeout.
fn with_hook(name: &str, hook: &str, body: &str, timeout: Option<&str>) -> String {
    let dir = fixtures().dir().join(format!("scratch/variant-{name}"));
    let script = dir.join(format!("{hook}.sh"));
    let body = body.to_owned();
    let entry = match timeout {
        Some(t) => format!("{{path: {}, timeout: {t}}}", script.display()),
        None => script.display().to_string(),
    };
    let hook = hook.to_owned();
    variant(
        name,
        |d| std::fs::write(d.join(format!("{hook}.sh")), format!("#!/bin/sh\n{body}\n")).unwrap(),
        |m| format!("{m}scripts:\n  {hook}: {entry}\n"),
    )
}

fn alive(pattern: &str) -> bool {
    std::process::Command::new("pgrep")
        .args(["-f", pattern])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn a_config_directory_linked_out_of_the_root_is_refused_and_nothing_is_written_outside() {
    let host = sandbox("escape", Backend::Sqlite);
    let outside = PathBuf::from(format!("/tmp/hop-outside-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&outside);
    std::fs::create_dir_all(&outside).unwrap();
    let manager = host.root.join("etc/manager");
    for name in ["rest.yaml", "mgmtworker.yaml"] {
        std::fs::copy(manager.join(name), outside.join(name)).unwrap();
    }
    std::fs::remove_dir_all(&manager).unwrap();
    std::os::unix::fs::symlink(&outside, &manager).unwrap();
    let digest = |dir: &Path| -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    };
    let before = digest(&outside);

    let check = hop(&host, &["check", &package("4.0.1", "4.1.1")]);
    check.assert_code(2);
    assert!(
        check.stdout.lines().any(|l| l.starts_with("configs")
            && l.contains("FAILURE")
            && l.contains("/etc/manager is a link to")),
        "{}",
        check.stdout
    );
    hop(&host, &["apply", &package("4.0.1", "4.1.1")])
        .assert_code(2)
        .assert_stderr("does not resolve inside the host's root");
    assert_eq!(digest(&outside), before, "hop wrote outside the root");
    std::fs::remove_dir_all(&outside).unwrap();
}

#[test]
fn a_config_that_is_a_link_is_refused_before_any_change() {
    let host = sandbox("config-link", Backend::Sqlite);
    let manager = host.root.join("etc/manager");
    std::fs::rename(manager.join("rest.yaml"), manager.join("rest.real")).unwrap();
    std::os::unix::fs::symlink("rest.real", manager.join("rest.yaml")).unwrap();
    assert_refused(
        &host,
        &["apply", &package("4.0.1", "4.1.1")],
        &["/etc/manager/rest.yaml is a symbolic link; hop writes configs as regular files"],
    );
}

#[test]
fn the_default_supervisord_config_is_taken_inside_the_root() {
    let host = sandbox("default-conf", Backend::Sqlite);
    let host_yaml = host.root.join("etc/hop/host.yaml");
    let text = std::fs::read_to_string(&host_yaml).unwrap();
    std::fs::write(
        &host_yaml,
        text.replace("  supervisord_conf: /etc/supervisord.conf\n", ""),
    )
    .unwrap();
    let check = hop(&host, &["check", &package("4.0.1", "4.1.1")]);
    check.assert_code(0);
    hop(&host, &["apply", &package("4.0.1", "4.1.1")]).assert_code(0);
    assert_eq!(host.service_versions()[0].1.as_deref(), Some("4.1.1"));
}

#[test]
fn a_hook_that_leaves_a_background_job_does_not_hold_the_upgrade() {
    let host = sandbox("hook-background", Backend::Sqlite);
    let marker = format!("sleep 300.{}", std::process::id());
    let pkg = with_hook(
        "hook-background",
        "post_install",
        &format!("echo \"hook ran in $(pwd)\"\n{marker} &\necho done"),
        None,
    );
    let started = Instant::now();
    let run = hop(&host, &["apply", &pkg]);
    run.assert_code(0);
    assert!(
        started.elapsed() < Duration::from_secs(90),
        "apply waited {:?} for the hook's background job",
        started.elapsed()
    );
    assert!(!alive(&marker), "the hook's background job outlived it");
    let logs = host.root.join("var/lib/hop/logs");
    let log = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
        .find(|t| t.contains("hook ran in"))
        .expect("the hook's output is not in the operation's log");
    assert!(
        log.contains(&format!("hook ran in {}", host.root.display())),
        "the hook did not run in the host's root:\n{log}"
    );
    use std::os::unix::fs::MetadataExt;
    let history = std::fs::metadata(host.root.join("var/lib/hop/history.jsonl")).unwrap();
    assert_eq!(
        history.mode() & 0o777,
        0o600,
        "history.jsonl is readable by others"
    );
}

#[test]
fn a_hook_that_hangs_is_stopped_at_its_timeout_and_rolled_back() {
    let host = sandbox("hook-timeout", Backend::Sqlite);
    let initial = host.snapshot();
    let pkg = with_hook("hook-timeout", "pre_install", "sleep 120", Some("2s"));
    let started = Instant::now();
    hop(&host, &["apply", &pkg])
        .assert_code(1)
        .assert_stderr("the pre_install hook failed")
        .assert_stderr("timed out after 2s");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(assert_consistent(&host, &initial), "4.0.1");
}

/// The `hop-install __contain` process that runs a hook of `host`.
fn containing_process(host: &hop_testdata::sandbox::Sandbox) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
        let cmd = String::from_utf8_lossy(&cmd);
        (cmd.contains("__contain") && cmd.contains(&*host.root.to_string_lossy()))
            .then(|| e.file_name().to_str()?.parse().ok())?
    })
}

/// Applies a package whose pre_install hook starts a job that ignores
/// TERM and HUP and writes a line every 0.1 s, waits until it runs, then
/// SIGKILLs hop-install — and, with `wrapper_too`, the process that
/// contains the hook. The ticking file, and a count of its lines.
fn kill_with_a_job_running(
    host: &hop_testdata::sandbox::Sandbox,
    name: &str,
    wrapper_too: bool,
) -> impl Fn() -> usize {
    let ticks = host.root.join("tmp/ticks");
    std::fs::create_dir_all(ticks.parent().unwrap()).unwrap();
    let pkg = with_hook(
        name,
        "pre_install",
        "(trap '' TERM HUP; while :; do date +%s%N >> \"$HOP_ROOT/tmp/ticks\"; sleep 0.1; done) &\nsleep 60",
        None,
    );
    let child = spawn_apply_of(host, &pkg, "");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ticks.exists() {
        assert!(Instant::now() < deadline, "the hook never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut pids = vec![child.id().to_string()];
    if wrapper_too {
        pids.push(
            containing_process(host)
                .expect("the hook's containing process")
                .to_string(),
        );
    }
    // A power cut for hop-install (and its helper).
    std::process::Command::new("kill")
        .arg("-KILL")
        .args(&pids)
        .status()
        .unwrap();
    finish(child);
    move || {
        std::fs::read_to_string(&ticks)
            .unwrap_or_default()
            .lines()
            .count()
    }
}

#[test]
fn a_job_of_a_hook_ends_with_a_killed_hop_install() {
    let host = sandbox("orphans-helper", Backend::Sqlite);
    let lines = kill_with_a_job_running(&host, "orphans-helper", false);
    std::thread::sleep(Duration::from_millis(400));
    let before = lines();
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(lines(), before, "the hook's job outlived hop-install");
    std::fs::remove_file(host.root.join("tmp/ticks")).unwrap();
    hop(&host, &["resume"]).assert_code(1);
}

#[test]
fn processes_left_by_a_killed_hop_install_are_ended_before_resume_acts() {
    let host = sandbox("orphans", Backend::Sqlite);
    let initial = host.snapshot();
    let lines = kill_with_a_job_running(&host, "orphans", true);
    let before = lines();
    std::thread::sleep(Duration::from_millis(600));
    assert!(
        lines() > before,
        "the scenario needs a job that outlives hop-install"
    );

    hop(&host, &["resume"])
        .assert_code(1)
        .assert_stderr("ended 1 process group(s) the interrupted run left behind");
    let after = lines();
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        lines(),
        after,
        "a job of the killed run still changes the host"
    );
    std::fs::remove_file(host.root.join("tmp/ticks")).unwrap();
    assert_eq!(assert_consistent(&host, &initial), "4.0.1");
}

#[test]
fn health_commands_do_not_see_hops_environment() {
    let host = sandbox("health-env", Backend::Sqlite);
    let pkg = variant(
        "health-env",
        |_| {},
        |m| {
            replace(
                m,
                "health: {http: \"http://127.0.0.1:8101/readyz\", timeout: 60s, settle: 2s}",
                "health: {command: \"test -z \\\"$HOP_SECRET\\\" && test \\\"$(pwd)\\\" = / && curl -sf http://127.0.0.1:8101/readyz\", timeout: 20s, settle: 2s}",
            )
        },
    );
    run_ok(
        host.command(HOP_INSTALL)
            .args(["apply", &pkg, "--root"])
            .arg(&host.root)
            .env("HOP_SECRET", "leak-me")
            .current_dir("/tmp"),
    );
}

/// A sandbox whose etc/hop/host.yaml has `edit` applied.
fn edit_host_yaml(host: &Sandbox, edit: impl FnOnce(String) -> String) {
    let path = host.root.join("etc/hop/host.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, edit(text)).unwrap();
}

#[test]
fn a_password_in_the_url_query_is_refused_without_showing_it() {
    let host = sandbox("query-password", Backend::Postgresql);
    edit_host_yaml(&host, |t| {
        let url = t
            .lines()
            .find_map(|l| l.trim().strip_prefix("url: "))
            .unwrap()
            .trim_matches('"')
            .to_owned();
        let sep = if url.contains('?') { '&' } else { '?' };
        t.replace(&url, &format!("{url}{sep}password=Hunter2-query"))
    });
    let tree = host.tree_digest();
    for verb in ["check", "apply"] {
        let run = hop(&host, &[verb, &package("4.0.1", "4.1.1")]);
        run.assert_code(2);
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(all.contains("put it in the user part instead"), "{all}");
        assert!(
            !all.contains("Hunter2-query"),
            "the password was shown:\n{all}"
        );
    }
    assert_same_tree(&tree, &host.tree_digest());
}

#[test]
fn hook_scripts_run_with_a_clean_environment() {
    let host = sandbox("hooks", Backend::Sqlite);
    let dir = fixtures().dir().join("scratch/variant-hooks");
    let pkg = variant(
        "hooks",
        |d| {
            std::fs::write(
                d.join("post-install.sh"),
                "#!/bin/sh\nenv | sort > \"$HOP_ROOT/etc/manager/hook-env\"\n",
            )
            .unwrap();
        },
        |m| {
            format!(
                "{m}scripts:\n  post_install: {}\n",
                dir.join("post-install.sh").display()
            )
        },
    );
    run_ok(
        host.command(HOP_INSTALL)
            .args(["apply", &pkg, "--root"])
            .arg(&host.root)
            .env("HOP_DB_PASSWORD", "leak-me")
            .env("HOME", "/root")
            .env("HOP_FAULT", ""),
    );
    let env = std::fs::read_to_string(host.root.join("etc/manager/hook-env")).unwrap();
    let names: Vec<&str> = env.lines().filter_map(|l| l.split('=').next()).collect();
    // What hop gives a hook, and what the shell adds itself.
    let given = [
        "HOP_FROM",
        "HOP_HOOK",
        "HOP_PRODUCT",
        "HOP_ROOT",
        "HOP_TO",
        "PATH",
    ];
    for expected in given {
        assert!(
            names.contains(&expected),
            "{expected} missing from the hook's environment:\n{env}"
        );
    }
    for name in &names {
        assert!(
            given.contains(name) || ["PWD", "SHLVL", "_"].contains(name),
            "the hook saw {name}:\n{env}"
        );
    }
    assert!(
        env.contains("HOP_HOOK=post_install") && env.contains("HOP_TO=4.1.1"),
        "{env}"
    );
}
