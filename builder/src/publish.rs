//! `hop-build publish`: a `.hop` wrapped in a noarch RPM named
//! `<product>-hop-<from>-to-<to>` that installs the package under
//! `/var/lib/hop/packages/`, signed with the same OpenPGP key, and added
//! to a yum repository directory with `createrepo_c`; so a customer who
//! installs software only through dnf runs `dnf install
//! manager-hop-4.0.1-to-4.1.1` and then `hop-install upgrade --to 4.1.1`.
//!
//! `hop-build index`: `hop-index.json` for a directory of packages served
//! over HTTPS, which `hop-install upgrade --from-repo` reads to find a
//! route (an S3 bucket is listed by its API and needs none).

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use hop_artifact::PackageManifest;
use hop_artifact::reader::PackageReader;
use hop_artifact::signature::claimed_issuer;
use serde::Serialize;

use crate::Refused;
use crate::sign::{Ready, Signing};

/// Where the RPM puts packages (and `hop-install upgrade` looks by default).
pub const PACKAGES_DIR: &str = "/var/lib/hop/packages";

/// What `publish` made.
#[derive(Debug, Serialize)]
pub struct Published {
    /// The RPM's name (what `dnf install` takes).
    pub name: String,
    /// The RPM file in the repository.
    pub rpm: PathBuf,
    /// Where the package lands on the host.
    pub installs: String,
}

/// Reads a package's head and checks every member's digest, refusing a
/// damaged package.
fn read_package(package: &Path) -> Result<(PackageManifest, Vec<u8>)> {
    let open = || File::open(package).with_context(|| format!("cannot open {}", package.display()));
    let reader = PackageReader::open_untrusted(open()?).map_err(|e| {
        Refused::new(format!(
            "{} is not a usable package: {e}",
            package.display()
        ))
    })?;
    let signature = reader.signature_bytes().to_vec();
    let verified = reader
        .verify()
        .map_err(|e| Refused::new(format!("{} is damaged: {e}", package.display())))?;
    Ok((verified.manifest, signature))
}

/// Wraps `package` in a signed RPM in the yum repository `repo` and
/// refreshes the repository's metadata.
pub fn publish(package: &Path, signing: &Signing, repo: &Path, epoch: u64) -> Result<Published> {
    let Ready::Key(key) = signing.prepare()? else {
        return Err(Refused::new("publish signs the RPM with --key (a secret key file)").into());
    };
    let (m, signature) = read_package(package)?;
    let issuer = claimed_issuer(&signature).unwrap_or_default();
    if issuer.is_empty() || !key.fingerprint().ends_with(&issuer) {
        return Err(Refused::new(format!(
            "{} is signed by {}, not by the --key {}: publish it with the key that built it",
            package.display(),
            if issuer.is_empty() { "no key" } else { &issuer },
            key.fingerprint()
        ))
        .into());
    }
    let name = rpm_name(&m);
    let file = format!("{}-{}-to-{}.hop", m.product, m.from, m.to);
    let installs = format!("{PACKAGES_DIR}/{file}");
    let summary = format!("hop upgrade package {} {} → {}", m.product, m.from, m.to);
    let mut builder =
        rpm::PackageBuilder::new(&name, &m.to.to_string(), "Proprietary", "noarch", &summary);
    builder
        .using_config(
            rpm::BuildConfig::default().source_date(u32::try_from(epoch).unwrap_or(u32::MAX)),
        )
        .release(m.release.to_string())
        .description(format!(
            "{summary}.\nInstalls {installs}; then run `hop-install upgrade --to {}`.",
            m.to
        ))
        .vendor("hop")
        .with_dir_entry(rpm::FileOptions::dir("/var/lib/hop").permissions(0o700))?
        .with_dir_entry(rpm::FileOptions::dir(PACKAGES_DIR).permissions(0o755))?
        .with_file(package, rpm::FileOptions::new(&installs).permissions(0o644))
        .with_context(|| format!("cannot add {}", package.display()))?;
    let built = builder
        .build_and_sign(key.rpm_signer())
        .with_context(|| format!("cannot build and sign {name}"))?;
    std::fs::create_dir_all(repo).with_context(|| format!("cannot create {}", repo.display()))?;
    let rpm = repo.join(format!("{name}-{}-{}.noarch.rpm", m.to, m.release));
    let mut bytes = Vec::new();
    built.write(&mut bytes)?;
    match std::fs::read(&rpm) {
        Ok(old) if old == bytes => {}
        Ok(_) => {
            return Err(Refused::new(format!(
                "{} is already published with other contents; a published package is never \
                 replaced (build the hop again with `release: {}` in its manifest)",
                rpm.display(),
                m.release + 1
            ))
            .into());
        }
        Err(_) => write_new(&rpm, &bytes)?,
    }
    createrepo(repo)?;
    Ok(Published {
        name,
        rpm,
        installs,
    })
}

/// The RPM's name: `<product>-hop-<from>-to-<to>`. An RPM name may not
/// hold `~` or `^`, which versions may (`4.1.1~rc1` sorts before
/// `4.1.1`, `4.1.1^post1` after), so in the name they read `_` and `+`;
/// the RPM's version keeps `to` exactly.
pub fn rpm_name(m: &PackageManifest) -> String {
    let plain = |v: String| v.replace('~', "_").replace('^', "+");
    format!(
        "{}-hop-{}-to-{}",
        m.product,
        plain(m.from.to_string()),
        plain(m.to.to_string())
    )
}

/// Writes `bytes` to the new file `path` (never over another).
fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    out.write_all(bytes)?;
    out.sync_all()?;
    Ok(())
}

/// Runs `createrepo_c` on `repo` (updating existing metadata).
fn createrepo(repo: &Path) -> Result<()> {
    let mut args = vec!["--quiet".to_owned()];
    if repo.join("repodata").exists() {
        args.push("--update".into());
    }
    args.push(repo.display().to_string());
    duct::cmd("createrepo_c", &args)
        .stderr_to_stdout()
        .stdout_capture()
        .unchecked()
        .run()
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot run createrepo_c ({e}): install it (Debian: apt-get install createrepo-c; \
                 RHEL: dnf install createrepo_c)"
            )
        })
        .and_then(|out| {
            if out.status.success() {
                Ok(())
            } else {
                Err(anyhow::anyhow!(
                    "createrepo_c {} failed: {}",
                    repo.display(),
                    String::from_utf8_lossy(&out.stdout).trim()
                ))
            }
        })
}

/// One package in `hop-index.json`.
#[derive(Debug, Serialize)]
pub struct IndexEntry {
    /// The file, in the same directory.
    pub file: String,
    /// Its product and versions (each package's signed head says so too).
    pub product: String,
    /// The version it upgrades from.
    pub from: String,
    /// The version it upgrades to.
    pub to: String,
    /// Its size in bytes.
    pub size: u64,
}

/// `hop-index.json`.
#[derive(Debug, Serialize)]
pub struct Index {
    /// `hop.index/1`.
    pub format: &'static str,
    /// The packages, by file name.
    pub packages: Vec<IndexEntry>,
}

/// Writes `DIR/hop-index.json` listing the intact packages in `dir`.
pub fn index(dir: &Path) -> Result<Index> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "hop"))
        .collect();
    files.sort();
    let mut packages = Vec::new();
    for path in &files {
        let (m, _) = read_package(path)?;
        packages.push(IndexEntry {
            file: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            product: m.product.clone(),
            from: m.from.to_string(),
            to: m.to.to_string(),
            size: std::fs::metadata(path)?.len(),
        });
    }
    let index = Index {
        format: "hop.index/1",
        packages,
    };
    let target = dir.join("hop-index.json");
    let temp = dir.join(".hop-index.json.tmp");
    let _ = std::fs::remove_file(&temp);
    write_new(&temp, &serde_json::to_vec_pretty(&index)?)?;
    std::fs::rename(&temp, &target)
        .with_context(|| format!("cannot write {}", target.display()))?;
    Ok(index)
}
