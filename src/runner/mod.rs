//! The runner: turns the plan into requests against a target and returns results. It never
//! formats output; the `report` module does that from the results alone.
//!
//! * [`Suite`] (`suite.rs`): the tests of a run, built from the specs' plans (and
//!   `cases/`), in plan order. The same code builds the suite for `dialtone run` and for
//!   `cargo test`.
//! * [`Session`] (`session.rs`): one target, its client and credentials, and the run's
//!   options.
//! * [`Session::run`]: one test, from its requests to its [`TestResult`]; the requests
//!   and their judgement are in `exec/`.

pub mod baseline;
pub mod cases;
pub mod coverage;
mod exec;
pub mod http;
pub mod outcome;
pub mod overlay;
pub mod regress;
pub mod result;
mod session;
pub mod snapshot;
mod suite;
mod wire;

pub use http::{Auth, Client, ClientOptions, Exchange, Req, Resp, Sent};
pub use result::{RunInfo, RunReport, TestResult, Totals, Verdict};
pub use session::{safety_str, Options, Session, SetupError};
pub use suite::{Suite, Test};
