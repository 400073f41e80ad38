//! What a run produces: one [`TestResult`] per test, gathered in a [`RunReport`]. Reports
//! read these and nothing else; the JSON report is this structure, serialised
//! (schema: `docs/report-format.md`).

use serde::{Deserialize, Serialize};

use super::http::Exchange;

/// Version of the JSON report schema. Bumped on any incompatible change.
pub const SCHEMA: &str = "dialtone-run/1";

/// The verdict of one test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The target did what the rule asks.
    Pass,
    /// The target did not: a non-conformance, with evidence.
    Fail,
    /// The test could not decide: transport trouble, a garbled answer, a harness problem.
    Error,
    /// The test was not run; `message` says why.
    Skip,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
            Verdict::Skip => "skip",
        }
    }
}

/// The result of one test.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TestResult {
    /// Test id, as `dialtone list` prints it.
    pub id: String,
    /// The rule the test checks.
    pub rule: String,
    /// Rule kind: `matrix`, `completeness`, `cursor`, `format`, `state`, `case`, ...
    pub kind: String,
    pub api: String,
    /// `must`, `should` or `may`.
    pub level: String,
    /// `read`, `write` or `disruptive`.
    pub safety: String,
    /// Where the rule comes from: a document section, or `inferred: why`.
    pub source: String,
    pub summary: String,
    pub verdict: Verdict,
    /// Why the test failed, errored or was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// A deviation that lenient mode lets pass (a should-level rule, a non-preferred
    /// outcome); `--strict` fails it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// What the response oracle found wrong with the answers, each naming the request
    /// (`exchange`, 0-based), the place in the body, the constraint, the value and the spec
    /// element it comes from (`docs/report-format.md`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<crate::oracle::Finding>,
    /// A known failure: the reason the baseline (`--baseline`) gives. The verdict stands;
    /// the test does not count towards the exit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known: Option<String>,
    /// The product-overlay deviations that changed this test (`--overlay`): it was run
    /// as the product differs from its document, and its verdict stands.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deviations: Vec<String>,
    /// The requests sent and answers received, credentials redacted. Kept for every
    /// test that did not pass, and for passes only when asked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exchanges: Vec<Exchange>,
    pub duration_ms: f64,
}

/// Everything about a run that is not a test result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunInfo {
    pub schema: String,
    pub dialtone_version: String,
    /// Target base URL (user info removed).
    pub target: String,
    /// The target is dialtone's own emulator.
    pub emulator: bool,
    /// `lenient` or `strict`.
    pub mode: String,
    /// Safety classes allowed: always `read`; `write` and `disruptive` when allowed.
    pub allow: Vec<String>,
    pub specs: Vec<String>,
    /// Start time, seconds since the Unix epoch.
    pub started_unix: u64,
    pub duration_ms: f64,
    /// Requests sent in all.
    pub requests: u64,
    /// Seed of the property tests (`--seed` reproduces the run's values).
    pub seed: u64,
    /// Generated cases per property test (`--cases`).
    pub cases: u32,
    /// Seconds the property tests of one API may take in all (`--time-budget`).
    pub time_budget_s: f64,
    /// The shard this run was (`run --partition`), if it was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
}

/// A whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    #[serde(flatten)]
    pub info: RunInfo,
    pub results: Vec<TestResult>,
    /// What the baseline did, when the run had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<super::baseline::BaselineOutcome>,
    /// Coverage by document section and digest number (`docs/report-format.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<super::coverage::Coverage>,
    /// The product overlays the run was made under (`--overlay`), with what they changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overlays: Vec<super::overlay::OverlayRecord>,
}

/// Totals by verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub pass: usize,
    pub fail: usize,
    pub error: usize,
    pub skip: usize,
    /// Passes that carry a lenient-mode note.
    pub noted: usize,
    /// Failures and errors the baseline knows (counted here, not in `fail` or `error`).
    pub known: usize,
}

impl Totals {
    pub fn add(&mut self, r: &TestResult) {
        if r.known.is_some() && matches!(r.verdict, Verdict::Fail | Verdict::Error) {
            self.known += 1;
            return;
        }
        match r.verdict {
            Verdict::Pass => self.pass += 1,
            Verdict::Fail => self.fail += 1,
            Verdict::Error => self.error += 1,
            Verdict::Skip => self.skip += 1,
        }
        if r.verdict == Verdict::Pass && r.note.is_some() {
            self.noted += 1;
        }
    }
    pub fn total(&self) -> usize {
        self.pass + self.fail + self.error + self.skip + self.known
    }
}

impl RunReport {
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for r in &self.results {
            t.add(r);
        }
        t
    }

    /// The documented exit code: 0 conformant, 1 non-conformance found, 2 no failure but
    /// errors (the target or the harness kept a test from deciding).
    pub fn exit_code(&self) -> u8 {
        let t = self.totals();
        if t.fail > 0 {
            EXIT_NONCONFORMANT
        } else if t.error > 0 {
            EXIT_ERROR
        } else {
            EXIT_OK
        }
    }
}

// The exit codes of `dialtone run`, from the one table of them.
use crate::exit::{CLEAN as EXIT_OK, ERROR as EXIT_ERROR, FOUND as EXIT_NONCONFORMANT};
