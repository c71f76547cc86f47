//! Whether a trusted key may have made a signature: a strong digest, a
//! key (or subkey) certified for signing, neither revoked nor expired.

use pgp::composed::{SignedPublicKey, SignedPublicSubKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{Signature, SignatureType, SubpacketData};
use pgp::types::KeyDetails;

use super::SignatureError;

/// Refuses digests that can be forged (MD5, SHA-1, RIPEMD-160, SHA-224).
pub(super) fn check_digest(sig: &Signature) -> Result<(), SignatureError> {
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
pub(super) fn check_primary_signs(
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
pub(super) fn check_subkey_signs(
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

/// Refuses the primary key when it is revoked or expired at `now`.
pub(super) fn check_primary_usable(
    key: &SignedPublicKey,
    now: u64,
    who: &(String, String),
) -> Result<(), SignatureError> {
    let revoked = key
        .details
        .revocation_signatures
        .iter()
        .any(|s| s.verify_key(&key.primary_key).is_ok());
    let self_sigs = key
        .details
        .users
        .iter()
        .flat_map(|u| u.signatures.iter())
        .chain(key.details.direct_signatures.iter());
    let created = u64::from(key.primary_key.created_at().as_secs());
    check_usable(revoked, expiry_of(created, self_sigs), now, who)
}

/// Refuses a subkey that is revoked or expired at `now`.
pub(super) fn check_subkey_usable(
    sub: &SignedPublicSubKey,
    now: u64,
    who: &(String, String),
) -> Result<(), SignatureError> {
    let revoked = sub
        .signatures
        .iter()
        .any(|s| s.typ() == Some(SignatureType::SubkeyRevocation));
    let bindings = sub
        .signatures
        .iter()
        .filter(|s| s.typ() == Some(SignatureType::SubkeyBinding));
    let created = u64::from(sub.key.created_at().as_secs());
    check_usable(revoked, expiry_of(created, bindings), now, who)
}

fn check_usable(
    revoked: bool,
    expires: Option<u64>,
    now: u64,
    (fingerprint, source_name): &(String, String),
) -> Result<(), SignatureError> {
    if revoked {
        return Err(SignatureError::Revoked {
            fingerprint: fingerprint.clone(),
            source_name: source_name.clone(),
        });
    }
    match expires {
        Some(expired) if expired <= now => Err(SignatureError::Expired {
            fingerprint: fingerprint.clone(),
            source_name: source_name.clone(),
            expired,
        }),
        _ => Ok(()),
    }
}
