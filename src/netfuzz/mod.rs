//! `dialtone fuzz`: structural mutations of valid requests, sent over the network to a
//! target, judged by an oracle that needs no expected answer (docs/fuzz.md).
//!
//! * The starting requests are the runner's samples (`crate::sample`), one per operation,
//!   sent as a role the operation allows.
//! * Each fuzzed request applies one to three [`mutate::Mutation`]s drawn from a stream
//!   seeded by [`FuzzOptions::seed`], so a seed replays the same requests.
//! * The oracle ([`Oracle`]): no 5xx, no hang, no dropped connection, a status the spec
//!   documents, a documented content type, errors in one of the API's envelopes.
//! * A finding is minimized (mutations removed one at a time, the body halved) while it
//!   still breaks the same oracle, deduplicated by (endpoint, method, oracle, status), and
//!   kept as a replayable scenario case (`docs/cases.md`) with a `curl` reproducer.
//!
//! Requests go through the runner's [`Session`](crate::runner::Session) and its client: the
//! rate cap, time bound, body cap, credentials and redaction are the runner's. Nothing here
//! prints.
//!
//! The parts: `seed` builds the starting requests, `mutate` edits them, the fuzz
//! loop (`fuzzer`) sends them, `oracle` judges the answers, `finding` minimizes and writes
//! up what broke, and `save` keeps findings as case files.

mod finding;
mod fuzzer;
pub mod mutate;
mod oracle;
mod own;
mod own_run;
mod save;
mod seed;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::exit;
use crate::runner::http::Exchange;
use mutate::Mutation;

pub use fuzzer::Fuzzer;
pub use save::save;

/// How a fuzz run goes.
#[derive(Debug, Clone)]
pub struct FuzzOptions {
    pub seed: u64,
    /// Stop after this long (minimizing a finding may run past it by a bounded amount).
    pub duration: Option<Duration>,
    /// Stop after this many fuzzed requests.
    pub max_requests: Option<u64>,
    /// Stop at the first finding.
    pub stop_at_first: bool,
    /// Minimize findings before reporting them.
    pub minimize: bool,
    /// Most mutations applied to one request.
    pub max_mutations: usize,
    /// Largest request body a mutation may make, in bytes: a mutant above it is not sent.
    /// Bodies above a target's limit test its limit, which `run`'s oversize probe does.
    pub max_request_body: usize,
}

impl Default for FuzzOptions {
    fn default() -> Self {
        FuzzOptions {
            seed: 0x6469_616c_746f_6e65,
            duration: Some(Duration::from_secs(30)),
            max_requests: None,
            stop_at_first: false,
            minimize: true,
            max_mutations: 3,
            max_request_body: 1 << 20,
        }
    }
}

/// The rule an answer broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Oracle {
    /// A 5xx answer.
    #[serde(rename = "no-5xx")]
    No5xx,
    /// No answer within the time bound.
    Hang,
    /// The connection was reset or closed without an answer.
    Connection,
    /// A status the spec never documents.
    Status,
    /// A body in a content type the spec does not document.
    ContentType,
    /// An error answer outside the API's error envelopes.
    ErrorEnvelope,
    /// An answer the response oracle (`crate::oracle`) finds at odds with its schema,
    /// envelope, codes or headers.
    Response,
    /// An answer larger than the body cap (`--max-body`): a target that floods its client.
    #[serde(rename = "too-large")]
    TooLarge,
}

impl Oracle {
    pub fn as_str(self) -> &'static str {
        match self {
            Oracle::No5xx => "no-5xx",
            Oracle::Hang => "hang",
            Oracle::Connection => "connection",
            Oracle::Status => "status",
            Oracle::ContentType => "content-type",
            Oracle::ErrorEnvelope => "error-envelope",
            Oracle::Response => "response",
            Oracle::TooLarge => "too-large",
        }
    }
}

/// One minimized, deduplicated finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub api: String,
    pub endpoint: String,
    /// The operation's method (the request's may be mutated).
    pub method: String,
    pub oracle: Oracle,
    pub status: Option<u16>,
    pub message: String,
    /// The mutations of the minimized request, in order.
    pub mutations: Vec<Mutation>,
    /// How many mutations the request had when it was found.
    pub found_with: usize,
    /// The minimized request and its answer, redacted, with its `curl` reproducer.
    pub exchange: Exchange,
    /// File stem of the saved case.
    pub name: String,
    /// The replayable case (TOML, docs/cases.md).
    pub case: String,
    /// Seconds into the run it was found.
    pub found_after_s: f64,
    /// The minimized request's body, redacted when it is text (saved next to the case
    /// when the reproducer cannot carry it inline).
    #[serde(skip)]
    pub body: Option<Vec<u8>>,
}

/// What a run did and found.
#[derive(Debug, Clone, Serialize)]
pub struct FuzzReport {
    pub seed: u64,
    /// Fuzzed requests (the mutants), not counting minimization and emulator resets.
    pub fuzzed: u64,
    /// Fuzzed requests whose method is not a safe one (GET, HEAD, OPTIONS).
    pub writes: u64,
    /// On a device with `--allow write`: records the fuzzer created (all deleted again,
    /// but for those in `left`).
    pub created: u64,
    /// On a device with `--allow write`: objects the fuzzer created and could not delete
    /// (API, collection and key), still listed when the run ended.
    pub left: Vec<String>,
    /// Every request sent, resets and minimization included.
    pub requests: u64,
    pub duration_ms: f64,
    /// Operations fuzzed, per API.
    pub operations: BTreeMap<String, usize>,
    /// Operations left out, with the reason.
    pub skipped: BTreeMap<String, usize>,
    /// Answers per status class (`2xx`, `4xx`, ...; `error` for transport trouble).
    pub answers: BTreeMap<String, u64>,
    pub findings: Vec<Finding>,
}

impl FuzzReport {
    pub fn requests_per_second(&self) -> f64 {
        if self.duration_ms <= 0.0 {
            0.0
        } else {
            self.requests as f64 * 1000.0 / self.duration_ms
        }
    }
    pub fn per_oracle(&self) -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        for f in &self.findings {
            *m.entry(f.oracle.as_str()).or_default() += 1;
        }
        m
    }
    /// [`exit::FOUND`] with findings, [`exit::CLEAN`] without (as `dialtone run`).
    pub fn exit_code(&self) -> u8 {
        if self.findings.is_empty() {
            exit::CLEAN
        } else {
            exit::FOUND
        }
    }
}

/// Where a run is, for progress bars.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub fuzzed: u64,
    pub requests: u64,
    pub findings: usize,
    pub elapsed: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum FuzzError {
    #[error("nothing to fuzz: {0}")]
    Nothing(String),
}
