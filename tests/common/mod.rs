//! Set-up shared by the integration test binaries: a bundled spec by name, the runtimes, a
//! local emulator, a session on it, the run of a few tests against a fresh emulator, the
//! `dialtone` binary and scratch directories.
//!
//! `tests/conformance.rs` and `tests/fuzz_corpora.rs` take it with `mod common;`, the
//! binaries in folders (`tests/spec/`, `tests/runner/`, `tests/emulator/`) with
//! `#[path = "../common/mod.rs"] mod common;`. Each binary uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dialtone::emulator::faults::Faults;
use dialtone::harness::{self, LocalEmulator};
use dialtone::profile::Profile;
use dialtone::runner::{Options, Session, Suite, Test, TestResult};
use dialtone::spec::{self, Spec};
use tokio::runtime::Runtime;

/// The body limit most tests give the emulator and the session: small, so the oversize
/// probe (one byte more) costs little in a debug build.
pub const BODY_LIMIT: usize = 1 << 20;

/// A bundled spec by name; panics with its diagnostics if it does not load.
pub fn spec(name: &str) -> Spec {
    spec::load(&spec::resolve(name)).unwrap_or_else(|d| {
        panic!(
            "bundled spec {name} does not load:\n{}",
            d.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

/// Every bundled spec, in `spec::BUNDLED` order.
pub fn bundled() -> Vec<Spec> {
    spec::BUNDLED.iter().map(|n| spec(n)).collect()
}

/// The runtime that serves local emulators, and in most tests drives the client too:
/// multi-thread, two workers.
pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// A current-thread runtime for the client side, when the emulator runs on a [`runtime`]
/// of its own (as `dialtone run` does it).
pub fn client_runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Emulator faults by name; panics on an unknown one.
pub fn faults(names: &[&str]) -> Faults {
    Faults::parse(names).unwrap_or_else(|e| panic!("{e}"))
}

/// Start the bundled emulator on `rt`, serving `served` with `faults` switched on and
/// bodies capped at `body_limit`; its profile has an account per role.
pub fn start_emulator(
    rt: &Runtime,
    served: Spec,
    faults: &[&str],
    body_limit: usize,
) -> LocalEmulator {
    harness::start_emulator(rt, vec![served], self::faults(faults), body_limit)
        .expect("the emulator starts")
}

/// A session for `profile` over the specs of `suite`.
pub fn session(profile: Profile, suite: &Suite, mut opts: Options) -> Session {
    // As the harness does: the bundled emulator's known gaps are skipped against it.
    if profile.target.emulator && opts.emulator_gaps.is_empty() {
        opts.emulator_gaps = std::sync::Arc::new(dialtone::emulator::known_gaps());
    }
    Session::new(profile, &suite.specs, opts).expect("a session")
}

/// Run the tests of `suite` that `pick` selects, one by one through `Session::run`, against
/// a fresh emulator serving `served` with `faults`: the emulator on a multi-thread
/// [`runtime`], the client on a [`client_runtime`]. The emulator is shut down before this
/// returns the results, in suite order, and the session (for its run info).
pub fn run_against_emulator(
    served: Spec,
    faults: &[&str],
    suite: &Suite,
    opts: Options,
    pick: impl Fn(&Test) -> bool,
) -> (Vec<TestResult>, Session) {
    let rt = runtime();
    let client_rt = client_runtime();
    let local = start_emulator(&rt, served, faults, BODY_LIMIT);
    let session = session(local.profile.clone(), suite, opts);
    let results = suite
        .tests
        .iter()
        .filter(|t| pick(t))
        .map(|t| client_rt.block_on(session.run(t)))
        .collect();
    rt.block_on(local.running.shutdown());
    (results, session)
}

/// The `dialtone` binary with `args`, run from the crate root, with no HTTP proxy from the
/// environment.
pub fn dialtone(args: &[&str]) -> Output {
    dialtone_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

/// The `dialtone` binary with `args`, run in `dir`, with no HTTP proxy from the
/// environment.
pub fn dialtone_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .current_dir(dir)
        .args(args)
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .output()
        .expect("run dialtone")
}

/// `<target>/tmp/<tag>`, created empty.
pub fn scratch_dir(tag: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(tag);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("a scratch directory");
    d
}
