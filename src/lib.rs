//! dialtone: a conformance suite and fuzzer for the REST management APIs of telecom equipment.
//!
//! The crate is layered so that each layer only reads the one below it:
//!
//! * [`spec`]: the spec language (model, loader, checks). Everything else reads a [`spec::Spec`].
//! * [`plan`]: expands a spec into the list of tests it implies, with stable IDs.
//! * [`export`]: writes a spec in other formats (OpenAPI 3.1).
//! * [`diag`]: diagnostics with `file:line:col`.
//!
//! Errors in the library are typed (`thiserror`); only the binary uses `anyhow`.

pub mod diag;
pub mod emulator;
pub mod export;
pub mod plan;
pub mod profile;
pub mod sample;
pub mod spec;
