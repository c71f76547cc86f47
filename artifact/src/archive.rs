//! The `.hop` archive framing: a plain ustar stream whose every header is in
//! one canonical form.
//!
//! The writer builds each header with [`canonical_header`]; the reader
//! rebuilds it and compares all 512 bytes. Together with the signed digest
//! of every member's data and the check that padding and the end-of-archive
//! blocks are zero, every byte of a package is accounted for: a single
//! flipped bit anywhere is refused.

use std::io;

/// A tar block.
pub const BLOCK: u64 = 512;

/// The first member: the package manifest.
pub const MANIFEST_NAME: &str = "hop.yaml";

/// The second member: the detached signature over the manifest.
pub const SIGNATURE_NAME: &str = "hop.yaml.asc";

/// The largest `hop.yaml` a reader accepts: far above any real hop
/// (thousands of members fit in a few hundred KiB), far below harm.
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// Every member's permission bits in the archive; real modes travel in the
/// manifest.
pub const MEMBER_MODE: u32 = 0o644;

/// The header the writer emits for a member, and the only one a reader
/// accepts.
pub fn canonical_header(path: &str, size: u64, mtime: u64) -> io::Result<tar::Header> {
    let mut header = tar::Header::new_ustar();
    header.set_path(path)?;
    header.set_size(size);
    header.set_mode(MEMBER_MODE);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(mtime);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    Ok(header)
}

/// Zero bytes after `size` bytes of data, up to the next block.
pub fn padding(size: u64) -> u64 {
    (BLOCK - size % BLOCK) % BLOCK
}

/// Whether a header's checksum field matches its contents (the classic
/// unsigned sum with the checksum field read as spaces).
pub fn checksum_ok(block: &[u8; BLOCK as usize]) -> bool {
    let header = tar::Header::from_byte_slice(block);
    let Ok(recorded) = header.cksum() else {
        return false;
    };
    let sum: u32 = block
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                u32::from(b' ')
            } else {
                u32::from(*b)
            }
        })
        .sum();
    sum == recorded
}

/// What a header describes, for error messages about non-regular members.
pub fn entry_kind(header: &tar::Header) -> Option<&'static str> {
    use tar::EntryType as T;
    let kind = header.entry_type();
    Some(match kind {
        T::Regular => return None,
        T::Symlink => "a symbolic link",
        T::Link => "a hard link",
        T::Char => "a character device",
        T::Block => "a block device",
        T::Directory => "a directory",
        T::Fifo => "a FIFO",
        T::Continuous => "a contiguous file",
        T::XHeader | T::XGlobalHeader => "a PAX extended header",
        T::GNULongName | T::GNULongLink => "a GNU long-name header",
        T::GNUSparse => "a GNU sparse file",
        _ => "an unknown kind of member",
    })
}
