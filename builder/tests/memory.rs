//! The builder and the verifiers stream: peak memory is the same for a
//! small package and a 512 MiB one (measured with GNU time's max RSS).

use std::path::{Path, PathBuf};
use std::process::Command;

use hop_testdata::fixtures::{Fixtures, require_tool};
use hop_testdata::rpms::RpmSpec;

const MIB: u64 = 1 << 20;

fn fixtures() -> &'static Fixtures {
    Fixtures::get(env!("CARGO_TARGET_TMPDIR"))
}

/// Peak RSS in KiB of `program args`, which must succeed.
fn peak_rss_kib(program: &str, args: &[&Path]) -> u64 {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M", program])
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{program} failed:\n{stderr}");
    stderr
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .expect("GNU time's %M")
}

/// A one-component hop whose RPM carries `payload` bytes.
fn hop_with_rpm_of(dir: &Path, payload: u64) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let mut spec = RpmSpec::new("bulk", "1.0.1").file(
        "/usr/share/bulk/data",
        vec![0u8; payload as usize],
        0o644,
    );
    spec.uncompressed = true;
    spec.build(dir).unwrap();
    let manifest = dir.join("bulk.yaml");
    std::fs::write(
        &manifest,
        "product: bulk\nfrom: 1.0.0\nto: 1.0.1\ncomponents:\n  - {rpm: bulk-1.0.1-1.noarch.rpm, name: bulk, version: 1.0.1}\n",
    )
    .unwrap();
    manifest
}

#[test]
fn peak_memory_is_flat_from_a_small_to_a_512_mib_package() {
    require_tool("time", "time").unwrap();
    let f = fixtures();
    let key = f.vendor_key();
    let mut peaks = Vec::new();
    for (name, payload) in [("small", MIB), ("large", 512 * MIB)] {
        let dir = f.scratch(&format!("memory-{name}")).unwrap();
        let manifest = hop_with_rpm_of(&dir, payload);
        let package = dir.join("bulk.hop");
        let build = peak_rss_kib(
            env!("CARGO_BIN_EXE_hop-build"),
            &[
                Path::new("build"),
                &manifest,
                Path::new("--key"),
                &key.secret,
                Path::new("-o"),
                &package,
            ],
        );
        assert!(std::fs::metadata(&package).unwrap().len() > payload);
        let verify = peak_rss_kib(
            env!("CARGO_BIN_EXE_hop-build"),
            &[
                Path::new("verify"),
                &package,
                Path::new("--key"),
                &key.public,
            ],
        );
        peaks.push((name, build, verify));
        std::fs::remove_dir_all(&dir).unwrap();
    }
    eprintln!("peak RSS (KiB): {peaks:?}");
    let (_, small_build, small_verify) = peaks[0];
    let (_, large_build, large_verify) = peaks[1];
    // Flat: the 512× larger package may cost at most a few MiB more, and
    // far less than the RPM itself.
    assert!(
        large_build <= small_build + 8 * 1024,
        "build: {small_build} KiB → {large_build} KiB"
    );
    assert!(
        large_verify <= small_verify + 8 * 1024,
        "verify: {small_verify} KiB → {large_verify} KiB"
    );
    assert!(
        large_build < 64 * 1024 && large_verify < 64 * 1024,
        "{peaks:?}"
    );
}
