//! The functions the fuzz targets (`fuzz/`) and their regression tests
//! (`artifact/tests/fuzz_regressions.rs`) drive: each takes arbitrary
//! bytes and must return without panicking, whatever they hold.

use std::io::Cursor;
use std::sync::OnceLock;

use crate::PackageManifest;
use crate::reader::PackageReader;
use crate::signature::TrustedKeys;
use crate::source_manifest::SourceManifest;

/// hop.yaml: parse and check consistency.
pub fn package_manifest(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(m) = crate::yaml::from_str::<PackageManifest>(text)
    {
        let _ = m.problems();
        let _ = m.title();
    }
}

/// A source manifest: parse.
pub fn source_manifest(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = SourceManifest::parse(text);
    }
}

/// A package: read it untrusted (head and every member), then with a key
/// that signed nothing here, which must refuse it.
pub fn archive(data: &[u8]) {
    if let Ok(reader) = PackageReader::open_untrusted(Cursor::new(data)) {
        let _ = reader.verify();
    }
    if let Ok(reader) = PackageReader::open(Cursor::new(data), stranger()) {
        // Only a signature by the stranger's key could get here, and
        // arbitrary bytes do not carry one.
        let _ = reader.verify();
        panic!("a package not signed by the trusted key was accepted");
    }
}

/// A key that has signed nothing any input could carry.
fn stranger() -> &'static TrustedKeys {
    static KEYS: OnceLock<TrustedKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut keys = TrustedKeys::default();
        if let Ok(key) = crate::signature::generate_key("stranger <stranger@example.invalid>") {
            let _ = keys.add_armored(&key.public, "stranger");
        }
        keys
    })
}
