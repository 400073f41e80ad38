#![no_main]
// See dialtone::fuzzing::kpi_path for what this target checks.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| dialtone::fuzzing::kpi_path(data));
