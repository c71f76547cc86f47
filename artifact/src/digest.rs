//! SHA-256 digests: the hex value type and a reader that hashes what passes
//! through it.

use std::fmt;
use std::io::{self, Read};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// Buffer size for streaming copies and hashing: large enough to keep the
/// hash and the disk busy, small enough that memory stays flat.
pub const IO_BUFFER: usize = 1 << 20;

/// A SHA-256 digest, written as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256Digest([u8; 32]);

/// Text that is not a SHA-256 digest in lower-case hex.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not a SHA-256 digest (64 hex digits)")]
pub struct DigestParseError(String);

impl Sha256Digest {
    /// A digest from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest of a byte slice.
    pub fn of(data: &[u8]) -> Self {
        Self(Sha256::digest(data).into())
    }

    /// Streams a file through SHA-256, returning its digest and size.
    pub fn of_file(path: &Path) -> io::Result<(Self, u64)> {
        let file = std::fs::File::open(path)?;
        let mut reader = HashingReader::new(file);
        io::copy(&mut reader, &mut io::sink())?;
        Ok(reader.finish())
    }

    /// Parses 64 lower-case hex digits (the form hop.yaml writes).
    pub fn parse(text: &str) -> Result<Self, DigestParseError> {
        let mut bytes = [0u8; 32];
        if text.len() != 64
            || !text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(DigestParseError(text.to_owned()));
        }
        hex::decode_to_slice(text, &mut bytes).map_err(|_| DigestParseError(text.to_owned()))?;
        Ok(Self(bytes))
    }

    /// The 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.to_hex())
    }
}

impl TryFrom<String> for Sha256Digest {
    type Error = DigestParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Sha256Digest> for String {
    fn from(d: Sha256Digest) -> Self {
        d.to_hex()
    }
}

/// Hashes every byte read through it and counts them.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> HashingReader<R> {
    /// Starts hashing what is read from `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    /// The digest and byte count of everything read so far.
    pub fn finish(self) -> (Sha256Digest, u64) {
        (Sha256Digest(self.hasher.finalize().into()), self.count)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_known_value() {
        let d = Sha256Digest::of(b"abc");
        assert_eq!(
            d.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Sha256Digest::parse(&d.to_hex()), Ok(d));
    }

    #[test]
    fn rejects_uppercase_and_short_hex() {
        assert!(Sha256Digest::parse("AB").is_err());
        assert!(Sha256Digest::parse(&"A".repeat(64)).is_err());
    }

    #[test]
    fn hashing_reader_counts_and_hashes() {
        let mut r = HashingReader::new(&b"abc"[..]);
        io::copy(&mut r, &mut io::sink()).unwrap();
        assert_eq!(r.finish(), (Sha256Digest::of(b"abc"), 3));
    }
}
