//! The runner against targets: the `dialtone run` command line, misbehaving targets and
//! proxies, the safety rules on a "real device", property failures under faults, response
//! snapshots (committed under `snapshots/` at the crate root), every emulator fault caught
//! on the rule it breaks, and the network fuzzer.

#[path = "../common/mod.rs"]
mod common;

mod browser;
mod cli;
mod device_safe;
mod fault_catalogue;
mod interrupt;
mod netfuzz;
mod overlays;
mod property_faults;
mod response_snapshots;
mod robustness;
mod safety;
mod steps;
