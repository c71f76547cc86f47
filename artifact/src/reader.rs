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

use crate::archive::{
    BLOCK, MANIFEST_NAME, MAX_MANIFEST_BYTES, SIGNATURE_NAME, canonical_header, checksum_ok,
    entry_kind, padding,
};
use crate::digest::{HashingReader, IO_BUFFER};
use crate::error::PackageError;
use crate::package_manifest::{Member, PackageManifest, check_member_path};
use crate::signature::{MAX_SIGNATURE_BYTES, Signer, TrustedKeys, canonical_armor};
use crate::yaml;

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

/// A header block as read, with where it starts.
struct HeaderBlock {
    block: [u8; BLOCK as usize],
    offset: u64,
}

impl HeaderBlock {
    fn header(&self) -> &tar::Header {
        tar::Header::from_byte_slice(&self.block)
    }

    fn path(&self) -> String {
        String::from_utf8_lossy(&self.header().path_bytes()).into_owned()
    }

    fn is_zero(&self) -> bool {
        self.block.iter().all(|b| *b == 0)
    }
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

/// Reads a header block; `None` at an all-zero (end-of-archive) block.
fn read_header<R: Read>(
    input: &mut Counting<R>,
    what: &str,
) -> Result<Option<HeaderBlock>, PackageError> {
    let offset = input.count;
    let mut block = [0u8; BLOCK as usize];
    read_exact(input, &mut block, what)?;
    let head = HeaderBlock { block, offset };
    if head.is_zero() {
        return Ok(None);
    }
    if !checksum_ok(&head.block) {
        return Err(PackageError::HeaderChecksum { offset });
    }
    Ok(Some(head))
}

fn check_regular(head: &HeaderBlock) -> Result<(), PackageError> {
    if let Some(kind) = entry_kind(head.header()) {
        return Err(PackageError::NotRegularFile {
            path: head.path(),
            kind,
        });
    }
    let path = head.path();
    if path.starts_with('/') || path.split('/').any(|p| p == "..") {
        return Err(PackageError::UnsafePath {
            reason: "absolute or climbing out with ..".into(),
            path,
        });
    }
    Ok(())
}

fn check_canonical(head: &HeaderBlock, size: u64, mtime: u64) -> Result<(), PackageError> {
    let path = head.path();
    let expected = canonical_header(&path, size, mtime)?;
    if expected.as_bytes() != &head.block {
        return Err(PackageError::NonCanonicalHeader {
            path,
            offset: head.offset,
        });
    }
    Ok(())
}

fn read_small<R: Read>(
    input: &mut Counting<R>,
    size: u64,
    what: &str,
) -> Result<Vec<u8>, PackageError> {
    let mut data = vec![0u8; size as usize];
    read_exact(input, &mut data, what)?;
    read_padding(input, size, what)?;
    Ok(data)
}

fn read_padding<R: Read>(
    input: &mut Counting<R>,
    size: u64,
    what: &str,
) -> Result<(), PackageError> {
    let offset = input.count;
    let mut pad = [0u8; BLOCK as usize];
    let pad = &mut pad[..padding(size) as usize];
    read_exact(input, pad, what)?;
    if pad.iter().any(|b| *b != 0) {
        return Err(PackageError::BadPadding { offset });
    }
    Ok(())
}

/// After the last listed member: a second zero block (the first one was
/// read as a header), then nothing.
fn read_trailer<R: Read>(input: &mut Counting<R>) -> Result<(), PackageError> {
    if let Some(extra) = read_header(input, "the end of the archive")? {
        check_regular(&extra)?;
        let path = extra.path();
        return Err(match check_member_path(&path) {
            Err(reason) => PackageError::UnsafePath { path, reason },
            Ok(()) => PackageError::UnlistedMember { path },
        });
    }
    let offset = input.count;
    let mut second = [0u8; BLOCK as usize];
    read_exact(input, &mut second, "the end of the archive")?;
    if second.iter().any(|b| *b != 0) {
        return Err(PackageError::BadPadding { offset });
    }
    let offset = input.count;
    if input.read(&mut [0u8; 1])? != 0 {
        return Err(PackageError::TrailingData { offset });
    }
    Ok(())
}

fn read_exact<R: Read>(
    input: &mut Counting<R>,
    buf: &mut [u8],
    what: &str,
) -> Result<(), PackageError> {
    let start = input.count;
    match input.read_exact(buf) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(PackageError::Truncated {
            offset: start.max(input.count),
            what: what.to_owned(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// Counts the bytes read, for error offsets.
struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R> Counting<R> {
    fn new(inner: R) -> Self {
        Self { inner, count: 0 }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}
