//! A package as the installer uses it: verified against the host's trusted
//! keys, then staged (extracted while verified again, so a file swapped
//! after `check` is still caught) into the operation's directory.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use hop_artifact::PackageManifest;
use hop_artifact::migration::Backend;
use hop_artifact::reader::PackageReader;
use hop_artifact::signature::{Signer, TrustedKeys};
use hop_artifact::yaml;
use hop_migrate::Script;

use crate::error::Refusal;

/// A package whose signature and every byte have been checked.
#[derive(Clone, Debug)]
pub struct Verified {
    pub path: PathBuf,
    pub manifest: PackageManifest,
    /// The exact signed `hop.yaml`.
    pub manifest_bytes: Vec<u8>,
    pub signer: Signer,
    /// The package's size in bytes, all of it read.
    pub bytes: u64,
}

/// Opens and fully verifies `path` against `trusted`.
pub fn verify(path: &Path, trusted: &TrustedKeys) -> Result<Verified, Refusal> {
    let refuse = |e: String| {
        Refusal::new(format!("{} is refused: {e}", path.display()))
            .with_hint("do not install it; fetch the package again from the vendor")
    };
    let file = File::open(path).map_err(|e| refuse(format!("cannot open it: {e}")))?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let reader = PackageReader::open(file, trusted).map_err(|e| refuse(e.to_string()))?;
    let manifest_bytes = reader.manifest_bytes().to_vec();
    let verified =
        hop_artifact::progress::verify(reader, total).map_err(|e| refuse(e.to_string()))?;
    let signer = verified
        .signer
        .ok_or_else(|| refuse("it carries no trusted signature".into()))?;
    Ok(Verified {
        path: path.to_path_buf(),
        manifest: verified.manifest,
        manifest_bytes,
        signer,
        bytes: verified.bytes,
    })
}

/// Extracts the payload of `path` into `dest` (mode 0700, files 0600,
/// scripts 0700) while verifying it; `after_first` runs once the first
/// member is written (a fault-injection point).
pub fn extract(
    path: &Path,
    trusted: &TrustedKeys,
    dest: &Path,
    after_first: &mut dyn FnMut() -> Result<(), String>,
) -> Result<Verified> {
    if dest.exists() {
        std::fs::remove_dir_all(dest)
            .with_context(|| format!("cannot clear {}", dest.display()))?;
    }
    crate::atomic::private_dir(dest)?;
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let reader = PackageReader::open(file, trusted)
        .with_context(|| format!("{} is refused", path.display()))?;
    let manifest_bytes = reader.manifest_bytes().to_vec();
    let total = reader.manifest().members.iter().map(|m| m.size).sum();
    let bar = hop_artifact::progress::bytes(total, "staging");
    let mut written = 0;
    let verified = reader
        .for_each_member(|member, data| {
            // Member paths were checked against `..`, absolute paths and odd
            // characters before we get here; the staging dir is fresh.
            let target = dest.join(&member.path);
            if let Some(parent) = target.parent() {
                crate::atomic::private_dir(parent)?;
            }
            let mode = if member.path.starts_with("scripts/") {
                0o700
            } else {
                0o600
            };
            let mut out = crate::atomic::create_new(&target, mode)?;
            bar.inc(std::io::copy(data, &mut out)?);
            out.flush()?;
            written += 1;
            if written == 1 {
                after_first().map_err(std::io::Error::other)?;
            }
            Ok(())
        })
        .with_context(|| format!("{} is refused", path.display()))?;
    bar.finish_and_clear();
    Ok(Verified {
        path: path.to_path_buf(),
        manifest: verified.manifest,
        manifest_bytes,
        signer: verified.signer.context("no signer")?,
        bytes: verified.bytes,
    })
}

/// Extracts a package into a scratch directory under the state directory
/// for the preflight, removing scratch directories of processes that died.
pub fn extract_for_check(
    host: &crate::host::Host,
    path: &Path,
    trusted: &TrustedKeys,
) -> Result<(Verified, Scratch), Refusal> {
    let sd = crate::state::StateDir::of(host);
    sd.ensure().map_err(|e| Refusal::new(format!("{e:#}")))?;
    if let Ok(entries) = std::fs::read_dir(&sd.dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("check-")
                && !Path::new("/proc").join(pid).exists()
            {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let dir = sd.dir.join(format!("check-{}", std::process::id()));
    crate::atomic::new_private_dir(&dir)
        .map_err(|e| Refusal::new(format!("cannot create {}: {e}", dir.display())))?;
    let scratch = Scratch(dir.clone());
    let verified = extract(path, trusted, &dir, &mut || Ok(())).map_err(|e| {
        Refusal::new(format!("{e:#}"))
            .with_hint("do not install it; fetch the package again from the vendor")
    })?;
    Ok((verified, scratch))
}

/// A directory removed when dropped.
pub struct Scratch(pub PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Reads the `hop.yaml` an operation keeps (verified when it was staged).
pub fn load_manifest(path: &Path) -> Result<PackageManifest> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    yaml::from_str(&text).with_context(|| format!("{} is damaged", path.display()))
}

/// The migrations of `manifest` as they apply on `backend`, read from a
/// directory that holds the payload (`staging/` or `installed/`).
pub fn scripts(
    manifest: &PackageManifest,
    payload: &Path,
    backend: Backend,
) -> Result<Vec<Script>> {
    manifest
        .migrations_for(backend)
        .map(|(m, file)| {
            let text = std::fs::read_to_string(payload.join(file))
                .with_context(|| format!("cannot read {file}"))?;
            Script::parse(&m.file_name(), &text).map_err(|e| anyhow::anyhow!("{e}"))
        })
        .collect()
}
