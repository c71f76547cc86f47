//! `hop-build keygen`: a new package-signing key pair.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use hop_artifact::signature::{KeyAlgorithm, generate_key_with};

use crate::Refused;

/// The key pair `keygen` wrote.
pub struct KeyFiles {
    /// `NAME.sec.asc`, mode 0600.
    pub secret: PathBuf,
    /// `NAME.pub.asc`, for hosts to trust.
    pub public: PathBuf,
    /// The primary key's fingerprint.
    pub fingerprint: String,
}

/// Writes `NAME.sec.asc` (mode 0600) and `NAME.pub.asc` into `out_dir`,
/// refusing to overwrite an existing key.
pub fn keygen(out_dir: &Path, name: &str, user_id: &str) -> Result<KeyFiles> {
    keygen_with(out_dir, name, user_id, KeyAlgorithm::Ed25519)
}

/// [`keygen`] of a key of `algorithm`.
pub fn keygen_with(
    out_dir: &Path,
    name: &str,
    user_id: &str,
    algorithm: KeyAlgorithm,
) -> Result<KeyFiles> {
    if name.is_empty() || name.contains('/') {
        return Err(Refused::new(format!("{name:?} is not a file name")).into());
    }
    let secret = out_dir.join(format!("{name}.sec.asc"));
    let public = out_dir.join(format!("{name}.pub.asc"));
    for path in [&secret, &public] {
        if path.exists() {
            return Err(Refused::new(format!(
                "{} already exists; keygen never overwrites a key (choose another --name or remove it)",
                path.display()
            ))
            .into());
        }
    }
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let key = generate_key_with(user_id, algorithm)?;
    write_new(&secret, key.secret.as_bytes(), 0o600)?;
    write_new(&public, key.public.as_bytes(), 0o644)?;
    Ok(KeyFiles {
        secret,
        public,
        fingerprint: key.fingerprint,
    })
}

fn write_new(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(data)?;
    file.sync_all()?;
    Ok(())
}
