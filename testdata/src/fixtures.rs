//! Shared, built-once fixtures for tests: a signing key, the demo release
//! tree with its manifests, and the demo packages.
//!
//! Each test process gets one fixture directory under the directory the
//! test names (its `CARGO_TARGET_TMPDIR`); directories of processes that
//! are gone are removed.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use anyhow::{Context, Result, bail};
use hop_builder::{BuildOptions, Signing, build, keygen};

use crate::product;

/// The fixed SOURCE_DATE_EPOCH fixture packages are built with.
pub const SOURCE_DATE_EPOCH: u64 = 1_700_000_000;

/// Where the repository is.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// A key pair on disk.
#[derive(Clone, Debug)]
pub struct KeyPair {
    pub secret: PathBuf,
    pub public: PathBuf,
    pub fingerprint: String,
}

/// This process's fixtures.
pub struct Fixtures {
    dir: PathBuf,
    release: PathBuf,
    keys: Mutex<Vec<(String, KeyPair)>>,
    packages: Mutex<Vec<((String, String), PathBuf)>>,
}

static FIXTURES: OnceLock<Fixtures> = OnceLock::new();

impl Fixtures {
    /// The fixtures of this process, made on first use under `tmp`.
    pub fn get(tmp: &str) -> &'static Fixtures {
        FIXTURES.get_or_init(|| match Fixtures::create(Path::new(tmp)) {
            Ok(f) => f,
            Err(e) => panic!("cannot create test fixtures: {e:#}"),
        })
    }

    fn create(tmp: &Path) -> Result<Self> {
        remove_stale(tmp);
        let dir = tmp.join(format!("fixtures-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        let manifests = dir.join("manifests");
        let release = manifests.join("release");
        product::write_release_tree(&release)?;
        for sub in ["", "rolling"] {
            std::fs::create_dir_all(manifests.join(sub))?;
            for entry in std::fs::read_dir(workspace_root().join("manifests").join(sub))? {
                let entry = entry?;
                if entry.path().extension().is_some_and(|e| e == "yaml") {
                    std::fs::copy(entry.path(), manifests.join(sub).join(entry.file_name()))?;
                }
            }
        }
        Self::write_maintenance_manifests(&manifests.join("rolling"))?;
        Ok(Self {
            dir,
            release,
            keys: Mutex::new(Vec::new()),
            packages: Mutex::new(Vec::new()),
        })
    }

    /// The cluster edition's packages of every hop from 4.0.1 to `to`
    /// (up to 4.7.0, through the maintenance releases), copied into a
    /// directory of their own.
    pub fn rolling_route(&self, name: &str, to: &str) -> Result<PathBuf> {
        let dir = self.scratch(&format!("rolling-route-{name}"))?;
        let versions: Vec<&str> = product::VERSIONS
            .iter()
            .map(|(v, _)| *v)
            .chain(product::MAINTENANCE)
            .collect();
        for pair in versions.windows(2) {
            let p = self.rolling_package(pair[0], pair[1]);
            std::fs::copy(&p, dir.join(p.file_name().context("no file name")?))?;
            if pair[1] == to {
                break;
            }
        }
        Ok(dir)
    }

    /// The fixture directory (scratch space for tests too).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The demo product's release tree.
    pub fn release(&self) -> &Path {
        &self.release
    }

    /// The demo manifest of a hop (a copy beside the release tree).
    pub fn manifest(&self, from: &str, to: &str) -> PathBuf {
        self.dir
            .join("manifests")
            .join(format!("{}-{from}-to-{to}.yaml", product::PRODUCT))
    }

    /// A named key pair, generated once.
    pub fn key(&self, name: &str) -> KeyPair {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, k)) = keys.iter().find(|(n, _)| n == name) {
            return k.clone();
        }
        let files = match keygen(
            &self.dir.join("keys"),
            name,
            &format!("{name} <{name}@example.com>"),
        ) {
            Ok(f) => f,
            Err(e) => panic!("keygen {name}: {e:#}"),
        };
        let pair = KeyPair {
            secret: files.secret,
            public: files.public,
            fingerprint: files.fingerprint,
        };
        keys.push((name.to_owned(), pair.clone()));
        pair
    }

    /// The vendor's key: what demo packages are signed with.
    pub fn vendor_key(&self) -> KeyPair {
        self.key("vendor")
    }

    /// The demo package of a hop, built once with the vendor key.
    pub fn package(&self, from: &str, to: &str) -> PathBuf {
        self.edition_package("", from, to)
    }

    /// The cluster edition's package of a hop (migrations written
    /// expand/contract style: a rolling hop), built once.
    pub fn rolling_package(&self, from: &str, to: &str) -> PathBuf {
        self.edition_package("rolling", from, to)
    }

    fn edition_package(&self, edition: &str, from: &str, to: &str) -> PathBuf {
        let id = (format!("{edition}{from}"), to.to_owned());
        let mut packages = self.packages.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, p)) = packages.iter().find(|(k, _)| *k == id) {
            return p.clone();
        }
        let out = self.dir.join("packages").join(edition);
        let manifest = self
            .dir
            .join("manifests")
            .join(edition)
            .join(format!("{}-{from}-to-{to}.yaml", product::PRODUCT));
        let path = match std::fs::create_dir_all(&out)
            .map_err(anyhow::Error::from)
            .and_then(|()| {
                self.build(
                    &manifest,
                    &self.vendor_key(),
                    &out.join(format!("manager-{from}-to-{to}.hop")),
                )
            }) {
            Ok(p) => p,
            Err(e) => panic!("building the {from} → {to} demo package: {e:#}"),
        };
        packages.push((id, path.clone()));
        path
    }

    /// The cluster edition's manifests of the hops to the maintenance
    /// releases, made from the 4.2.0 → 4.3.0 one (no migration of their own).
    fn write_maintenance_manifests(dir: &Path) -> Result<()> {
        let template = std::fs::read_to_string(dir.join("manager-4.2.0-to-4.3.0.yaml"))?;
        let last = product::last_migration("4.3.0")?;
        let mut from = "4.3.0";
        for to in product::MAINTENANCE {
            let text = template
                .replace("4.3.0", "@TO@")
                .replace("4.2.0", from)
                .replace("@TO@", to)
                .replace(
                    "from_last_migration: 23",
                    &format!("from_last_migration: {last}"),
                );
            std::fs::write(dir.join(format!("manager-{from}-to-{to}.yaml")), text)?;
            from = to;
        }
        Ok(())
    }

    /// Builds `manifest` signed with `key` into `output`.
    pub fn build(&self, manifest: &Path, key: &KeyPair, output: &Path) -> Result<PathBuf> {
        build(&BuildOptions {
            manifest: manifest.to_path_buf(),
            signing: Signing::KeyFile(key.secret.clone()),
            output: output.to_path_buf(),
            source_date_epoch: SOURCE_DATE_EPOCH,
            previous: None,
            schemas: schema_options(&self.dir),
        })?;
        Ok(output.to_path_buf())
    }

    /// A key made by gpg that has been revoked (`revoked`) or has expired
    /// (otherwise); the secret half can still sign.
    pub fn gpg_key(&self, name: &str, revoked: bool) -> Result<KeyPair> {
        let home = self.gpg_home(name)?;
        let gpg = |args: &[&str]| gpg_in(&home, args);
        let uid = format!("{name} <{name}@example.com>");
        if revoked {
            gpg(&["--quick-gen-key", &uid, "ed25519", "sign", "1y"])?;
        } else {
            // Made in 2020, valid for two days.
            gpg(&[
                "--faked-system-time",
                "20200101T000000!",
                "--quick-gen-key",
                &uid,
                "ed25519",
                "sign",
                "2d",
            ])?;
        }
        let secret = home.join(format!("{name}.sec.asc"));
        std::fs::write(&secret, gpg(&["--armor", "--export-secret-keys", &uid])?)?;
        let listing = String::from_utf8(gpg(&["--with-colons", "--list-keys", &uid])?)?;
        let fingerprint = listing
            .lines()
            .find_map(|l| {
                l.strip_prefix("fpr:")
                    .map(|r| r.trim_matches(':').to_owned())
            })
            .context("no fingerprint")?;
        if revoked {
            // gpg leaves a revocation certificate for every key it makes,
            // its armour defused with a leading ':'.
            let cert = home.join("revoke.asc");
            let text = std::fs::read_to_string(
                home.join("openpgp-revocs.d")
                    .join(format!("{fingerprint}.rev")),
            )?
            .replace(
                ":-----BEGIN PGP PUBLIC KEY BLOCK-----",
                "-----BEGIN PGP PUBLIC KEY BLOCK-----",
            );
            std::fs::write(&cert, text)?;
            gpg(&["--import", &cert.display().to_string()])?;
        }
        let public = home.join(format!("{name}.pub.asc"));
        std::fs::write(&public, gpg(&["--armor", "--export", &uid])?)?;
        Ok(KeyPair {
            secret,
            public,
            fingerprint,
        })
    }

    /// A private GnuPG home for one key.
    fn gpg_home(&self, name: &str) -> Result<PathBuf> {
        require_tool("gpg", "gnupg")?;
        let home = self.scratch(&format!("gnupg-{name}"))?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700))?;
        Ok(home)
    }

    /// A signature over `data` by a signing subkey that has expired (made
    /// in 2020, valid for two days, by a primary key valid for ten years),
    /// with the public key: (public key, armoured signature).
    pub fn expired_subkey_signature(&self, data: &[u8]) -> Result<(String, String)> {
        let home = self.gpg_home("expired-subkey")?;
        let gpg = |args: &[&str]| gpg_in(&home, args);
        let uid = "expired-subkey <expired-subkey@example.com>";
        let in_2020 = ["--faked-system-time", "20200101T000000!"];
        gpg(&[
            &in_2020[..],
            &["--quick-gen-key", uid, "ed25519", "cert", "10y"],
        ]
        .concat())?;
        let listing = String::from_utf8(gpg(&["--with-colons", "--list-keys", uid])?)?;
        let primary = listing
            .lines()
            .find_map(|l| {
                l.strip_prefix("fpr:")
                    .map(|r| r.trim_matches(':').to_owned())
            })
            .context("no fingerprint")?;
        gpg(&[
            &in_2020[..],
            &["--quick-add-key", &primary, "ed25519", "sign", "2d"],
        ]
        .concat())?;
        let listing = String::from_utf8(gpg(&["--with-colons", "--list-keys", uid])?)?;
        let subkey = listing
            .lines()
            .filter_map(|l| {
                l.strip_prefix("fpr:")
                    .map(|r| r.trim_matches(':').to_owned())
            })
            .nth(1)
            .context("no subkey")?;
        let file = home.join("data");
        std::fs::write(&file, data)?;
        let signature = gpg(&[
            "--faked-system-time",
            "20200101T120000!",
            "--armor",
            "--digest-algo",
            "SHA256",
            "--local-user",
            &format!("{subkey}!"),
            "--output",
            "-",
            "--detach-sign",
            &file.display().to_string(),
        ])?;
        let public = gpg(&["--armor", "--export", uid])?;
        Ok((String::from_utf8(public)?, String::from_utf8(signature)?))
    }

    /// A fresh scratch directory for one test.
    pub fn scratch(&self, name: &str) -> Result<PathBuf> {
        let dir = self.dir.join("scratch").join(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }
}

/// Expected schemas made on this machine's PostgreSQL and MariaDB, cached
/// beside the fixture directories (shared by every test process).
pub fn schema_options(fixtures: &Path) -> hop_builder::SchemaOptions {
    hop_builder::SchemaOptions {
        servers: vec![
            crate::db::server_url(hop_artifact::migration::Backend::Postgresql, "postgres"),
            crate::db::server_url(hop_artifact::migration::Backend::Mariadb, "mysql"),
        ],
        cache: fixtures.parent().map(|p| p.join("schema-cache")),
    }
}

/// Runs gpg non-interactively in `home`.
fn gpg_in(home: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let out = std::process::Command::new("gpg")
        .env("GNUPGHOME", home)
        .args([
            "--batch",
            "--yes",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
        ])
        .args(args)
        .output()?;
    if !out.status.success() {
        bail!("gpg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(out.stdout)
}

/// Removes fixture directories of test processes that have exited.
fn remove_stale(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("fixtures-")
            && !Path::new("/proc").join(pid).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Fails with how to get it when a tool a test needs is not installed.
pub fn require_tool(tool: &str, debian_package: &str) -> Result<()> {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|p| p.join(tool).is_file()))
        .unwrap_or(false);
    if !found {
        bail!(
            "this test needs `{tool}`, which is not installed: run `make deps` \
             (or `apt-get install {debian_package}`) and run the tests again"
        );
    }
    Ok(())
}

/// Runs a command and returns (exit code, stdout, stderr).
pub fn run(program: &str, args: &[&str]) -> Result<(i32, String, String)> {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("cannot run {program}"))?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// Runs `command` and returns its output, panicking with its stderr when it
/// fails: for tests, where a failed set-up step is the test's failure.
pub fn run_ok(command: &mut std::process::Command) -> std::process::Output {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
