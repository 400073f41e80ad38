//! Fuzz targets: one `pub fn <target>(data: &[u8])` per parser (issue 6).
//!
//! Each function checks invariants with `assert!`, not only the absence of panics: round
//! trips through the matching serializer, agreement between two parsers of the same
//! input, caps, and positions that lie inside the input. The cargo-fuzz crate in `fuzz/`
//! calls them from thin `fuzz_target!`s; `tests/fuzz_corpora.rs` replays the committed
//! corpora and regressions through the same functions on stable, inside `cargo test`.
//! `fuzz/README.md` lists what each target checks and what it found.

mod codecs;
mod emulator;
mod grammar;
mod runner;
mod texts;

use std::sync::OnceLock;

pub use codecs::{csv_decode, json_decode, multipart, xml_decode, zip_upload};
pub use emulator::{emulator, EmuRequest};
pub use grammar::{kpi_path, paging_params, rome_query, PagingInput};
pub use runner::{envelope_decode, EnvelopeInput};
pub use texts::{profile_load, spec_load};

/// A fuzz target: takes the fuzzer's bytes, panics when an invariant breaks.
pub type Target = fn(&[u8]);

/// Every target, by name: what `fuzz/fuzz_targets/<name>.rs` and the corpus directories
/// are called.
pub const TARGETS: &[(&str, Target)] = &[
    ("spec_load", spec_load),
    ("profile_load", profile_load),
    ("json_decode", json_decode),
    ("xml_decode", xml_decode),
    ("csv_decode", csv_decode),
    ("multipart", multipart),
    ("zip_upload", zip_upload),
    ("rome_query", rome_query),
    ("paging_params", paging_params),
    ("kpi_path", kpi_path),
    ("envelope_decode", envelope_decode),
    ("emulator", emulator),
];

/// The bundled specs, loaded once per process.
pub fn bundled_specs() -> &'static [crate::spec::Spec] {
    static SPECS: OnceLock<Vec<crate::spec::Spec>> = OnceLock::new();
    SPECS.get_or_init(|| {
        crate::spec::BUNDLED
            .iter()
            .map(|n| {
                crate::spec::load(&crate::spec::resolve(n))
                    .unwrap_or_else(|d| panic!("bundled spec {n} does not load: {d:?}"))
            })
            .collect()
    })
}

/// Runs a future to completion on a current-thread runtime built once per thread.
pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    thread_local! {
        static RT: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime");
    }
    RT.with(|rt| rt.block_on(f))
}

/// 1-based line and column of a `line L, column C` location, if it is one.
fn line_col(location: &str) -> Option<(usize, usize)> {
    let rest = location.strip_prefix("line ")?;
    let (l, c) = rest.split_once(", column ")?;
    Some((l.parse().ok()?, c.parse().ok()?))
}

/// Asserts that a 1-based line:col lies inside `text` (or just after its last character).
/// Columns are counted in bytes here, the loosest of the counts the parsers use
/// (serde_json counts bytes, the XML decoder and the spec loader count characters).
fn assert_inside(text: &[u8], line: usize, col: usize, what: &dyn std::fmt::Display) {
    let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    assert!(
        line >= 1 && line <= lines.len(),
        "{what}: line {line} is outside the input ({} lines)",
        lines.len()
    );
    let chars = lines[line - 1].len();
    assert!(
        col >= 1 && col <= chars + 1,
        "{what}: column {col} is outside line {line} ({chars} bytes)"
    );
}
