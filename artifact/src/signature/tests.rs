//! Signing and checking with generated keys.

use std::time::SystemTime;

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
