#![no_main]
// See dialtone::fuzzing::paging_params for what this target checks.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dialtone::fuzzing::paging_params(data));
