//! Signing `hop.yaml`: with a secret key file, or through `gpg` so the key
//! can stay in the company keyring, an agent or a smartcard.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use hop_artifact::signature::{SigningKey, canonical_armor};

/// Environment variable holding the passphrase of a `--key` file.
pub const PASSPHRASE_ENV: &str = "HOP_KEY_PASSPHRASE";

/// How `build` signs.
pub enum Signing {
    /// An armoured secret key file (`hop-build keygen` writes one).
    KeyFile(PathBuf),
    /// A key `gpg` holds, by key id, fingerprint or user id.
    Gpg(String),
}

/// A signer ready to sign.
pub enum Ready {
    /// A secret key, loaded.
    Key(Box<SigningKey>),
    /// A key gpg holds.
    Gpg(String),
}

impl Signing {
    /// Loads the key (or checks that gpg has it) before anything slow runs.
    pub fn prepare(&self) -> Result<Ready> {
        match self {
            Signing::KeyFile(path) => {
                // A key that cannot be read or used is bad input (exit 2).
                let text = std::fs::read_to_string(path).map_err(|e| {
                    crate::Refused::new(format!("--key {}: cannot read it: {e}", path.display()))
                })?;
                let passphrase = std::env::var(PASSPHRASE_ENV).ok();
                let key = SigningKey::from_armored(&text, passphrase).map_err(|e| {
                    crate::Refused::new(format!(
                        "--key {}: not a usable secret key: {e:#} (give the NAME.sec.asc that \
                         `hop-build keygen` wrote, with its passphrase in {PASSPHRASE_ENV}; hosts \
                         get the public NAME.pub.asc)",
                        path.display()
                    ))
                })?;
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                key.check_usable(now).map_err(|e| {
                    use hop_artifact::signature::SignatureError;
                    let why = match e {
                        SignatureError::Expired { expired, .. } => {
                            format!("the key expired at {expired} (unix time)")
                        }
                        SignatureError::Revoked { .. } => "the key is revoked".to_owned(),
                        other => other.to_string(),
                    };
                    crate::Refused::new(format!(
                        "--key {}: {why}: no host accepts what it signs (gpg itself refuses \
                         to sign with it); sign with a current key, or extend this one's expiry",
                        path.display()
                    ))
                })?;
                warn_if_others_may_read(path);
                Ok(Ready::Key(Box::new(key)))
            }
            Signing::Gpg(id) => {
                gpg(&["--list-secret-keys", "--with-colons", id], &[]).map_err(|e| {
                    crate::Refused::new(format!(
                        "--gpg-key {id:?}: gpg has no such secret key: {e:#}"
                    ))
                })?;
                Ok(Ready::Gpg(id.clone()))
            }
        }
    }
}

impl Ready {
    /// An armoured detached signature over `data`.
    pub fn sign(&self, data: &[u8], source_date_epoch: u64) -> Result<String> {
        match self {
            Ready::Key(key) => Ok(key.sign(data, source_date_epoch)?),
            Ready::Gpg(id) => {
                let args = [
                    "--yes",
                    "--armor",
                    "--detach-sign",
                    "--digest-algo",
                    "SHA256",
                    "--local-user",
                    id,
                    "--output",
                    "-",
                ];
                let signature = gpg(&args, data).context("gpg could not sign")?;
                Ok(canonical_armor(&signature).context("gpg wrote an unreadable signature")?)
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Ready::Key(key) => format!("key {}", key.fingerprint()),
            Ready::Gpg(id) => format!("gpg key {id}"),
        }
    }
}

/// A secret key file others may read is a secret no longer: say so (the
/// build goes on: a vendor may mean it, on a machine of their own).
fn warn_if_others_may_read(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        eprintln!(
            "hop-build: warning: the secret key {} may be read by others (mode {:o}): chmod 600 it",
            path.display(),
            meta.permissions().mode() & 0o777
        );
    }
}

/// Runs `gpg --batch ARGS` with `input` on its standard input; its
/// standard output, or an error quoting what it said.
fn gpg(args: &[&str], input: &[u8]) -> Result<Vec<u8>> {
    let out = duct::cmd(
        "gpg",
        std::iter::once("--batch").chain(args.iter().copied()),
    )
    .stdin_bytes(input.to_vec())
    .stdout_capture()
    .stderr_capture()
    .unchecked()
    .run()
    .context("cannot run gpg (is gnupg installed?)")?;
    if !out.status.success() {
        bail!("{}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(out.stdout)
}
