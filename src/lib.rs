//! dialtone: a conformance suite and fuzzer for the REST management APIs of telecom equipment.
//!
//! The crate is layered so that each layer only reads the ones below it:
//!
//! * [`diag`], [`codec`], [`contract`], [`exit`], [`pattern`]: leaves (diagnostics with
//!   `file:line:col`, body codecs, what the runner and the emulator's control interface
//!   agree on, the exit codes, regular expressions compiled once).
//! * [`spec`]: the spec language (model, loader, checks). Everything else reads a [`spec::Spec`].
//! * [`sample`], [`props`], [`profile`]: values and targets derived from a spec.
//! * [`plan`]: expands a spec into the list of tests it implies, with stable IDs.
//! * [`runner`] (client side) and [`emulator`] (the reference server the runner is tested
//!   against): siblings; neither imports the other.
//! * [`netfuzz`]: `dialtone fuzz`, mutated requests against a target, judged without an
//!   expected answer; built on the runner only (never prints).
//! * [`harness`]: wires runners to local emulators; the libtest-mimic face of a run, shared
//!   by the CLI and `cargo test`.
//! * [`report`]: turns run and fuzz results into terminal, JUnit, JSON and HTML reports
//!   (never sends requests).
//! * [`export`]: writes a spec in other formats (OpenAPI 3.1).
//! * [`fuzzing`]: the fuzz targets (`fuzz/`), replayed by `tests/fuzz_corpora.rs`.
//!
//! Errors in the library are typed (`thiserror`); only the binary uses `anyhow`.

pub mod certify;
pub mod codec;
pub mod contract;
pub mod diag;
pub mod emulator;
pub mod exit;
pub mod export;
pub mod fuzzing;
pub mod harness;
pub mod netfuzz;
pub mod oracle;
pub mod pattern;
pub mod plan;
pub mod profile;
pub mod props;
pub mod report;
pub mod runner;
pub mod sample;
pub mod spec;

/// The harness's old name, kept for the tests and benches that still use it.
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

/// [`load`] with product overlays applied, and what they change in the plan recorded in
/// the spec's `changes`. A deviation that changes no test is an error (O011): an overlay
/// must not hold entries that say nothing about the product.
pub fn load_overlaid(
    path: &Path,
    overlays: &[spec::overlay::Overlay],
) -> Result<spec::Spec, Vec<diag::Diagnostic>> {
    if overlays.is_empty() {
        return load(path);
    }
    let base = load(path)?;
    if let Some(o) = overlays.iter().find(|o| o.meta.spec != base.name()) {
        let mut diags = diag::Diagnostics::default();
        diags.whole_file(
            &o.path,
            "O012",
            format!(
                "overlay `{}` is for spec `{}`, not `{}`",
                o.meta.name,
                o.meta.spec,
                base.name()
            ),
        );
        return Err(diags.sorted());
    }
    let mut overlaid = checked(spec::load_overlaid(path, overlays, None)?)?;
    let mut singles = Vec::new();
    for o in overlays {
        for d in &o.deviations {
            let one = std::slice::from_ref(o);
            singles.push((
                d.id.clone(),
                checked(spec::load_overlaid(path, one, Some(&d.id))?)?,
            ));
        }
    }
    let (changes, unused) = plan::overlay_changes(&base, &overlaid, &singles);
    if !unused.is_empty() {
        let mut diags = diag::Diagnostics::default();
        for o in overlays {
            for d in o.deviations.iter().filter(|d| unused.contains(&d.id)) {
                diags.whole_file(
                    &o.path,
                    "O011",
                    format!(
                        "deviation `{}` changes no test of spec `{}`",
                        d.id,
                        base.name()
                    ),
                );
            }
        }
        return Err(diags.sorted());
    }
    overlaid.changes = changes;
    Ok(overlaid)
}

fn checked(s: spec::Spec) -> Result<spec::Spec, Vec<diag::Diagnostic>> {
    let diags = plan::check_ids(&s);
    if diags.is_empty() {
        Ok(s)
    } else {
        Err(diags)
    }
}
