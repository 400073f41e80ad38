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
pub mod contract;
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

use std::path::Path;

/// Load a spec file or directory and check it whole: the spec's own checks, then that
/// its explicit rule IDs do not collide with the IDs the plan generates (D006). What the
/// CLI, the harness and the tests call; [`spec::load`] alone cannot run the plan check,
/// because `spec` sits below `plan`.
pub fn load(path: &Path) -> Result<spec::Spec, Vec<diag::Diagnostic>> {
    checked(spec::load(path)?)
}

/// [`load`] for spec text held in memory, named `name` in diagnostics.
pub fn load_str(name: &str, text: &str) -> Result<spec::Spec, Vec<diag::Diagnostic>> {
    checked(spec::load_str(name, text)?)
}

fn checked(s: spec::Spec) -> Result<spec::Spec, Vec<diag::Diagnostic>> {
    let diags = plan::check_ids(&s);
    if diags.is_empty() {
        Ok(s)
    } else {
        Err(diags)
    }
}
