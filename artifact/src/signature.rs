//! OpenPGP detached signatures over `hop.yaml`: making them, and checking
//! them against the keys a host trusts.
//!
//! Signing goes through the `rpm` crate's signer, the same code path that
//! signs RPMs, so one key kind serves both. Checking uses the `pgp` crate
//! directly because the installer must also refuse revoked and expired
//! keys, which the RPM verifier does not look at.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use hop_artifact::signature::{generate_key, SigningKey, TrustedKeys};
//! let key = generate_key("Release <release@example.com>")?;
//! let signer = SigningKey::from_armored(&key.secret, None)?;
//! let sig = signer.sign(b"hop.yaml bytes", 0)?;
//! let mut trusted = TrustedKeys::default();
//! trusted.add_armored(&key.public, "release.pub.asc")?;
//! trusted.verify(b"hop.yaml bytes", sig.as_bytes(), std::time::SystemTime::now())?;
//! # Ok(()) }
//! ```

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use pgp::composed::{
    ArmorOptions, Deserializable, DetachedSignature, KeyType, SecretKeyParamsBuilder,
    SignedPublicKey, SignedPublicSubKey, SignedSecretKey,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{Signature, SignatureType, SubpacketData};
use pgp::types::KeyDetails;
use rpm::signature::Signing;

/// The largest detached signature a reader accepts.
pub const MAX_SIGNATURE_BYTES: u64 = 64 * 1024;

/// Why a signature or a key was refused.
#[derive(Debug, thiserror::Error)]
#[allow(
    missing_docs,
    reason = "each variant's #[error] message is its documentation"
)]
pub enum SignatureError {
    #[error("cannot read the key in {source_name}: {reason}")]
    BadKey { source_name: String, reason: String },
    #[error("no trusted keys: {0}")]
    NoTrustedKeys(String),
    #[error("the signature is not a readable OpenPGP signature: {0}")]
    Malformed(String),
    #[error("the signature is not a binary-document signature")]
    WrongType,
    #[error(
        "signed by key {issuer}, which is not trusted here (trusted: {trusted}); \
         ask the vendor which key signs packages and add its public key to the trusted keys"
    )]
    Untrusted { issuer: String, trusted: String },
    #[error(
        "key {fingerprint} ({source_name}) has been revoked; a package signed with it cannot be trusted"
    )]
    Revoked {
        fingerprint: String,
        source_name: String,
    },
    #[error(
        "key {fingerprint} ({source_name}) expired at {expired} (unix time); ask for a package signed with a current key"
    )]
    Expired {
        fingerprint: String,
        source_name: String,
        expired: u64,
    },
    #[error("bad signature: hop.yaml does not match the signature of key {fingerprint} ({reason})")]
    Bad { fingerprint: String, reason: String },
    #[error(
        "the signature uses the {algorithm} digest, which can be forged; hop accepts SHA-256 or \
         stronger only (as gpg does); ask the vendor to sign with SHA-256"
    )]
    WeakDigest { algorithm: String },
    #[error(
        "the signature was made by {key}, a key of {fingerprint} ({source_name}) that is not \
         certified for signing; ask the vendor to sign with a signing key"
    )]
    NotForSigning {
        key: String,
        fingerprint: String,
        source_name: String,
    },
    #[error("cannot sign: {0}")]
    Sign(String),
}

/// A secret key that signs packages.
#[derive(Debug)]
pub struct SigningKey {
    signer: rpm::signature::pgp::Signer,
    /// Creation time of the newest key material: a signature must not be
    /// older than its key, or gpg refuses it.
    newest_key_time: u64,
    fingerprint: String,
}

impl SigningKey {
    /// Loads an ASCII-armoured secret key (as `hop-build keygen` or
    /// `gpg --export-secret-keys --armor` writes it).
    pub fn from_armored(text: &str, passphrase: Option<String>) -> Result<Self, SignatureError> {
        let bad = |reason: String| SignatureError::BadKey {
            source_name: "the secret key".into(),
            reason,
        };
        let (key, _) = SignedSecretKey::from_armor_single(Cursor::new(text.as_bytes()))
            .map_err(|e| bad(e.to_string()))?;
        let newest_key_time = std::iter::once(key.primary_key.created_at().as_secs())
            .chain(
                key.secret_subkeys
                    .iter()
                    .map(|s| s.key.created_at().as_secs()),
            )
            .max()
            .map_or(0, u64::from);
        let fingerprint = key.primary_key.fingerprint().to_string().to_uppercase();
        let mut signer =
            rpm::signature::pgp::Signer::from_asc(text).map_err(|e| bad(e.to_string()))?;
        if let Some(p) = passphrase {
            signer = signer.with_key_passphrase(p);
        }
        Ok(Self {
            signer,
            newest_key_time,
            fingerprint,
        })
    }

    /// The primary key's fingerprint, upper-case hex.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Signs `data` and returns an armoured detached signature.
    ///
    /// The signature's time is `not_before` (the build's
    /// `SOURCE_DATE_EPOCH`) or the key's creation time, whichever is later,
    /// so the same inputs and key give the same bytes.
    pub fn sign(&self, data: &[u8], not_before: u64) -> Result<String, SignatureError> {
        let when = not_before.max(self.newest_key_time);
        let when = u32::try_from(when)
            .map_err(|_| SignatureError::Sign(format!("time {when} is past 2106")))?;
        let packet = self
            .signer
            .sign(Cursor::new(data), rpm::Timestamp(when))
            .map_err(|e| SignatureError::Sign(e.to_string()))?;
        canonical_armor(&packet)
    }
}

/// The one armoured form a package stores a signature in, from a binary
/// or armoured signature (gpg's armour differs in small ways). The reader
/// refuses a signature member in any other form, so that not a single byte
/// of a package escapes checking.
pub fn canonical_armor(signature: &[u8]) -> Result<String, SignatureError> {
    parse_signature(signature)?
        .to_armored_string(ArmorOptions::default())
        .map_err(|e| SignatureError::Malformed(e.to_string()))
}

/// A freshly generated key pair, both halves armoured.
pub struct GeneratedKey {
    /// The secret key, armoured.
    pub secret: String,
    /// The public key, armoured.
    pub public: String,
    /// The primary key's fingerprint, upper-case hex.
    pub fingerprint: String,
}

/// Generates an Ed25519 (v4) signing key: fast, small, and read by
/// gpg 2.2 as well as by rpm.
pub fn generate_key(user_id: &str) -> Result<GeneratedKey, SignatureError> {
    let sign_err = |e: String| SignatureError::Sign(e);
    let params = SecretKeyParamsBuilder::default()
        .key_type(KeyType::Ed25519Legacy)
        .can_certify(true)
        .can_sign(true)
        .primary_user_id(user_id.to_owned())
        .build()
        .map_err(|e| sign_err(e.to_string()))?;
    let secret = params
        .generate(rand::thread_rng())
        .map_err(|e| sign_err(e.to_string()))?;
    let public = SignedPublicKey::from(secret.clone());
    Ok(GeneratedKey {
        fingerprint: public.fingerprint().to_string().to_uppercase(),
        secret: secret
            .to_armored_string(ArmorOptions::default())
            .map_err(|e| sign_err(e.to_string()))?,
        public: public
            .to_armored_string(ArmorOptions::default())
            .map_err(|e| sign_err(e.to_string()))?,
    })
}

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
        let issuer_fps: Vec<String> = sig
            .signature
            .issuer_fingerprint()
            .iter()
            .map(|f| f.to_string().to_uppercase())
            .collect();
        let issuer_ids: Vec<String> = sig
            .signature
            .issuer_key_id()
            .iter()
            .map(|k| k.to_string().to_uppercase())
            .collect();
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

fn parse_signature(bytes: &[u8]) -> Result<DetachedSignature, SignatureError> {
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

/// Refuses digests that can be forged (MD5, SHA-1, RIPEMD-160, SHA-224).
fn check_digest(sig: &Signature) -> Result<(), SignatureError> {
    match sig.hash_alg() {
        Some(
            HashAlgorithm::Sha256
            | HashAlgorithm::Sha384
            | HashAlgorithm::Sha512
            | HashAlgorithm::Sha3_256
            | HashAlgorithm::Sha3_512,
        ) => Ok(()),
        other => Err(SignatureError::WeakDigest {
            algorithm: other.map_or_else(|| "unknown".into(), |a| a.to_string()),
        }),
    }
}

/// The key flags `sig` states, if it states any.
fn stated_flags(sig: &Signature) -> Option<pgp::packet::KeyFlags> {
    let states = sig.config().is_some_and(|c| {
        c.hashed_subpackets()
            .any(|p| matches!(p.data, SubpacketData::KeyFlags(_)))
    });
    states.then(|| sig.key_flags())
}

/// A primary key may sign unless its newest self-signature that states key
/// flags leaves out signing (a key with no flags at all may, as in gpg).
fn check_primary_signs(
    key: &SignedPublicKey,
    (fingerprint, source_name): &(String, String),
) -> Result<(), SignatureError> {
    let newest = key
        .details
        .users
        .iter()
        .flat_map(|u| u.signatures.iter())
        .chain(key.details.direct_signatures.iter())
        .filter_map(|s| stated_flags(s).map(|f| (s.created().map_or(0, |t| t.as_secs()), f)))
        .max_by_key(|(t, _)| *t);
    match newest {
        Some((_, flags)) if !flags.sign() => Err(SignatureError::NotForSigning {
            key: "its primary key".into(),
            fingerprint: fingerprint.clone(),
            source_name: source_name.clone(),
        }),
        _ => Ok(()),
    }
}

/// A subkey signs only if its newest binding signature says it may.
fn check_subkey_signs(
    sub: &SignedPublicSubKey,
    (fingerprint, source_name): &(String, String),
) -> Result<(), SignatureError> {
    let newest = sub
        .signatures
        .iter()
        .filter(|s| s.typ() == Some(SignatureType::SubkeyBinding))
        .max_by_key(|s| s.created().map_or(0, |t| t.as_secs()));
    if newest.and_then(stated_flags).is_some_and(|f| f.sign()) {
        return Ok(());
    }
    Err(SignatureError::NotForSigning {
        key: format!(
            "subkey {}",
            sub.key.fingerprint().to_string().to_uppercase()
        ),
        fingerprint: fingerprint.clone(),
        source_name: source_name.clone(),
    })
}

/// The newest signature among `sigs` that carries a key expiration.
fn expiry_of<'a>(created: u64, sigs: impl Iterator<Item = &'a Signature>) -> Option<u64> {
    let newest = sigs.max_by_key(|s| s.created().map_or(0, |t| t.as_secs()))?;
    let secs = u64::from(newest.key_expiration_time()?.as_secs());
    (secs > 0).then_some(created + secs)
}

fn check_primary_usable(
    key: &SignedPublicKey,
    now: u64,
    (fingerprint, source_name): &(String, String),
) -> Result<(), SignatureError> {
    let revoked = key
        .details
        .revocation_signatures
        .iter()
        .any(|s| s.verify_key(&key.primary_key).is_ok());
    if revoked {
        return Err(SignatureError::Revoked {
            fingerprint: fingerprint.clone(),
            source_name: source_name.clone(),
        });
    }
    let created = u64::from(key.primary_key.created_at().as_secs());
    let self_sigs = key
        .details
        .users
        .iter()
        .flat_map(|u| u.signatures.iter())
        .chain(key.details.direct_signatures.iter());
    if let Some(expired) = expiry_of(created, self_sigs)
        && expired <= now
    {
        return Err(SignatureError::Expired {
            fingerprint: fingerprint.clone(),
            source_name: source_name.clone(),
            expired,
        });
    }
    Ok(())
}

fn check_subkey_usable(
    sub: &SignedPublicSubKey,
    now: u64,
    (fingerprint, source_name): &(String, String),
) -> Result<(), SignatureError> {
    if sub
        .signatures
        .iter()
        .any(|s| s.typ() == Some(SignatureType::SubkeyRevocation))
    {
        return Err(SignatureError::Revoked {
            fingerprint: fingerprint.clone(),
            source_name: source_name.clone(),
        });
    }
    let created = u64::from(sub.key.created_at().as_secs());
    let bindings = sub
        .signatures
        .iter()
        .filter(|s| s.typ() == Some(SignatureType::SubkeyBinding));
    if let Some(expired) = expiry_of(created, bindings)
        && expired <= now
    {
        return Err(SignatureError::Expired {
            fingerprint: fingerprint.clone(),
            source_name: source_name.clone(),
            expired,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(public: &str) -> TrustedKeys {
        let mut t = TrustedKeys::default();
        t.add_armored(public, "test.pub.asc").unwrap();
        t
    }

    #[test]
    fn signs_reproducibly_and_verifies() {
        let key = generate_key("Test <test@example.com>").unwrap();
        let signer = SigningKey::from_armored(&key.secret, None).unwrap();
        let a = signer.sign(b"data", 1).unwrap();
        let b = signer.sign(b"data", 1).unwrap();
        assert_eq!(a, b, "same key, data and time must give the same signature");
        assert!(a.starts_with("-----BEGIN PGP SIGNATURE-----"));
        let who = trusted(&key.public)
            .verify(b"data", a.as_bytes(), SystemTime::now())
            .unwrap();
        assert_eq!(who.fingerprint, key.fingerprint);
    }

    #[test]
    fn refuses_weak_digests_and_signatures_by_non_signing_subkeys() {
        for case in crate::crafted_signatures::weak_signatures(b"hop.yaml").unwrap() {
            let err = trusted(&case.public)
                .verify(b"hop.yaml", case.signature.as_bytes(), SystemTime::now())
                .unwrap_err();
            assert!(
                err.to_string().contains(case.expect),
                "{}: {err}",
                case.name
            );
        }
    }

    #[test]
    fn refuses_changed_data_and_other_keys() {
        let key = generate_key("A <a@example.com>").unwrap();
        let other = generate_key("B <b@example.com>").unwrap();
        let sig = SigningKey::from_armored(&key.secret, None)
            .unwrap()
            .sign(b"data", 0)
            .unwrap();
        let err = trusted(&key.public)
            .verify(b"dat4", sig.as_bytes(), SystemTime::now())
            .unwrap_err();
        assert!(matches!(err, SignatureError::Bad { .. }), "{err}");
        let err = trusted(&other.public)
            .verify(b"data", sig.as_bytes(), SystemTime::now())
            .unwrap_err();
        assert!(matches!(err, SignatureError::Untrusted { .. }), "{err}");
        let err = trusted(&key.public)
            .verify(b"data", b"garbage", SystemTime::now())
            .unwrap_err();
        assert!(matches!(err, SignatureError::Malformed(_)), "{err}");
    }
}
