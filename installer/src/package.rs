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
    let file = File::open(path).map_err(|e| unreadable(path, &e).refusal())?;
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

/// Why a payload could not be extracted: the package, or this host.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The package is not what its signature says (refuse it).
    #[error("{0}")]
    Package(String),
    /// The host could not take it (a full disk, an unwritable directory):
    /// the package may be fine.
    #[error("{0}")]
    Local(String),
    /// The package file could not be opened (a wrong path, no permission).
    #[error("{0}")]
    Unreadable(String),
}

impl ExtractError {
    /// The refusal to show, with the hint that fits.
    pub fn refusal(&self) -> Refusal {
        match self {
            ExtractError::Package(e) => Refusal::new(e.clone())
                .with_hint("do not install it; fetch the package again from the vendor"),
            ExtractError::Local(e) => Refusal::new(e.clone()).with_hint(
                "nothing on the host changed; free space there and run the command again",
            ),
            ExtractError::Unreadable(e) => Refusal::new(e.clone())
                .with_hint("nothing on the host changed; give the path of a .hop package"),
        }
    }
}

/// A package file that cannot be opened: the path given is wrong, or
/// hop may not read it.
fn unreadable(path: &Path, e: &std::io::Error) -> ExtractError {
    ExtractError::Unreadable(format!("cannot open {}: {e}", path.display()))
}

/// How much room beyond the payload extraction leaves for the journal,
/// logs and metadata.
const SPACE_MARGIN: u64 = 4 << 20;

/// Whether `dir`'s file system has room for `bytes` more (and the
/// margin); why not.
pub fn check_room(dir: &Path, bytes: u64, what: &str) -> Result<(), String> {
    let Ok(fs) = nix::sys::statvfs::statvfs(dir) else {
        return Ok(()); // Unmeasurable: the writes will say.
    };
    let free = fs.blocks_available() * fs.fragment_size();
    let needed = bytes.saturating_add(SPACE_MARGIN);
    if free < needed {
        let mib = |b: u64| b as f64 / (1 << 20) as f64;
        return Err(format!(
            "not enough space for {what} in {}: {:.1} MiB needed, {:.1} MiB free",
            dir.display(),
            mib(needed),
            mib(free)
        ));
    }
    Ok(())
}

/// Extracts the payload of `path` into `dest` (mode 0700, files 0600,
/// scripts 0700) while verifying it; `after_first` runs once the first
/// member is written (a fault-injection point). The room it needs is
/// checked first, from the signed head.
pub fn extract(
    path: &Path,
    trusted: &TrustedKeys,
    dest: &Path,
    after_first: &mut dyn FnMut() -> Result<(), String>,
) -> Result<Verified, ExtractError> {
    let local = |e: String| ExtractError::Local(e);
    let refused = |e: String| ExtractError::Package(format!("{} is refused: {e}", path.display()));
    let file = File::open(path).map_err(|e| unreadable(path, &e))?;
    if dest.exists() {
        std::fs::remove_dir_all(dest)
            .map_err(|e| local(format!("cannot clear {}: {e}", dest.display())))?;
    }
    crate::atomic::private_dir(dest).map_err(|e| local(format!("{}: {e}", dest.display())))?;
    let reader = PackageReader::open(file, trusted).map_err(|e| refused(e.to_string()))?;
    let manifest_bytes = reader.manifest_bytes().to_vec();
    let total = reader.manifest().members.iter().map(|m| m.size).sum();
    check_room(dest, total, "the package's payload").map_err(local)?;
    let bar = hop_artifact::progress::bytes(total, "staging");
    let mut written = 0;
    // Errors of this host's writes, told apart from the package's.
    let mut write_error: Option<String> = None;
    let verified = reader.for_each_member(|member, data| {
        // Member paths were checked against `..`, absolute paths and odd
        // characters before we get here; the staging dir is fresh.
        let target = dest.join(&member.path);
        let mode = if member.path.starts_with("scripts/") {
            0o700
        } else {
            0o600
        };
        let wrote = (|| -> std::io::Result<()> {
            if let Some(parent) = target.parent() {
                crate::atomic::private_dir(parent)?;
            }
            let mut out = crate::atomic::create_new(&target, mode)?;
            bar.inc(copy_checked(data, &mut out, &mut write_error)?);
            out.flush()
        })();
        if let Err(e) = wrote {
            write_error.get_or_insert_with(|| format!("cannot write {}: {e}", target.display()));
            return Err(e);
        }
        written += 1;
        if written == 1 {
            after_first().map_err(std::io::Error::other)?;
        }
        Ok(())
    });
    bar.finish_and_clear();
    let verified = match (verified, write_error) {
        (Ok(v), _) => v,
        (Err(_), Some(e)) => return Err(local(e)),
        (Err(e), None) => return Err(refused(e.to_string())),
    };
    Ok(Verified {
        path: path.to_path_buf(),
        manifest: verified.manifest,
        manifest_bytes,
        signer: verified
            .signer
            .ok_or_else(|| refused("it carries no trusted signature".into()))?,
        bytes: verified.bytes,
    })
}

/// Copies a member into its file, noting a failed write as this host's.
fn copy_checked(
    data: &mut dyn std::io::Read,
    out: &mut File,
    write_error: &mut Option<String>,
) -> std::io::Result<u64> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0;
    loop {
        let n = data.read(&mut buf)?;
        if n == 0 {
            return Ok(total);
        }
        if let Err(e) = out.write_all(&buf[..n]) {
            write_error.get_or_insert_with(|| e.to_string());
            return Err(e);
        }
        total += n as u64;
    }
}

/// Extracts a package into a scratch directory under the state directory
/// for the preflight, removing scratch directories of processes that died.
pub fn extract_for_check(
    host: &crate::host::Host,
    path: &Path,
    trusted: &TrustedKeys,
) -> Result<(Verified, Scratch), Refusal> {
    let sd = host.state();
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
    let dir = sd.check_scratch(std::process::id());
    crate::atomic::new_private_dir(&dir)
        .map_err(|e| Refusal::new(format!("cannot create {}: {e}", dir.display())))?;
    let scratch = Scratch(dir.clone());
    let verified = extract(path, trusted, &dir, &mut || Ok(())).map_err(|e| e.refusal())?;
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
