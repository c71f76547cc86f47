//! A whole package from arbitrary bytes through the verifying reader (with
//! and without a trusted key). Must never panic, and never accept a package
//! the trusted key did not sign.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hop_artifact::fuzzing::archive(data);
});
