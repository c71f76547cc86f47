//! A release engineer's source manifest from arbitrary bytes. Must never
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hop_artifact::fuzzing::source_manifest(data);
});
