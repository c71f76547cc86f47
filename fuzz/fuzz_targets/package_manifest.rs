//! hop.yaml from arbitrary bytes: parse, then the consistency check, as the
//! reader does once a signature checks out. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hop_artifact::fuzzing::package_manifest(data);
});
