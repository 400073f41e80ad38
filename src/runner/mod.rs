//! The runner: turns the plan into requests against a target and returns results. It never
//! formats output; the `report` module does that from the results alone.

pub mod http;
pub mod result;

pub use result::{RunInfo, RunReport, TestResult, Totals, Verdict};
