//! What the installer's end-to-end tests share: fixtures, sandbox hosts,
//! running hop-install inside them, and variant packages.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use hop_artifact::migration::Backend;
use hop_testdata::fixtures::Fixtures;
use hop_testdata::sandbox::{Sandbox, SandboxOptions};

/// Makes each named `fn(Backend)` two tests, `NAME::sqlite` and
/// `NAME::postgresql`.
#[macro_export]
macro_rules! on_sqlite_and_postgresql {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() { super::$name(hop_artifact::migration::Backend::Sqlite) }
            #[test]
            fn postgresql() { super::$name(hop_artifact::migration::Backend::Postgresql) }
        }
    )*};
}

mod packages;

pub use packages::*;

pub const HOP_INSTALL: &str = env!("CARGO_BIN_EXE_hop-install");

pub fn fixtures() -> &'static Fixtures {
    Fixtures::get(env!("CARGO_TARGET_TMPDIR"))
}

/// A fresh sandbox host at 4.0.1 on `backend`, in its own namespace,
/// made as a customer's host is: RPMs installed by the system `rpm` from
/// files that are not on the host, no rpm_cache.
pub fn sandbox(name: &str, backend: Backend) -> Sandbox {
    let opts = match backend {
        Backend::Postgresql => SandboxOptions::postgresql(),
        Backend::Mariadb => SandboxOptions::mariadb(),
        Backend::Sqlite => SandboxOptions::sqlite(),
    };
    sandbox_with(name, &opts)
}

/// A fresh sandbox host made with `opts`.
pub fn sandbox_with(name: &str, opts: &SandboxOptions) -> Sandbox {
    let f = fixtures();
    let root = PathBuf::from(format!(
        "/tmp/hop-sandboxes/{}-{name}-{}",
        std::process::id(),
        opts.backend
    ));
    match Sandbox::create(&root, f.release(), &f.vendor_key().public, opts) {
        Ok(s) => s,
        Err(e) => panic!("cannot create the sandbox host {name}: {e:#}"),
    }
}

pub use hop_testdata::output::Run;

/// The `hop-install` the tests run: the one cargo built for them, or the
/// one `HOP_TEST_INSTALL_BIN` names (`scripts/el-suite.sh` runs the main
/// paths with the glibc 2.17 release binary).
pub fn hop_install_binary() -> String {
    match std::env::var("HOP_TEST_INSTALL_BIN") {
        Ok(bin) if !bin.is_empty() => {
            assert!(
                std::path::Path::new(&bin).is_file(),
                "HOP_TEST_INSTALL_BIN={bin} is not a file: run `make el-binaries`"
            );
            bin
        }
        _ => HOP_INSTALL.to_owned(),
    }
}

/// `hop-install ARGS --root <sandbox>`, inside its namespace.
pub fn hop(sandbox: &Sandbox, args: &[&str]) -> Run {
    Run::from(sandbox.hop_install(&hop_install_binary(), args, &[]))
}

/// The same with extra environment (HOP_FAULT).
pub fn hop_env(sandbox: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Run {
    Run::from(sandbox.hop_install(&hop_install_binary(), args, env))
}

/// The steps of a host's operation, in order, as the journal and fault
/// points name them.
pub const HOST_STEPS: [&str; 12] = [
    "stage",
    "backup",
    "online_migrations",
    "stop_services",
    "install_rpms",
    "deploy_configs",
    "offline_migrations",
    "start_services",
    "health_gate",
    "commit",
    "post_migrations",
    "cleanup",
];

pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgresql];

/// Asserts the host runs `version`'s release: both services answer with
/// it, the RPM set is its three components, and the deployed configs are
/// byte-for-byte its files.
pub fn assert_runs_release(host: &Sandbox, version: &str) {
    assert_eq!(
        host.service_versions(),
        [
            ("rest-service".into(), Some(version.to_owned())),
            ("mgmtworker".into(), Some(version.to_owned()))
        ]
    );
    let components = ["cli", "manager-common", "mgmtworker", "rest-service"];
    let mut expected: Vec<String> = components
        .iter()
        .map(|c| format!("{c}-{version}-1.noarch"))
        .collect();
    expected.push("sandbox-base-1.0-1.noarch".into());
    expected.sort();
    assert_eq!(host.rpms(), expected);
    let release = fixtures().release().join(version).join("configs");
    for name in ["rest.yaml", "mgmtworker.yaml"] {
        let deployed = std::fs::read(host.root.join("etc/manager").join(name)).unwrap();
        assert_eq!(
            deployed,
            std::fs::read(release.join(name)).unwrap(),
            "{name} is not {version}'s"
        );
    }
}

/// Checks that the host is wholly at one version and returns it: services,
/// RPMs, configs, schema history, pre-existing rows, no unfinished
/// operation. At 4.0.1 the host must be exactly `initial`.
pub fn assert_consistent(host: &Sandbox, initial: &hop_testdata::sandbox::HostSnapshot) -> String {
    let status = hop(host, &["status"]);
    status
        .assert_code(0)
        .assert_stdout("unfinished operation: none");
    let now = host.snapshot();
    let versions: Vec<Option<String>> = now.services.iter().map(|(_, v)| v.clone()).collect();
    let version = versions[0]
        .clone()
        .unwrap_or_else(|| panic!("services are not answering: {:?}", now.services));
    if let Err(mismatch) = host.rpm_verify() {
        panic!("installed files do not match the RPM database:\n{mismatch}");
    }
    assert!(
        versions
            .iter()
            .all(|v| v.as_deref() == Some(version.as_str())),
        "services disagree: {:?}",
        now.services
    );
    match version.as_str() {
        "4.0.1" => {
            assert_eq!(&now, initial, "the host says 4.0.1 but is not as it was");
        }
        "4.1.1" => {
            assert_runs_release(host, "4.1.1");
            assert_rows(
                host,
                &[
                    ("SELECT COUNT(*) FROM hop_schema_history WHERE success", 7),
                    ("SELECT COUNT(*) FROM hop_schema_history", 7),
                    (
                        "SELECT COUNT(*) FROM deployments WHERE status = 'active'",
                        40,
                    ),
                    ("SELECT COUNT(*) FROM events", 120),
                ],
            );
            status.assert_stdout("manager 4.1.1");
        }
        other => panic!("the host runs {other}, neither 4.0.1 nor 4.1.1"),
    }
    version
}

/// Asserts each query's count.
pub fn assert_rows(host: &Sandbox, expected: &[(&str, i64)]) {
    for (sql, count) in expected {
        assert_eq!(host.query_i64(sql).unwrap(), *count, "{sql}");
    }
}

/// Appends a line to the printed coverage matrix.
pub fn record(matrix: &str, line: &str) {
    use std::io::Write;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("matrices");
    let _ = std::fs::create_dir_all(&dir);
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("{matrix}.txt")))
    {
        let _ = writeln!(f, "{line}");
    }
}

/// Asserts two tree digests are equal, naming the paths that differ.
pub fn assert_same_tree(
    before: &std::collections::BTreeMap<String, String>,
    after: &std::collections::BTreeMap<String, String>,
) {
    let mut differ = Vec::new();
    for (path, digest) in before {
        match after.get(path) {
            None => differ.push(format!("removed {path}")),
            Some(d) if d != digest => differ.push(format!("changed {path}")),
            Some(_) => {}
        }
    }
    for path in after.keys().filter(|p| !before.contains_key(*p)) {
        differ.push(format!("added {path}"));
    }
    assert!(
        differ.is_empty(),
        "the host is not byte-identical: {}",
        differ.join(", ")
    );
}

/// Runs `hop-install ARGS` and asserts it refused (exit 2) saying each of
/// `messages`, and changed nothing on the host: the same services, RPMs
/// and rows, and every file byte-identical.
pub fn assert_refused(host: &Sandbox, args: &[&str], messages: &[&str]) {
    // The lock's holder note of a process that was killed goes when the
    // next verb takes the lock: it describes no one.
    let tree = || {
        let mut t = host.tree_digest();
        t.remove("var/lib/hop/lock.holder");
        t
    };
    let before = (host.snapshot(), tree());
    let run = hop(host, args);
    run.assert_code(2);
    for message in messages {
        run.assert_stderr(message);
    }
    assert_eq!(host.snapshot(), before.0, "a refusal changed the host");
    assert_same_tree(&before.1, &tree());
}

/// `apply` of the 4.0.1 → 4.1.1 package with `HOP_FAULT=fault`.
pub fn apply_with_fault(host: &Sandbox, fault: &str) -> Run {
    hop_env(
        host,
        &["apply", &package("4.0.1", "4.1.1")],
        &[("HOP_FAULT", fault)],
    )
}

/// A fresh sandbox whose `apply` of the 4.0.1 → 4.1.1 package was killed
/// (SIGKILL, as a power cut would) at `point`, such as `deploy_configs.mid`.
pub fn killed_host(name: &str, backend: Backend, point: &str) -> Sandbox {
    let host = sandbox(name, backend);
    let killed = apply_with_fault(&host, &format!("kill@{point}"));
    assert_eq!(
        killed.code, -1,
        "apply was not killed at {point}:\n{}",
        killed.stderr
    );
    host
}

/// Starts `apply` of the 4.0.1 → 4.1.1 package in the background with `fault`.
pub fn spawn_apply(host: &Sandbox, fault: &str) -> std::process::Child {
    spawn_apply_of(host, &package("4.0.1", "4.1.1"), fault)
}

/// Starts `apply PKG` in the background with `fault`.
pub fn spawn_apply_of(host: &Sandbox, pkg: &str, fault: &str) -> std::process::Child {
    host.command(HOP_INSTALL)
        .args(["apply", pkg, "--root"])
        .arg(&host.root)
        .env("HOP_FAULT", fault)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the operation's journal contains `text`.
pub fn wait_for_journal(host: &Sandbox, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ops = host.root.join("var/lib/hop/operations");
        let found = std::fs::read_dir(&ops)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                std::fs::read_to_string(e.path().join("journal.json"))
                    .is_ok_and(|j| j.contains(text))
            });
        if found {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the journal never showed {text:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the journal says `step` started.
pub fn wait_for_step(host: &Sandbox, step: &str) {
    wait_for_journal(
        host,
        &format!("\"step\": \"{step}\",\n      \"status\": \"started\""),
    );
}

pub fn interrupt(child: &std::process::Child) {
    let ok = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

pub fn finish(child: std::process::Child) -> Run {
    Run::from(child.wait_with_output().unwrap())
}

/// Starts `hop-install ARGS --root` on `host` and kills it (SIGKILL) a
/// moment after `ready(pid)` first returns something (within 120 s, the
/// process still running); returns that.
pub fn kill_once_ready<T>(
    host: &Sandbox,
    args: &[&str],
    what: &str,
    mut ready: impl FnMut(u32) -> Option<T>,
) -> T {
    let mut child = host
        .command(HOP_INSTALL)
        .args(args)
        .arg("--root")
        .arg(&host.root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(120);
    let found = loop {
        if let Some(found) = ready(pid) {
            break found;
        }
        assert!(Instant::now() < deadline, "{what} never happened");
        assert!(
            child.try_wait().unwrap().is_none(),
            "hop-install ended before {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    found
}

/// The 4.0.1 → 4.1.1 hop whose offline migration 0012 also rewrites every
/// row of `events` (the rehearsal tests' long migration).
pub fn rewriting_package() -> String {
    variant_with_migration(
        "rehearse-rewrite",
        "0012_rename_events_message.sql",
        "-- hop: phase=offline\n\
         ALTER TABLE events RENAME COLUMN message TO text;\n\
         UPDATE events SET deployment_id = deployment_id + 1, text = UPPER(text);\n",
    )
}

/// The files in the host's downloads directory, sorted.
pub fn downloads(host: &Sandbox) -> Vec<String> {
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
