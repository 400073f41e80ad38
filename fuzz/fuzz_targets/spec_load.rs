#![no_main]
// See dialtone::fuzzing::spec_load for what this target checks.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dialtone::fuzzing::spec_load(data));
