//! The ustar blocks of a package, read one by one so that every byte is
//! accounted for: headers (checksummed, in the one form hop-build writes),
//! padding, and the end of the archive.

use std::io::{self, Read};

use crate::archive::{BLOCK, canonical_header, checksum_ok, entry_kind, padding};
use crate::error::PackageError;
use crate::package_manifest::check_member_path;

/// A header block as read, with where it starts.
pub(super) struct HeaderBlock {
    pub(super) block: [u8; BLOCK as usize],
    pub(super) offset: u64,
}

impl HeaderBlock {
    pub(super) fn header(&self) -> &tar::Header {
        tar::Header::from_byte_slice(&self.block)
    }

    pub(super) fn path(&self) -> String {
        String::from_utf8_lossy(&self.header().path_bytes()).into_owned()
    }

    pub(super) fn is_zero(&self) -> bool {
        self.block.iter().all(|b| *b == 0)
    }
}

/// Reads a header block; `None` at an all-zero (end-of-archive) block.
pub(super) fn read_header<R: Read>(
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

pub(super) fn check_regular(head: &HeaderBlock) -> Result<(), PackageError> {
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

pub(super) fn check_canonical(
    head: &HeaderBlock,
    size: u64,
    mtime: u64,
) -> Result<(), PackageError> {
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

pub(super) fn read_small<R: Read>(
    input: &mut Counting<R>,
    size: u64,
    what: &str,
) -> Result<Vec<u8>, PackageError> {
    let mut data = vec![0u8; size as usize];
    read_exact(input, &mut data, what)?;
    read_padding(input, size, what)?;
    Ok(data)
}

pub(super) fn read_padding<R: Read>(
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
pub(super) fn read_trailer<R: Read>(input: &mut Counting<R>) -> Result<(), PackageError> {
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

pub(super) fn read_exact<R: Read>(
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
pub(super) struct Counting<R> {
    inner: R,
    pub(super) count: u64,
}

impl<R> Counting<R> {
    pub(super) fn new(inner: R) -> Self {
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
