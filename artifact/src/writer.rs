//! Writes `.hop` packages: the signed head first, then each payload member
//! streamed from its source, in the canonical ustar framing.

use std::io::{self, Read, Write};

use crate::archive::{BLOCK, MANIFEST_NAME, SIGNATURE_NAME, canonical_header, padding};

/// How much is copied between progress reports.
const PROGRESS_CHUNK: u64 = 8 << 20;

/// A package being written. The head (`hop.yaml` and its signature) is
/// written by [`PackageWriter::begin`]; members must then be appended in
/// the order `hop.yaml` lists them.
pub struct PackageWriter<W: Write> {
    out: W,
    mtime: u64,
}

impl<W: Write> PackageWriter<W> {
    /// Starts a package with its manifest and the detached signature over it.
    pub fn begin(out: W, manifest: &[u8], signature: &[u8], mtime: u64) -> io::Result<Self> {
        let mut writer = Self { out, mtime };
        writer.append_bytes(MANIFEST_NAME, manifest)?;
        writer.append_bytes(SIGNATURE_NAME, signature)?;
        Ok(writer)
    }

    /// Appends a member held in memory.
    pub fn append_bytes(&mut self, path: &str, data: &[u8]) -> io::Result<()> {
        self.append(path, data.len() as u64, &mut &data[..], &mut |_| {})
    }

    /// Appends a member of exactly `size` bytes streamed from `data`,
    /// calling `progress` with each chunk's length. Fails if `data` holds
    /// fewer or more bytes (the input changed after it was hashed).
    pub fn append(
        &mut self,
        path: &str,
        size: u64,
        data: &mut impl Read,
        progress: &mut dyn FnMut(u64),
    ) -> io::Result<()> {
        let header = canonical_header(path, size, self.mtime)?;
        self.out.write_all(header.as_bytes())?;
        let mut left = size;
        while left > 0 {
            let chunk = left.min(PROGRESS_CHUNK);
            let copied = io::copy(&mut data.take(chunk), &mut self.out)?;
            if copied < chunk {
                return Err(changed(path));
            }
            progress(copied);
            left -= copied;
        }
        if data.read(&mut [0u8; 1])? != 0 {
            return Err(changed(path));
        }
        self.write_zeros(padding(size))
    }

    /// Writes the end-of-archive blocks and returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        self.write_zeros(2 * BLOCK)?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn write_zeros(&mut self, n: u64) -> io::Result<()> {
        const ZEROS: [u8; 2 * BLOCK as usize] = [0; 2 * BLOCK as usize];
        self.out.write_all(&ZEROS[..n as usize])
    }
}

fn changed(path: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{path} changed while the package was being written; build again"),
    )
}
