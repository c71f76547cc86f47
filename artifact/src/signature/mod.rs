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

use pgp::composed::{
    ArmorOptions, Deserializable, KeyType, SecretKeyParamsBuilder, SignedPublicKey, SignedSecretKey,
};
use pgp::types::KeyDetails;
use rpm::signature::Signing;

mod key_checks;
mod trusted;

use trusted::parse_signature;
pub use trusted::{Signer, TrustedKeys, claimed_issuer};

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
    /// The public half, to tell whether what it signs is acceptable.
    public: SignedPublicKey,
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
        let public = key.to_public_key();
        let mut signer =
            rpm::signature::pgp::Signer::from_asc(text).map_err(|e| bad(e.to_string()))?;
        if let Some(p) = passphrase {
            signer = signer.with_key_passphrase(p);
        }
        Ok(Self {
            signer,
            newest_key_time,
            fingerprint,
            public,
        })
    }

    /// Refuses a key that is revoked or expired at `now` (unix time): no
    /// host would accept what it signs, and gpg itself refuses to.
    pub fn check_usable(&self, now: u64) -> Result<(), SignatureError> {
        let who = (self.fingerprint.clone(), "the signing key".to_owned());
        key_checks::check_primary_usable(&self.public, now, &who)?;
        // A key whose every subkey expired signs with none it could use.
        let subkeys = &self.public.public_subkeys;
        if !subkeys.is_empty()
            && subkeys
                .iter()
                .all(|s| key_checks::check_subkey_usable(s, now, &who).is_err())
        {
            return Err(subkeys
                .iter()
                .find_map(|s| key_checks::check_subkey_usable(s, now, &who).err())
                .unwrap_or(SignatureError::Sign("no usable subkey".into())));
        }
        Ok(())
    }

    /// The primary key's fingerprint, upper-case hex.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The same key as an RPM signer (`hop-build publish` signs the RPM
    /// that carries a package with it).
    pub fn rpm_signer(&self) -> rpm::signature::pgp::Signer {
        self.signer.clone()
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
    generate_key_with(user_id, KeyAlgorithm::Ed25519)
}

/// The kind of key `keygen` makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// Ed25519 (EdDSA): small and fast; gpg 2.1+, rpm 4.14+ (EL8 on).
    Ed25519,
    /// RSA 4096: what EL7's rpm 4.11 and gpg 2.0 check, and what a host
    /// in FIPS mode accepts.
    Rsa4096,
}

/// Generates a (v4) signing key of `algorithm`.
pub fn generate_key_with(
    user_id: &str,
    algorithm: KeyAlgorithm,
) -> Result<GeneratedKey, SignatureError> {
    let sign_err = |e: String| SignatureError::Sign(e);
    let key_type = match algorithm {
        KeyAlgorithm::Ed25519 => KeyType::Ed25519Legacy,
        KeyAlgorithm::Rsa4096 => KeyType::Rsa(4096),
    };
    let params = SecretKeyParamsBuilder::default()
        .key_type(key_type)
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

#[cfg(test)]
mod tests;
