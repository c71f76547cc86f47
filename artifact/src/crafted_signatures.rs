//! Signatures a verifier must refuse although they are mathematically
//! valid, made for tests (feature `testing`): digests that can be forged,
//! and a signature by an encryption-only subkey.

use std::io::Cursor;

use pgp::composed::{
    ArmorOptions, DetachedSignature, EncryptionCaps, KeyType, SecretKeyParamsBuilder,
    SignedPublicKey, SubkeyParamsBuilder,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::types::Password;

use crate::signature::SignatureError;

/// A refused signature over some data, with the public key that made it.
pub struct Crafted {
    /// What is wrong with the signature (`SHA-1 digest`).
    pub name: &'static str,
    /// The armoured public key (trust it to see the refusal).
    pub public: String,
    /// The armoured detached signature.
    pub signature: String,
    /// What the refusal says.
    pub expect: &'static str,
}

/// MD5 and SHA-1 signatures by an RSA signing key, and a SHA-256 signature
/// by its encryption-only RSA subkey, all over `data`.
pub fn weak_signatures(data: &[u8]) -> Result<Vec<Crafted>, SignatureError> {
    let err = |e: pgp::errors::Error| SignatureError::Sign(e.to_string());
    let subkey = SubkeyParamsBuilder::default()
        .key_type(KeyType::Rsa(2048))
        .can_encrypt(EncryptionCaps::All)
        .build()
        .map_err(|e| SignatureError::Sign(e.to_string()))?;
    let secret = SecretKeyParamsBuilder::default()
        .key_type(KeyType::Rsa(2048))
        .can_certify(true)
        .can_sign(true)
        .primary_user_id("Weak <weak@example.com>".into())
        .subkeys(vec![subkey])
        .build()
        .map_err(|e| SignatureError::Sign(e.to_string()))?
        .generate(rand::thread_rng())
        .map_err(err)?;
    let public = SignedPublicKey::from(secret.clone())
        .to_armored_string(ArmorOptions::default())
        .map_err(err)?;
    let sign = |key: &dyn pgp::types::SigningKey, hash: HashAlgorithm| {
        DetachedSignature::sign_binary_data(
            rand::thread_rng(),
            &Box::new(key),
            &Password::empty(),
            hash,
            Cursor::new(data),
        )
        .and_then(|s| s.to_armored_string(ArmorOptions::default()))
        .map_err(err)
    };
    let encryption_subkey = secret
        .secret_subkeys
        .first()
        .ok_or_else(|| SignatureError::Sign("no subkey was generated".into()))?;
    Ok(vec![
        Crafted {
            name: "MD5 digest",
            public: public.clone(),
            signature: sign(&secret.primary_key, HashAlgorithm::Md5)?,
            expect: "uses the MD5 digest",
        },
        Crafted {
            name: "SHA-1 digest",
            public: public.clone(),
            signature: sign(&secret.primary_key, HashAlgorithm::Sha1)?,
            expect: "uses the SHA1 digest",
        },
        Crafted {
            name: "encryption-only subkey",
            public,
            signature: sign(&encryption_subkey.key, HashAlgorithm::Sha256)?,
            expect: "is not certified for signing",
        },
    ])
}
