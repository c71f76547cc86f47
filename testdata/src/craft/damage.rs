//! Damage of the kind storage and transfers do: flipped bytes at the
//! places that matter, truncations, swapped and spliced members.

use anyhow::Result;

use super::{BLOCK, parse, serialize};

/// Positions to flip: a stride across the whole file plus every header's
/// key fields, the padding after each member and the end blocks.
pub fn flip_positions(good: &[u8], stride_count: usize) -> Vec<usize> {
    let len = good.len();
    let mut positions: Vec<usize> = (0..stride_count).map(|i| i * len / stride_count).collect();
    let mut pos = 0;
    while pos + BLOCK <= len {
        let block = &good[pos..pos + BLOCK];
        if block.iter().all(|b| *b == 0) {
            positions.extend([pos, pos + 511, pos + BLOCK, len - 1]);
            break;
        }
        // name, mode, size, mtime, checksum, type flag, magic, prefix
        positions.extend([
            pos,
            pos + 100,
            pos + 124,
            pos + 136,
            pos + 148,
            pos + 156,
            pos + 257,
            pos + 345,
        ]);
        let size = tar::Header::from_byte_slice(block).size().unwrap_or(0) as usize;
        let end = pos + BLOCK + size;
        let next = pos + BLOCK + size.div_ceil(BLOCK) * BLOCK;
        if size > 0 {
            positions.extend([pos + BLOCK, end - 1]);
        }
        if next > end {
            positions.push(end);
            positions.push(next - 1);
        }
        pos = next;
    }
    positions.retain(|p| *p < len);
    positions.sort_unstable();
    positions.dedup();
    positions
}

/// How a campaign mutant was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mutation {
    ByteFlips,
    Truncation,
    MemberSwap,
    MemberSplice,
}

/// `count` damaged copies of `good`, reproducibly from `seed`: byte flips,
/// truncations, swapped members, and spliced ones (a member removed,
/// repeated, or its data replaced, or garbage blocks inserted).
pub fn mutants(good: &[u8], seed: u64, count: usize) -> Result<Vec<(Mutation, Vec<u8>)>> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let members = parse(good)?;
    let payload = members.len() - 2;
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let kind = match out.len() % 4 {
            0 => Mutation::ByteFlips,
            1 => Mutation::Truncation,
            2 => Mutation::MemberSwap,
            _ => Mutation::MemberSplice,
        };
        let bytes = match kind {
            Mutation::ByteFlips => {
                let mut b = good.to_vec();
                for _ in 0..rng.gen_range(1..=3) {
                    let at = rng.gen_range(0..b.len());
                    b[at] ^= rng.gen_range(1..=255u8);
                }
                b
            }
            Mutation::Truncation => good[..rng.gen_range(0..good.len())].to_vec(),
            Mutation::MemberSwap => {
                let mut m = members.clone();
                let i = 2 + rng.gen_range(0..payload);
                let j = 2 + rng.gen_range(0..payload);
                if i == j {
                    continue;
                }
                m.swap(i, j);
                serialize(&m)
            }
            Mutation::MemberSplice => {
                let mut m = members.clone();
                let i = 2 + rng.gen_range(0..payload);
                match rng.gen_range(0..4) {
                    0 => {
                        m.remove(i);
                    }
                    1 => {
                        let copy = m[i].clone();
                        m.insert(i, copy);
                    }
                    2 => {
                        let len = m[i].data.len();
                        m[i].data = (0..len).map(|_| rng.r#gen::<u8>()).collect();
                    }
                    _ => {
                        let mut b = serialize(&m);
                        let blocks = b.len() / BLOCK;
                        let at = rng.gen_range(0..blocks) * BLOCK;
                        let garbage: Vec<u8> = (0..BLOCK).map(|_| rng.r#gen::<u8>()).collect();
                        b.splice(at..at, garbage);
                        out.push((kind, b));
                        continue;
                    }
                }
                serialize(&m)
            }
        };
        if bytes != good {
            out.push((kind, bytes));
        }
    }
    Ok(out)
}
