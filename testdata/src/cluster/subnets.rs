//! Subnets for a cluster's nodes, leased across processes: tests of
//! several binaries run at once (`cargo nextest`), and two clusters given
//! one subnet would route each other's nodes. A lease is an exclusive
//! lock on a file naming a block of eight `/24`s (`10.A.B.0`, B in the
//! block); the kernel drops it when the process ends, however it ends.

use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::OpenOptionsExt;

use anyhow::{Context, Result, bail};

/// Nodes a block holds.
pub const BLOCK: u8 = 8;
const FIRST_A: u8 = 100;
const AS: u16 = 100;
const BLOCKS_PER_A: u16 = 32;

/// A held block: `10.{a}.{first + i}.0/24` for node `i`.
#[derive(Debug)]
pub struct Lease {
    pub a: u8,
    pub first: u8,
    _lock: File,
}

impl Lease {
    /// The first free block, searched from one that depends on this
    /// process so that concurrent tests rarely meet.
    pub fn take() -> Result<Self> {
        let total = AS * BLOCKS_PER_A;
        let start = (std::process::id() % u32::from(total)) as u16;
        for step in 0..total {
            let n = (start + step) % total;
            let a = FIRST_A + (n / BLOCKS_PER_A) as u8;
            let first = (n % BLOCKS_PER_A) as u8 * BLOCK;
            let path = std::env::temp_dir().join(format!("hop-test-subnet-{a}-{first}.lock"));
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .custom_flags(nix::libc::O_NOFOLLOW)
                .open(&path)
                .with_context(|| format!("opening {}", path.display()))?;
            match file.try_lock() {
                Ok(()) => {
                    return Ok(Self {
                        a,
                        first,
                        _lock: file,
                    });
                }
                Err(TryLockError::WouldBlock) => continue,
                Err(TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("locking {}", path.display()));
                }
            }
        }
        bail!("every test subnet 10.{FIRST_A}-199.x is leased by a running test")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_leases_held_at_once_are_different_blocks() {
        let one = Lease::take().unwrap();
        let two = Lease::take().unwrap();
        assert_ne!((one.a, one.first), (two.a, two.first));
        let (a, first) = (one.a, one.first);
        drop(one);
        let again = Lease::take().unwrap();
        assert_eq!(
            (again.a, again.first),
            (a, first),
            "a dropped lease is free"
        );
    }
}
