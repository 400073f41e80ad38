//! dialtone: a conformance suite and fuzzer for the REST management APIs of telecom equipment.
//!
//! The crate is layered so that each layer only reads the one below it:
//!
//! * [`spec`]: the spec language (model, loader, checks). Everything else reads a [`spec::Spec`].
//! * [`plan`]: expands a spec into the list of tests it implies, with stable IDs.
//! * [`export`]: writes a spec in other formats (OpenAPI 3.1).
//! * [`runner`]: runs the plan against a target and returns results (never formats them).
//! * [`report`]: turns results into terminal, JUnit and JSON reports (never sends requests).
//! * [`present`]: the libtest-mimic face of a run, shared by the CLI and `cargo test`.
//! * [`netfuzz`]: `dialtone fuzz`, mutated requests against a target, judged without an
//!   expected answer (never prints).
//! * [`emulator`]: the reference emulator the runner is tested against.
//! * [`diag`]: diagnostics with `file:line:col`.
//! * [`fuzzing`]: the fuzz targets (`fuzz/`), replayed by `tests/fuzz_corpora.rs`.
//!
//! Errors in the library are typed (`thiserror`); only the binary uses `anyhow`.

pub mod codec;
pub mod diag;
pub mod emulator;
pub mod export;
pub mod fuzzing;
pub mod netfuzz;
pub mod plan;
pub mod present;
pub mod profile;
pub mod props;
pub mod report;
pub mod runner;
pub mod sample;
pub mod spec;
