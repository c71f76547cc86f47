//! Crafting bad packages from good ones, for the tests that prove the
//! reader refuses them.
//!
//! A package is read into raw members (header + data) so a test can remove,
//! repeat, reorder or forge members, write paths the `tar` crate would
//! refuse to write, and serialise the result with correct framing.

use anyhow::{Context, Result, bail};

mod damage;

pub use damage::{Mutation, flip_positions, mutants};

const BLOCK: usize = 512;

/// A member as raw bytes.
#[derive(Clone)]
pub struct RawMember {
    pub header: tar::Header,
    pub data: Vec<u8>,
}

impl RawMember {
    /// The path stored in the header's name field (no prefix).
    pub fn path(&self) -> String {
        let name = &self.header.as_bytes()[..100];
        let end = name.iter().position(|b| *b == 0).unwrap_or(100);
        String::from_utf8_lossy(&name[..end]).into_owned()
    }

    /// A regular-file member with any path bytes (even `../x` or `/x`).
    pub fn regular(path: &str, data: &[u8], mtime: u64) -> Result<Self> {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(mtime);
        header.set_entry_type(tar::EntryType::Regular);
        let mut m = Self {
            header,
            data: data.to_vec(),
        };
        m.set_path_raw(path)?;
        Ok(m)
    }

    /// A member of another kind (symlink, hard link, device, FIFO…)
    /// pointing at `target`.
    pub fn special(path: &str, kind: tar::EntryType, target: &str, mtime: u64) -> Result<Self> {
        let mut m = Self::regular(path, b"", mtime)?;
        m.header.set_entry_type(kind);
        let t = target.as_bytes();
        if t.len() > 100 {
            bail!("link target too long");
        }
        m.header.as_mut_bytes()[157..157 + t.len()].copy_from_slice(t);
        m.header.set_cksum();
        Ok(m)
    }

    /// Writes `path` into the name field unvalidated (clearing the ustar
    /// prefix), then fixes the checksum.
    pub fn set_path_raw(&mut self, path: &str) -> Result<()> {
        let bytes = path.as_bytes();
        if bytes.len() > 100 {
            bail!("raw paths are limited to 100 bytes");
        }
        let block = self.header.as_mut_bytes();
        block[..100].fill(0);
        block[345..500].fill(0);
        block[..bytes.len()].copy_from_slice(bytes);
        self.header.set_cksum();
        Ok(())
    }

    /// Sets the header's size field (not the data) and fixes the checksum.
    pub fn set_size_field(&mut self, size: u64) {
        self.header.set_size(size);
        self.header.set_cksum();
    }
}

/// Splits a package into raw members (stops at the end-of-archive block).
pub fn parse(bytes: &[u8]) -> Result<Vec<RawMember>> {
    let mut members = Vec::new();
    let mut pos = 0;
    while pos + BLOCK <= bytes.len() {
        let block = &bytes[pos..pos + BLOCK];
        if block.iter().all(|b| *b == 0) {
            break;
        }
        let header = tar::Header::from_byte_slice(block).clone();
        let size = usize::try_from(header.size()?).context("size")?;
        let start = pos + BLOCK;
        let data = bytes
            .get(start..start + size)
            .context("member runs past the end")?
            .to_vec();
        members.push(RawMember { header, data });
        pos = start + size.div_ceil(BLOCK) * BLOCK;
    }
    Ok(members)
}

/// Serialises members with zero padding and the two end blocks.
pub fn serialize(members: &[RawMember]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in members {
        out.extend_from_slice(m.header.as_bytes());
        out.extend_from_slice(&m.data);
        out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
    }
    out.resize(out.len() + 2 * BLOCK, 0);
    out
}

/// A crafted bad package and a fragment its refusal must contain.
pub struct Hostile {
    pub name: String,
    pub bytes: Vec<u8>,
    pub expect: &'static str,
}

/// Rewrites the members of `good` with `edit`.
pub fn edit_members(good: &[u8], edit: impl FnOnce(&mut Vec<RawMember>)) -> Result<Vec<u8>> {
    let mut members = parse(good)?;
    edit(&mut members);
    Ok(serialize(&members))
}

/// The named hostile cases every verifier must refuse, made from a good
/// package `good` and one signed by an untrusted key.
pub fn hostile_packages(good: &[u8], untrusted: &[u8]) -> Result<Vec<Hostile>> {
    let mtime = parse(good)?
        .first()
        .map(|m| m.header.mtime().unwrap_or(0))
        .unwrap_or(0);
    let mut cases = vec![
        Hostile {
            name: "truncated".into(),
            bytes: good[..good.len() / 2].to_vec(),
            expect: "truncated",
        },
        Hostile {
            name: "empty".into(),
            bytes: Vec::new(),
            expect: "not a .hop package",
        },
        Hostile {
            name: "wrong key".into(),
            bytes: untrusted.to_vec(),
            expect: "not trusted",
        },
    ];
    let mut add =
        |name: &str, expect: &'static str, edit: &dyn Fn(&mut Vec<RawMember>)| -> Result<()> {
            cases.push(Hostile {
                name: name.into(),
                bytes: edit_members(good, edit)?,
                expect,
            });
            Ok(())
        };
    add("removed signature", "has no signature", &|m| {
        m.remove(1);
    })?;
    add("extra member", "is not listed in hop.yaml", &|m| {
        if let Ok(extra) = RawMember::regular("rpms/extra.rpm", b"surprise", mtime) {
            m.push(extra);
        }
    })?;
    add("missing last member", "missing from the package", &|m| {
        m.pop();
    })?;
    add(
        "missing middle member",
        "is missing or out of order",
        &|m| {
            m.remove(3);
        },
    )?;
    add("duplicated member", "appears twice", &|m| {
        let copy = m[3].clone();
        m.insert(4, copy);
    })?;
    add("parent path", "climbing out with ..", &|m| {
        let _ = m[2].set_path_raw("../../etc/cron.d/evil");
    })?;
    add("parent path inside payload", "climbing out with ..", &|m| {
        let _ = m[2].set_path_raw("rpms/../../../etc/passwd");
    })?;
    add("dot parent path", "climbing out with ..", &|m| {
        let _ = m[2].set_path_raw("./../etc/passwd");
    })?;
    add("absolute path", "absolute", &|m| {
        let _ = m[2].set_path_raw("/etc/passwd");
    })?;
    add("symlink", "is a symbolic link", &|m| {
        if let Ok(link) =
            RawMember::special("rpms/link", tar::EntryType::Symlink, "/etc/shadow", mtime)
        {
            m.insert(2, link);
        }
    })?;
    add("hardlink", "is a hard link", &|m| {
        if let Ok(link) =
            RawMember::special("rpms/link", tar::EntryType::Link, "/etc/shadow", mtime)
        {
            m.insert(2, link);
        }
    })?;
    add("character device", "is a character device", &|m| {
        if let Ok(dev) = RawMember::special("rpms/dev", tar::EntryType::Char, "", mtime) {
            m.insert(2, dev);
        }
    })?;
    add("fifo", "is a FIFO", &|m| {
        if let Ok(fifo) = RawMember::special("rpms/fifo", tar::EntryType::Fifo, "", mtime) {
            m.insert(2, fifo);
        }
    })?;
    add("pax header", "PAX extended header", &|m| {
        let record = b"30 path=../../etc/cron.d/evil\n";
        if let Ok(mut pax) = RawMember::regular("PaxHeader/evil", record, mtime) {
            pax.header.set_entry_type(tar::EntryType::XHeader);
            pax.header.set_cksum();
            m.insert(2, pax);
        }
    })?;
    add("gnu long name", "GNU long-name header", &|m| {
        if let Ok(mut long) = RawMember::regular("././@LongLink", b"../../../etc/passwd\0", mtime) {
            long.header.set_entry_type(tar::EntryType::GNULongName);
            long.header.set_cksum();
            m.insert(2, long);
        }
    })?;
    add("pax size override", "PAX extended header", &|m| {
        // A PAX record claiming another size for the member that follows.
        let record = b"14 size=99999\n";
        if let Ok(mut pax) = RawMember::regular("PaxHeader/x", record, mtime) {
            pax.header.set_entry_type(tar::EntryType::XHeader);
            pax.header.set_cksum();
            m.insert(3, pax);
        }
    })?;
    add("gnu sparse member", "GNU sparse file", &|m| {
        if let Ok(mut sparse) = RawMember::regular("rpms/sparse.rpm", b"", mtime) {
            sparse.header.set_entry_type(tar::EntryType::GNUSparse);
            sparse.header.set_cksum();
            m.insert(2, sparse);
        }
    })?;
    add("100 MB hop.yaml", "over the 1048576-byte limit", &|m| {
        // Only the size field: the reader must refuse before reading it.
        m[0].set_size_field(100 << 20);
        m.truncate(1);
    })?;
    add("oversized hop.yaml", "over the 1048576-byte limit", &|m| {
        m[0].data = vec![b'#'; 2 << 20];
        m[0].set_size_field(2 << 20);
    })?;
    add("size field disagrees", "bytes but hop.yaml lists", &|m| {
        let size = m[2].data.len() as u64;
        m[2].set_size_field(size + 512);
        m[2].data.extend_from_slice(&[0u8; 512]);
    })?;
    add("huge size field", "bytes but hop.yaml lists", &|m| {
        m[2].set_size_field(10 << 30);
    })?;
    add("replaced member data", "damaged or altered", &|m| {
        if let Some(b) = m[2].data.first_mut() {
            *b ^= 0x20;
        }
    })?;
    Ok(cases)
}

/// `good` with its `hop.yaml` and signature replaced (the payload as it
/// was): a package signed anew, for a hostile manifest or a weak signature.
pub fn resigned(good: &[u8], manifest: &[u8], signature: &[u8]) -> Result<Vec<u8>> {
    let mut members = parse(good)?;
    if members.len() < 2 {
        bail!("the package has no head to replace");
    }
    for (member, data) in members.iter_mut().zip([manifest, signature]) {
        member.data = data.to_vec();
        member.set_size_field(data.len() as u64);
    }
    Ok(serialize(&members))
}

/// A package of exactly this `hop.yaml` and signature and nothing else
/// (for a hostile manifest signed with a trusted key).
pub fn head_only(manifest: &[u8], signature: &[u8], mtime: u64) -> Result<Vec<u8>> {
    Ok(serialize(&[
        RawMember::regular("hop.yaml", manifest, mtime)?,
        RawMember::regular("hop.yaml.asc", signature, mtime)?,
    ]))
}
