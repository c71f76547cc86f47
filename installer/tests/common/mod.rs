//! What the installer's end-to-end tests share: fixtures, sandbox hosts,
//! running hop-install inside them, and variant packages.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use hop_artifact::migration::Backend;
use hop_testdata::fixtures::{Fixtures, KeyPair};
use hop_testdata::sandbox::{Sandbox, SandboxOptions};

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
        _ => SandboxOptions::sqlite(),
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

/// The result of running hop-install.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn assert_stderr(&self, text: &str) -> &Self {
        assert!(
            self.stderr.contains(text),
            "{text:?} not in stderr:\n{}",
            self.stderr
        );
        self
    }

    pub fn assert_stdout(&self, text: &str) -> &Self {
        assert!(
            self.stdout.contains(text),
            "{text:?} not in stdout:\n{}",
            self.stdout
        );
        self
    }
}

fn run_of(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `hop-install ARGS --root <sandbox>`, inside its namespace.
pub fn hop(sandbox: &Sandbox, args: &[&str]) -> Run {
    run_of(sandbox.hop_install(HOP_INSTALL, args, &[]))
}

/// The same with extra environment (HOP_FAULT).
pub fn hop_env(sandbox: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Run {
    run_of(sandbox.hop_install(HOP_INSTALL, args, env))
}

/// A directory holding the given packages (copied), as support staff
/// would hand them over.
pub fn packages_dir(name: &str, packages: &[String]) -> String {
    let dir = fixtures().scratch(&format!("packages-{name}")).unwrap();
    for p in packages {
        let p = PathBuf::from(p);
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    dir.display().to_string()
}

pub fn package(from: &str, to: &str) -> String {
    fixtures().package(from, to).display().to_string()
}

/// A package built from a variant of the 4.0.1 → 4.1.1 manifest: `edit`
/// rewrites the manifest text; `prepare` may write files into the variant's
/// own directory (passed to it) that the edited manifest names.
pub fn variant(
    name: &str,
    prepare: impl FnOnce(&Path),
    edit: impl FnOnce(String) -> String,
) -> String {
    variant_of(
        name,
        ("4.0.1", "4.1.1"),
        prepare,
        edit,
        &fixtures().vendor_key(),
    )
}

pub fn variant_of(
    name: &str,
    (from, to): (&str, &str),
    prepare: impl FnOnce(&Path),
    edit: impl FnOnce(String) -> String,
    key: &KeyPair,
) -> String {
    let f = fixtures();
    let dir = f.scratch(&format!("variant-{name}")).unwrap();
    prepare(&dir);
    let text = std::fs::read_to_string(f.manifest(from, to)).unwrap();
    let manifest = f
        .dir()
        .join("manifests")
        .join(format!("variant-{name}.yaml"));
    std::fs::write(&manifest, edit(text)).unwrap();
    let out = dir.join(format!("{name}.hop"));
    f.build(&manifest, key, &out)
        .unwrap_or_else(|e| panic!("building variant {name}: {e:#}"));
    out.display().to_string()
}

/// Replaces `from` with `to` in `text`, which must contain it.
pub fn replace(text: String, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} not in the manifest");
    text.replacen(from, to, 1)
}

/// The 4.0.1 → 4.1.1 package with one migration, `file`, rewritten to
/// `sql`; the other migrations stay as released.
pub fn variant_with_migration(name: &str, file: &str, sql: &str) -> String {
    let migrations = fixtures()
        .dir()
        .join(format!("scratch/variant-{name}/migrations"));
    variant(
        name,
        |dir| {
            let migrations = dir.join("migrations");
            hop_testdata::product::write_migrations("4.1.1", &migrations).unwrap();
            std::fs::write(migrations.join(file), sql).unwrap();
            // A portable file that changed must not be shadowed by an old variant.
            let _ = std::fs::remove_file(migrations.join("postgresql").join(file));
            let _ = std::fs::remove_file(migrations.join("mariadb").join(file));
        },
        |m| {
            replace(
                m,
                "migrations: release/4.1.1/migrations/",
                &format!("migrations: {}", migrations.display()),
            )
        },
    )
}

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
            let history = |sql: &str| host.query_i64(sql).unwrap();
            assert_eq!(
                history("SELECT COUNT(*) FROM hop_schema_history WHERE success"),
                7
            );
            assert_eq!(history("SELECT COUNT(*) FROM hop_schema_history"), 7);
            assert_eq!(
                history("SELECT COUNT(*) FROM deployments WHERE status = 'active'"),
                40
            );
            assert_eq!(history("SELECT COUNT(*) FROM events"), 120);
            status.assert_stdout("manager 4.1.1");
        }
        other => panic!("the host runs {other}, neither 4.0.1 nor 4.1.1"),
    }
    version
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
    run_of(child.wait_with_output().unwrap())
}
