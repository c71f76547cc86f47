//! Reads `.hop` packages as a stream, verifying as it goes.
//!
//! [`PackageReader::open`] reads only the head: it checks the signature over
//! `hop.yaml` against the trusted keys and the manifest's own consistency
//! before a single payload byte is read. [`PackageReader::for_each_member`]
//! then streams each payload member to a visitor while hashing it, and
//! refuses the package at the first member that is unlisted, out of order,
//! of the wrong size or digest, not a regular file, or framed differently
//! from what `hop-build` writes; finally it checks the end of the archive.
//!
//! Why not `tar::Archive`: it skips padding and end-of-archive bytes unseen
//! and silently applies PAX and GNU extension headers. A verifying reader
//! must account for every byte, so this one walks the ustar blocks itself
//! and uses the `tar` crate for the header layout.

use std::io::{self, BufReader, Read};
use std::time::SystemTime;

use crate::archive::{MANIFEST_NAME, MAX_MANIFEST_BYTES, SIGNATURE_NAME};
use crate::digest::{HashingReader, IO_BUFFER};
use crate::error::PackageError;
use crate::package_manifest::{Member, PackageManifest, check_member_path};
use crate::signature::{MAX_SIGNATURE_BYTES, Signer, TrustedKeys, canonical_armor};
use crate::yaml;

mod blocks;

use blocks::{
    Counting, check_canonical, check_regular, read_header, read_padding, read_small, read_trailer,
};

/// A package whose head has been verified; its payload is still unread.
pub struct PackageReader<R: Read> {
    input: Counting<BufReader<R>>,
    manifest: PackageManifest,
    manifest_bytes: Vec<u8>,
    signature: Vec<u8>,
    signer: Option<Signer>,
}

/// What a full read established.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The signed manifest.
    pub manifest: PackageManifest,
    /// Who signed it; `None` only for [`PackageReader::open_untrusted`].
    pub signer: Option<Signer>,
    /// Bytes read, the whole package.
    pub bytes: u64,
}

impl<R: Read> PackageReader<R> {
    /// Reads and verifies the head of a package against `trusted` keys.
    pub fn open(input: R, trusted: &TrustedKeys) -> Result<Self, PackageError> {
        Self::open_at(input, trusted, SystemTime::now())
    }

    /// [`open`](Self::open), judging key expiry at `now`.
    pub fn open_at(input: R, trusted: &TrustedKeys, now: SystemTime) -> Result<Self, PackageError> {
        Self::open_with(input, |manifest, signature| {
            trusted.verify(manifest, signature, now).map(Some)
        })
    }

    /// Reads the head without checking the signature, for tools that only
    /// show what a package claims (`hop-build inspect`). Member digests are
    /// still checked by [`for_each_member`](Self::for_each_member). Never
    /// use this to decide whether to install.
    pub fn open_untrusted(input: R) -> Result<Self, PackageError> {
        Self::open_with(input, |_, _| Ok(None))
    }

    fn open_with(
        input: R,
        check_signature: impl FnOnce(
            &[u8],
            &[u8],
        )
            -> Result<Option<Signer>, crate::signature::SignatureError>,
    ) -> Result<Self, PackageError> {
        let mut input = Counting::new(BufReader::with_capacity(IO_BUFFER, input));

        let head = match read_header(&mut input, "the package header") {
            Err(PackageError::Truncated { offset: 0, .. }) => {
                return Err(PackageError::NotAPackage("the file is empty".into()));
            }
            other => other?,
        }
        .ok_or_else(|| {
            PackageError::NotAPackage("it is empty or starts with an end-of-archive block".into())
        })?;
        check_regular(&head)?;
        if head.path() != MANIFEST_NAME {
            return Err(PackageError::NotAPackage(format!(
                "its first member is {:?}, not {MANIFEST_NAME}",
                head.path()
            )));
        }
        let size = head.header().size()?;
        if size > MAX_MANIFEST_BYTES {
            return Err(PackageError::ManifestTooLarge {
                size,
                max: MAX_MANIFEST_BYTES,
            });
        }
        let manifest_bytes = read_small(&mut input, size, MANIFEST_NAME)?;

        let sig_head = read_header(&mut input, SIGNATURE_NAME)?.ok_or_else(|| {
            PackageError::MissingSignature {
                found: "the end of the archive".into(),
            }
        })?;
        check_regular(&sig_head)?;
        if sig_head.path() != SIGNATURE_NAME {
            return Err(PackageError::MissingSignature {
                found: format!("{:?}", sig_head.path()),
            });
        }
        let sig_size = sig_head.header().size()?;
        if sig_size > MAX_SIGNATURE_BYTES {
            return Err(PackageError::SignatureTooLarge {
                size: sig_size,
                max: MAX_SIGNATURE_BYTES,
            });
        }
        let signature = read_small(&mut input, sig_size, SIGNATURE_NAME)?;

        let signer = check_signature(&manifest_bytes, &signature)?;
        if canonical_armor(&signature)
            .ok()
            .as_ref()
            .map(String::as_bytes)
            != Some(&signature[..])
        {
            return Err(PackageError::NonCanonicalSignature);
        }

        let text = std::str::from_utf8(&manifest_bytes)
            .map_err(|e| PackageError::Manifest(format!("not UTF-8: {e}")))?;
        let manifest: PackageManifest =
            yaml::from_str(text).map_err(|e| PackageError::Manifest(e.to_string()))?;
        let problems = manifest.problems();
        if !problems.is_empty() {
            return Err(PackageError::ManifestProblems(problems));
        }
        check_canonical(&head, size, manifest.source_date_epoch)?;
        check_canonical(&sig_head, sig_size, manifest.source_date_epoch)?;

        Ok(Self {
            input,
            manifest,
            manifest_bytes,
            signature,
            signer,
        })
    }

    /// The signed manifest (checked for consistency; members not yet read).
    pub fn manifest(&self) -> &PackageManifest {
        &self.manifest
    }

    /// The exact signed bytes of `hop.yaml`.
    pub fn manifest_bytes(&self) -> &[u8] {
        &self.manifest_bytes
    }

    /// Who signed the package (`None` when opened untrusted).
    pub fn signer(&self) -> Option<&Signer> {
        self.signer.as_ref()
    }

    /// The detached signature as stored.
    pub fn signature_bytes(&self) -> &[u8] {
        &self.signature
    }

    /// Reads every payload member, verifying each, and the end of the
    /// archive.
    pub fn verify(self) -> Result<Verified, PackageError> {
        self.for_each_member(|_, data| io::copy(data, &mut io::sink()).map(drop))
    }

    /// Streams each payload member, in order, to `visit`.
    ///
    /// `visit` sees the member's bytes before they are proven: whatever it
    /// writes must stay provisional until this returns `Ok` (the installer
    /// extracts into a staging directory it discards on error). Bytes the
    /// visitor leaves unread are read and checked here.
    pub fn for_each_member(
        mut self,
        mut visit: impl FnMut(&Member, &mut dyn Read) -> io::Result<()>,
    ) -> Result<Verified, PackageError> {
        let members = std::mem::take(&mut self.manifest.members);
        for (index, member) in members.iter().enumerate() {
            let what = format!("member {}", member.path);
            let Some(head) = read_header(&mut self.input, &what)? else {
                return Err(PackageError::MissingMember {
                    path: member.path.clone(),
                });
            };
            check_regular(&head)?;
            let path = head.path();
            if let Err(reason) = check_member_path(&path) {
                return Err(PackageError::UnsafePath { path, reason });
            }
            if path != member.path {
                return Err(misplaced(&members, index, path));
            }
            let size = head.header().size()?;
            if size != member.size {
                return Err(PackageError::SizeMismatch {
                    path,
                    listed: member.size,
                    actual: size,
                });
            }
            check_canonical(&head, size, self.manifest.source_date_epoch)?;

            let start = self.input.count;
            let mut data = HashingReader::new((&mut self.input).take(size));
            visit(member, &mut data)?;
            io::copy(&mut data, &mut io::sink())?;
            let (digest, read) = data.finish();
            if read != size {
                return Err(PackageError::Truncated {
                    offset: start + read,
                    what,
                });
            }
            if digest != member.sha256 {
                return Err(PackageError::DigestMismatch {
                    path,
                    listed: member.sha256.to_hex(),
                    actual: digest.to_hex(),
                });
            }
            read_padding(&mut self.input, size, &what)?;
        }
        self.manifest.members = members;
        read_trailer(&mut self.input)?;
        Ok(Verified {
            manifest: self.manifest,
            signer: self.signer,
            bytes: self.input.count,
        })
    }
}

/// Names the problem with a member found where another was expected.
fn misplaced(members: &[Member], index: usize, path: String) -> PackageError {
    if members[..index].iter().any(|m| m.path == path) {
        PackageError::DuplicateMember { path }
    } else if members[index..].iter().any(|m| m.path == path) {
        PackageError::OutOfOrder {
            path,
            expected: members[index].path.clone(),
        }
    } else {
        PackageError::UnlistedMember { path }
    }
}
