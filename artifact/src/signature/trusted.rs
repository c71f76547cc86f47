//! The keys a host trusts, and checking a signature against them.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey};
use pgp::packet::SignatureType;
use pgp::types::KeyDetails;

use super::SignatureError;
use super::key_checks::{
    check_digest, check_primary_signs, check_primary_usable, check_subkey_signs,
    check_subkey_usable,
};

/// Who signed a package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signer {
    /// Fingerprint of the primary key, upper-case hex.
    pub fingerprint: String,
    /// The key's first user id, when it has one.
    pub user_id: Option<String>,
    /// Where the trusted key came from.
    pub key_source: String,
    /// The signature's creation time.
    pub signed_at: u64,
}

/// The public keys a verifier trusts.
#[derive(Default)]
pub struct TrustedKeys {
    keys: Vec<(SignedPublicKey, String)>,
}

impl TrustedKeys {
    /// Adds every key in an armoured text (a key or a keyring).
    pub fn add_armored(&mut self, text: &str, source_name: &str) -> Result<(), SignatureError> {
        let bad = |reason: String| SignatureError::BadKey {
            source_name: source_name.to_owned(),
            reason,
        };
        let (keys, _) = SignedPublicKey::from_string_many(text).map_err(|e| bad(e.to_string()))?;
        let mut added = 0;
        for key in keys {
            let key = key.map_err(|e| bad(e.to_string()))?;
            key.verify_bindings().map_err(|e| bad(e.to_string()))?;
            self.keys.push((key, source_name.to_owned()));
            added += 1;
        }
        if added == 0 {
            return Err(bad("no public key in it".into()));
        }
        Ok(())
    }

    /// Loads public keys from files.
    pub fn from_files(paths: &[PathBuf]) -> Result<Self, SignatureError> {
        let mut keys = Self::default();
        for path in paths {
            let text = std::fs::read_to_string(path).map_err(|e| SignatureError::BadKey {
                source_name: path.display().to_string(),
                reason: e.to_string(),
            })?;
            keys.add_armored(&text, &path.display().to_string())?;
        }
        Ok(keys)
    }

    /// Loads every `*.asc` in a directory.
    pub fn from_dir(dir: &Path) -> Result<Self, SignatureError> {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            SignatureError::NoTrustedKeys(format!("cannot read {}: {e}", dir.display()))
        })?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "asc") && p.is_file())
            .collect();
        paths.sort();
        if paths.is_empty() {
            return Err(SignatureError::NoTrustedKeys(format!(
                "{} holds no *.asc public key",
                dir.display()
            )));
        }
        Self::from_files(&paths)
    }

    /// Whether no key is trusted.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Fingerprints of the trusted primary keys.
    pub fn fingerprints(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|(k, _)| k.fingerprint().to_string().to_uppercase())
            .collect()
    }

    /// Checks `signature` (armoured or binary) over `data`: made by a
    /// trusted, unrevoked, unexpired key, and matching the data.
    pub fn verify(
        &self,
        data: &[u8],
        signature: &[u8],
        now: SystemTime,
    ) -> Result<Signer, SignatureError> {
        let sig = parse_signature(signature)?;
        if sig.signature.typ() != Some(SignatureType::Binary) {
            return Err(SignatureError::WrongType);
        }
        check_digest(&sig.signature)?;
        let issuer_fps = upper(sig.signature.issuer_fingerprint());
        let issuer_ids = upper(sig.signature.issuer_key_id());
        let matches = |fp: String, id: String| issuer_fps.contains(&fp) || issuer_ids.contains(&id);
        let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());

        for (key, source_name) in &self.keys {
            let fingerprint = key.fingerprint().to_string().to_uppercase();
            let refusal_base = (fingerprint.clone(), source_name.clone());
            if matches(
                fingerprint.clone(),
                key.legacy_key_id().to_string().to_uppercase(),
            ) {
                check_primary_usable(key, now, &refusal_base)?;
                check_primary_signs(key, &refusal_base)?;
                return finish(&sig, data, &key.primary_key, key, source_name);
            }
            for sub in &key.public_subkeys {
                if matches(
                    sub.key.fingerprint().to_string().to_uppercase(),
                    sub.key.legacy_key_id().to_string().to_uppercase(),
                ) {
                    check_primary_usable(key, now, &refusal_base)?;
                    check_subkey_usable(sub, now, &refusal_base)?;
                    check_subkey_signs(sub, &refusal_base)?;
                    return finish(&sig, data, &sub.key, key, source_name);
                }
            }
        }
        let issuer = issuer_fps
            .first()
            .or(issuer_ids.first())
            .cloned()
            .unwrap_or_else(|| "(no issuer recorded)".into());
        Err(SignatureError::Untrusted {
            issuer,
            trusted: if self.keys.is_empty() {
                "none".into()
            } else {
                self.fingerprints().join(", ")
            },
        })
    }
}

/// The key a signature claims to be from (fingerprint or key id), without
/// checking anything.
pub fn claimed_issuer(signature: &[u8]) -> Option<String> {
    let sig = parse_signature(signature).ok()?;
    let fp = sig
        .signature
        .issuer_fingerprint()
        .first()
        .map(|f| f.to_string());
    let id = sig.signature.issuer_key_id().first().map(|k| k.to_string());
    fp.or(id).map(|s| s.to_uppercase())
}

pub(super) fn parse_signature(bytes: &[u8]) -> Result<DetachedSignature, SignatureError> {
    let malformed = |e: pgp::errors::Error| SignatureError::Malformed(e.to_string());
    if bytes.starts_with(b"-----BEGIN PGP SIGNATURE-----") {
        DetachedSignature::from_armor_single(Cursor::new(bytes))
            .map(|(s, _)| s)
            .map_err(malformed)
    } else {
        DetachedSignature::from_bytes(Cursor::new(bytes)).map_err(malformed)
    }
}

fn finish(
    sig: &DetachedSignature,
    data: &[u8],
    verifying: &impl pgp::types::VerifyingKey,
    key: &SignedPublicKey,
    source_name: &str,
) -> Result<Signer, SignatureError> {
    let fingerprint = key.fingerprint().to_string().to_uppercase();
    sig.verify(verifying, data)
        .map_err(|e| SignatureError::Bad {
            fingerprint: fingerprint.clone(),
            reason: e.to_string(),
        })?;
    Ok(Signer {
        fingerprint,
        user_id: key
            .details
            .users
            .first()
            .map(|u| String::from_utf8_lossy(u.id.id()).into_owned()),
        key_source: source_name.to_owned(),
        signed_at: sig
            .signature
            .created()
            .map_or(0, |t| u64::from(t.as_secs())),
    })
}

/// Fingerprints or key ids as hop prints them: upper-case hex.
fn upper(ids: impl IntoIterator<Item = impl ToString>) -> Vec<String> {
    ids.into_iter()
        .map(|id| id.to_string().to_uppercase())
        .collect()
}
