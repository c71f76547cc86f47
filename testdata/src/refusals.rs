//! The same refusals asserted of `hop-build verify` and `hop-install
//! verify`: every crafted package, and every flipped byte of a sample,
//! is refused with exit 2 and a message naming the problem.

use std::path::Path;

use crate::craft::{flip_positions, hostile_packages};
use crate::fixtures::Fixtures;

/// What a verifier said: its exit code and its stderr.
pub type Verdict = (i32, String);

/// Asserts `verify` refuses every crafted variant of the 4.0.1 → 4.1.1
/// package (one signed by an untrusted key among them) and every flipped
/// byte of a sample across the 4.1.1 → 4.2.0 one; `name` keeps this
/// verifier's files apart.
pub fn assert_refuses_damaged_packages(
    f: &Fixtures,
    name: &str,
    verify: impl Fn(&Path) -> Verdict,
) {
    let read = |p: &Path| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let untrusted = f.dir().join(format!("untrusted-{name}.hop"));
    f.build(
        &f.manifest("4.0.1", "4.1.1"),
        &f.key("intruder"),
        &untrusted,
    )
    .unwrap_or_else(|e| panic!("cannot build the untrusted package: {e:#}"));
    let scratch = |what: &str| {
        f.scratch(&format!("{what}-{name}"))
            .unwrap_or_else(|e| panic!("{e:#}"))
    };
    assert_refuses_hostile_packages(
        &scratch("crafted"),
        &read(&f.package("4.0.1", "4.1.1")),
        &read(&untrusted),
        &verify,
    );
    assert_refuses_flipped_bytes(
        &scratch("flips"),
        &read(&f.package("4.1.1", "4.2.0")),
        60,
        &verify,
    );
}

/// Writes each hostile variant of `good` into `dir` and asserts `verify`
/// refuses it (exit 2) naming what is wrong; `untrusted` is a good package
/// signed by a key the verifier does not trust.
pub fn assert_refuses_hostile_packages(
    dir: &Path,
    good: &[u8],
    untrusted: &[u8],
    verify: impl Fn(&Path) -> Verdict,
) {
    let cases = hostile_packages(good, untrusted)
        .unwrap_or_else(|e| panic!("cannot craft the hostile packages: {e:#}"));
    for case in cases {
        let path = dir.join("case.hop");
        std::fs::write(&path, &case.bytes).unwrap_or_else(|e| panic!("{e}"));
        let (code, stderr) = verify(&path);
        assert_eq!(
            code, 2,
            "{}: expected exit 2, got {code}\n{stderr}",
            case.name
        );
        assert!(
            stderr.contains(case.expect),
            "{}: {:?} not in\n{stderr}",
            case.name,
            case.expect
        );
    }
}

/// Flips one byte at a time at the positions [`flip_positions`] picks
/// (`strides` across the file, and every header) and asserts `verify`
/// refuses every result (exit 2, "refused").
pub fn assert_refuses_flipped_bytes(
    dir: &Path,
    good: &[u8],
    strides: usize,
    verify: impl Fn(&Path) -> Verdict,
) {
    let positions = flip_positions(good, strides);
    assert!(positions.len() > 100, "only {} positions", positions.len());
    for pos in positions {
        let mut bad = good.to_vec();
        bad[pos] ^= 0xff;
        let path = dir.join("flipped.hop");
        std::fs::write(&path, &bad).unwrap_or_else(|e| panic!("{e}"));
        let (code, stderr) = verify(&path);
        assert_eq!(
            code,
            2,
            "flipping byte {pos} of {} was accepted:\n{stderr}",
            good.len()
        );
        assert!(stderr.contains("refused"), "byte {pos}: {stderr}");
    }
}
