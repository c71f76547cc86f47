//! File digests the way an RPM header records them: the header names the
//! algorithm (`FILEDIGESTALGO`), usually SHA-256, MD5 in old packages.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

/// A running digest in one of RPM's algorithms.
pub enum FileDigest {
    Md5(Md5),
    Sha1(Sha1),
    Sha224(Sha224),
    Sha256(Sha256),
    Sha384(Sha384),
    Sha512(Sha512),
}

impl FileDigest {
    /// The digest for RPM's algorithm number (PGPHASHALGO_*), if known.
    pub fn for_rpm_algo(algo: u32) -> Option<Self> {
        Some(match algo {
            1 => Self::Md5(Md5::new()),
            2 => Self::Sha1(Sha1::new()),
            8 => Self::Sha256(Sha256::new()),
            9 => Self::Sha384(Sha384::new()),
            10 => Self::Sha512(Sha512::new()),
            11 => Self::Sha224(Sha224::new()),
            _ => return None,
        })
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Self::Md5(d) => d.update(data),
            Self::Sha1(d) => d.update(data),
            Self::Sha224(d) => d.update(data),
            Self::Sha256(d) => d.update(data),
            Self::Sha384(d) => d.update(data),
            Self::Sha512(d) => d.update(data),
        }
    }

    /// The lower-case hex digest, as `rpm -q --qf %{FILEDIGESTS}` prints it.
    pub fn hex(self) -> String {
        let bytes = match self {
            Self::Md5(d) => d.finalize().to_vec(),
            Self::Sha1(d) => d.finalize().to_vec(),
            Self::Sha224(d) => d.finalize().to_vec(),
            Self::Sha256(d) => d.finalize().to_vec(),
            Self::Sha384(d) => d.finalize().to_vec(),
            Self::Sha512(d) => d.finalize().to_vec(),
        };
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_as_rpm_prints_them() {
        let hex = |algo| {
            let mut d = FileDigest::for_rpm_algo(algo).unwrap();
            d.update(b"data\n");
            d.hex()
        };
        assert_eq!(hex(1), "6137cde4893c59f76f005a8123d8e8e6");
        assert_eq!(
            hex(8),
            "6667b2d1aab6a00caa5aee5af8ad9f1465e567abf1c209d15727d57b3e8f6e5f"
        );
        assert!(FileDigest::for_rpm_algo(99).is_none());
    }
}
