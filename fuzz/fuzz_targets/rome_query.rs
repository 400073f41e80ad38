#![no_main]
// See dialtone::fuzzing::rome_query for what this target checks.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dialtone::fuzzing::rome_query(data));
