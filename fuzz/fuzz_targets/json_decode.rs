#![no_main]
// See dialtone::fuzzing::json_decode for what this target checks.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dialtone::fuzzing::json_decode(data));
