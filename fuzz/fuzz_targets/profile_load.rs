#![no_main]
// See dialtone::fuzzing::profile_load for what this target checks.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dialtone::fuzzing::profile_load(data));
