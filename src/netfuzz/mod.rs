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
//! Requests go through the runner's [`Session`] and its client: the rate cap, time bound,
//! body cap, credentials and redaction are the runner's. Nothing here prints.

pub mod mutate;
mod save;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::runner::http::{Auth, Exchange, Req, Resp, Sent, TransportError};
use crate::runner::{outcome, Session};
use crate::spec::model::{Operation, Safety};
use crate::spec::Spec;
use mutate::{Draft, Mutation, Piece, Rng, Shape};

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
    /// 1 with findings, 0 without (as `dialtone run`).
    pub fn exit_code(&self) -> u8 {
        u8::from(!self.findings.is_empty())
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

/// One operation's starting request.
#[derive(Debug, Clone)]
struct Seed {
    endpoint: String,
    method: String,
    role: String,
    draft: Draft,
    shape: Shape,
    /// Base name of the endpoint, for the saved case.
    base: Option<String>,
    base_path: String,
    read: bool,
    source: String,
}

/// What an API's answers may be, from its spec.
#[derive(Debug, Clone, Default)]
struct Judge {
    statuses: BTreeSet<u16>,
    /// Content types of documented bodies (success and error).
    content_types: Vec<String>,
    /// Content types of the error envelopes.
    error_types: Vec<String>,
}

struct Target {
    session: Arc<Session>,
    spec: Arc<Spec>,
    judge: Judge,
    seeds: Vec<Seed>,
}

/// A fuzz run over one or more sessions (one per API, as `dialtone run` makes them).
pub struct Fuzzer {
    targets: Vec<Target>,
    opts: FuzzOptions,
    skipped: BTreeMap<String, usize>,
}

/// Statuses of HTTP itself, which any server may answer whatever its API documents: a
/// request it cannot read (RFC 9110 §15.5.1), a body too large (§15.5.14) or in a media
/// type it does not take (§15.5.16), a target too long (§15.5.15), headers too large
/// (RFC 6585 §5). The emulator's own fallbacks are among them.
const PROTOCOL_STATUSES: [u16; 5] = [400, 413, 414, 415, 431];

/// Methods the fuzzer sends against the emulator; against a device, only the safe ones.
const ALL_METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "DIALTONE",
];
const SAFE_METHODS: [&str; 3] = ["GET", "HEAD", "OPTIONS"];

impl Fuzzer {
    /// The operations of every session's specs that may be fuzzed there. Against a device
    /// (not the emulator), only read operations with safe methods are fuzzed, and method
    /// mutations stay among the safe methods.
    pub fn new(sessions: Vec<Arc<Session>>, opts: FuzzOptions) -> Result<Fuzzer, FuzzError> {
        let mut targets = Vec::new();
        let mut skipped = BTreeMap::new();
        for session in sessions {
            for spec in session.specs.values() {
                let judge = judge_for(spec);
                let mut seeds = Vec::new();
                for ep in spec.endpoints() {
                    for op in &ep.op {
                        match seed_for(&session, spec, ep, op) {
                            Ok(s) => seeds.push(s),
                            Err(why) => *skipped.entry(why.to_string()).or_default() += 1,
                        }
                    }
                }
                if !seeds.is_empty() {
                    targets.push(Target {
                        session: session.clone(),
                        spec: spec.clone(),
                        judge,
                        seeds,
                    });
                }
            }
        }
        if targets.is_empty() {
            return Err(FuzzError::Nothing(format!(
                "no operation may be fuzzed on this target ({})",
                skipped
                    .iter()
                    .map(|(k, v)| format!("{v} {k}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            )));
        }
        Ok(Fuzzer {
            targets,
            opts,
            skipped,
        })
    }

    /// Operations that will be fuzzed, per API.
    pub fn operations(&self) -> BTreeMap<String, usize> {
        self.targets
            .iter()
            .map(|t| (t.spec.name().to_string(), t.seeds.len()))
            .collect()
    }

    fn sent(&self) -> u64 {
        let mut seen = HashSet::new();
        self.targets
            .iter()
            .filter(|t| seen.insert(Arc::as_ptr(&t.session)))
            .map(|t| t.session.client.sent())
            .sum()
    }

    /// Fuzz until the duration or request budget is spent (or the first finding, with
    /// `stop_at_first`). `progress` sees every request.
    pub async fn run(&self, progress: &mut dyn FnMut(&Progress)) -> FuzzReport {
        let started = Instant::now();
        let sent_before = self.sent();
        let mut rng = Rng::new(self.opts.seed);
        let mut findings: Vec<Finding> = Vec::new();
        let mut seen: HashSet<(String, String, String, Oracle, Option<u16>)> = HashSet::new();
        let mut answers: BTreeMap<String, u64> = BTreeMap::new();
        let mut fuzzed = 0u64;
        loop {
            if self.opts.duration.is_some_and(|d| started.elapsed() >= d)
                || self.opts.max_requests.is_some_and(|m| fuzzed >= m)
            {
                break;
            }
            let t = &self.targets[rng.below(self.targets.len())];
            let seed = &t.seeds[rng.below(t.seeds.len())];
            let n = 1 + rng.below(self.opts.max_mutations.max(1));
            let mut draft = seed.draft.clone();
            let mut muts = Vec::with_capacity(n);
            for _ in 0..n {
                let m = mutate::draw(&mut rng, &draft, &seed.shape);
                let mut next = draft.clone();
                m.apply(&mut next);
                if next
                    .body
                    .as_ref()
                    .is_some_and(|b| b.len() > self.opts.max_request_body)
                {
                    continue;
                }
                draft = next;
                muts.push(m);
            }
            let (sent, verdict) = self.try_once(t, seed, &draft).await;
            fuzzed += 1;
            *answers
                .entry(match &sent.result {
                    Ok(r) => format!("{}xx", r.status / 100),
                    Err(_) => "error".into(),
                })
                .or_default() += 1;
            // A dropped connection or a hang is confirmed on a fresh attempt: a pooled
            // connection the server closed a moment ago fails the same way once.
            let verdict = match verdict {
                Some((Oracle::Connection | Oracle::Hang, _)) => {
                    self.try_once(t, seed, &draft).await.1
                }
                v => v,
            };
            if let Some((oracle, message)) = verdict {
                let status = sent.result.as_ref().ok().map(|r| r.status);
                let key = (
                    t.spec.name().to_string(),
                    seed.endpoint.clone(),
                    seed.method.clone(),
                    oracle,
                    status,
                );
                if seen.insert(key) {
                    let found_with = muts.len();
                    let (muts, sent, message) = if self.opts.minimize {
                        self.minimize(t, seed, muts, oracle, sent, message).await
                    } else {
                        (muts, sent, message)
                    };
                    findings.push(self.finding(
                        t,
                        seed,
                        oracle,
                        message,
                        muts,
                        found_with,
                        &sent,
                        started.elapsed().as_secs_f64(),
                    ));
                }
            }
            progress(&Progress {
                fuzzed,
                requests: self.sent() - sent_before,
                findings: findings.len(),
                elapsed: started.elapsed(),
            });
            if self.opts.stop_at_first && !findings.is_empty() {
                break;
            }
        }
        FuzzReport {
            seed: self.opts.seed,
            fuzzed,
            requests: self.sent() - sent_before,
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
            operations: self.operations(),
            skipped: self.skipped.clone(),
            answers,
            findings,
        }
    }

    /// Send `draft` as `seed`'s role, judge the answer, and put the emulator back when the
    /// request may have changed it.
    async fn try_once(
        &self,
        t: &Target,
        seed: &Seed,
        draft: &Draft,
    ) -> (Sent, Option<(Oracle, String)>) {
        let req = self.request(t, seed, draft);
        let (sent, result) = t.session.client.send(&req).await;
        let mut verdict = judge(&t.judge, &draft.method, &result);
        // A server may refuse a large body by answering and closing while the client is
        // still writing it (the emulator does for bodies over its limit); the client then
        // sees a broken pipe, not the answer.
        if let (Some((Oracle::Connection, _)), Err(TransportError::Other(m))) = (&verdict, &result)
        {
            if m.contains("writing a body")
                && draft.body.as_ref().is_some_and(|b| b.len() >= 1 << 16)
            {
                verdict = None;
            }
        }
        let write = !matches!(draft.method.as_str(), "GET" | "HEAD" | "OPTIONS");
        let changed = match &result {
            Ok(r) => r.status < 400 || r.status >= 500,
            Err(_) => true,
        };
        if t.session.emulator() && write && changed {
            let reset = Req::new("POST", crate::contract::Control::Reset.path());
            let _ = t.session.client.send(&reset).await;
        }
        (sent, verdict)
    }

    fn request(&self, t: &Target, seed: &Seed, d: &Draft) -> Req {
        let mut req = Req::new(&d.method, d.target());
        req.who = seed.role.clone();
        // Pushed as they are: a mutation may send a header twice.
        req.headers = d.headers.clone();
        if let Some(ct) = &d.content_type {
            req.headers.push(("Content-Type".into(), ct.clone()));
        }
        req.body = d.body.clone();
        req.auth = match t.session.auth(t.spec.name(), &seed.role) {
            Some(a) => a.clone(),
            None => Auth::None,
        };
        req
    }

    /// Remove mutations one at a time, then halve the body, while the request still
    /// breaks `oracle`. At most 64 extra requests.
    async fn minimize(
        &self,
        t: &Target,
        seed: &Seed,
        mut muts: Vec<Mutation>,
        oracle: Oracle,
        mut sent: Sent,
        mut message: String,
    ) -> (Vec<Mutation>, Sent, String) {
        let mut budget = 64;
        let build = |ms: &[Mutation]| {
            let mut d = seed.draft.clone();
            for m in ms {
                m.apply(&mut d);
            }
            d
        };
        let mut i = 0;
        while i < muts.len() && budget > 0 {
            let mut fewer = muts.clone();
            fewer.remove(i);
            budget -= 1;
            let d = build(&fewer);
            if d.body
                .as_ref()
                .is_some_and(|b| b.len() > self.opts.max_request_body)
            {
                i += 1;
                continue;
            }
            let (s, v) = self.try_once(t, seed, &d).await;
            match v {
                Some((o, m)) if o == oracle => {
                    muts = fewer;
                    sent = s;
                    message = m;
                }
                _ => i += 1,
            }
        }
        for _ in 0..8 {
            let d = build(&muts);
            if budget == 0 || d.body.as_ref().is_none_or(|b| b.len() < 16) {
                break;
            }
            let mut shorter = muts.clone();
            match shorter.last_mut() {
                Some(Mutation::Truncate { keep_percent }) if *keep_percent > 1 => {
                    *keep_percent /= 2
                }
                _ => shorter.push(Mutation::Truncate { keep_percent: 50 }),
            }
            budget -= 1;
            let (s, v) = self.try_once(t, seed, &build(&shorter)).await;
            match v {
                Some((o, m)) if o == oracle => {
                    muts = shorter;
                    sent = s;
                    message = m;
                }
                _ => break,
            }
        }
        (muts, sent, message)
    }

    #[allow(clippy::too_many_arguments)]
    fn finding(
        &self,
        t: &Target,
        seed: &Seed,
        oracle: Oracle,
        message: String,
        mutations: Vec<Mutation>,
        found_with: usize,
        sent: &Sent,
        found_after_s: f64,
    ) -> Finding {
        let client = &t.session.client;
        let status = sent.result.as_ref().ok().map(|r| r.status);
        let name = save::name(t.spec.name(), &seed.endpoint, &seed.method, oracle, status);
        let mut d = seed.draft.clone();
        for m in &mutations {
            m.apply(&mut d);
        }
        let case = save::case_text(
            &t.spec,
            &t.judge_view(),
            &save::CaseInput {
                name: &name,
                endpoint: &seed.endpoint,
                op_method: &seed.method,
                role: &seed.role,
                base: seed.base.as_deref(),
                base_path: &seed.base_path,
                read: seed.read,
                source: &seed.source,
                oracle,
                status,
                message: &client.redact(&message),
                mutations: &mutations,
                draft: &d,
                seed: self.opts.seed,
            },
            &|s| client.redact(s),
        );
        Finding {
            api: t.spec.name().to_string(),
            endpoint: seed.endpoint.clone(),
            method: seed.method.clone(),
            oracle,
            status,
            message: client.redact(&message),
            mutations,
            found_with,
            exchange: client.exchange(sent),
            name,
            case,
            found_after_s,
            body: d.body.as_ref().map(|b| match std::str::from_utf8(b) {
                Ok(t) => client.redact(t).into_bytes(),
                Err(_) => b.clone(),
            }),
        }
    }
}

impl Target {
    fn judge_view(&self) -> save::JudgeView<'_> {
        save::JudgeView {
            statuses: &self.judge.statuses,
            content_types: &self.judge.content_types,
            error_types: &self.judge.error_types,
        }
    }
}

/// The oracle: what is wrong with this answer, if anything.
fn judge(
    j: &Judge,
    method: &str,
    result: &Result<Resp, TransportError>,
) -> Option<(Oracle, String)> {
    let r = match result {
        Ok(r) => r,
        Err(TransportError::Timeout(d)) => {
            return Some((Oracle::Hang, format!("no answer within {d:?}")))
        }
        Err(TransportError::TooLarge(_)) => return None,
        Err(e) => {
            return Some((
                Oracle::Connection,
                format!("the connection ended without an answer: {e}"),
            ))
        }
    };
    if r.status >= 500 {
        return Some((
            Oracle::No5xx,
            format!("status {} for a malformed request", r.status),
        ));
    }
    if !j.statuses.contains(&r.status) && !PROTOCOL_STATUSES.contains(&r.status) {
        return Some((
            Oracle::Status,
            format!("status {} is not one the spec documents", r.status),
        ));
    }
    if r.body.is_empty() || method == "HEAD" {
        return None;
    }
    let ct = outcome::essence(r.content_type());
    if !j.content_types.iter().any(|c| outcome::same_family(c, &ct)) {
        return Some((
            Oracle::ContentType,
            format!(
                "a body of type `{ct}`; documented: {}",
                j.content_types.join(", ")
            ),
        ));
    }
    if r.status >= 400 && !j.error_types.is_empty() {
        if !j.error_types.iter().any(|c| outcome::same_family(c, &ct)) {
            return Some((
                Oracle::ErrorEnvelope,
                format!(
                    "an error answer of type `{ct}`, not one of the error envelopes ({})",
                    j.error_types.join(", ")
                ),
            ));
        }
        if (ct.contains("json") || ct.contains("xml")) && outcome::parse(r).is_err() {
            return Some((
                Oracle::ErrorEnvelope,
                format!("an error answer of type `{ct}` that does not parse"),
            ));
        }
    }
    None
}

fn judge_for(spec: &Spec) -> Judge {
    let mut statuses = BTreeSet::new();
    for e in crate::plan::plan(spec) {
        for x in &e.expect {
            statuses.insert(x.status);
        }
    }
    for c in spec.codes() {
        statuses.insert(c.status);
    }
    let mut content_types: Vec<String> = Vec::new();
    let mut error_types: Vec<String> = Vec::new();
    let add = |v: &mut Vec<String>, c: &str| {
        let c = outcome::essence(c);
        if !c.is_empty() && !v.contains(&c) {
            v.push(c);
        }
    };
    for env in spec.envelopes() {
        add(&mut content_types, &env.content_type);
        add(&mut error_types, &env.content_type);
    }
    for ep in spec.endpoints() {
        for op in &ep.op {
            if let Some(r) = &op.response {
                for c in &r.content_types {
                    add(&mut content_types, c);
                }
            }
        }
    }
    Judge {
        statuses: statuses.into_iter().filter(|s| *s < 500).collect(),
        content_types,
        error_types,
    }
}

/// Why an operation is not fuzzed.
#[derive(Debug, Clone, Copy)]
enum Skip {
    Unsafe,
    NoAccount,
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Skip::Unsafe => {
                "operations that are not read-only (a device is fuzzed with safe methods only)"
            }
            Skip::NoAccount => {
                "operations with no account in the profile for a role allowed to call them"
            }
        })
    }
}

fn seed_for(
    session: &Session,
    spec: &Spec,
    ep: &crate::spec::model::Endpoint,
    op: &Operation,
) -> Result<Seed, Skip> {
    let method = op.method.get_ref().to_ascii_uppercase();
    let read = Spec::safety(op) == Safety::Read;
    let emulator = session.emulator();
    let device_safe = read && SAFE_METHODS.contains(&method.as_str());
    if !emulator && !device_safe {
        return Err(Skip::Unsafe);
    }
    let api = spec.name();
    let role = spec
        .roles_by_rank()
        .into_iter()
        .filter(|r| spec.allows(op, r))
        .map(|r| r.name.get_ref().clone())
        .find(|r| session.auth(api, r).is_some())
        .or_else(|| op.public.then(|| crate::plan::NO_CREDENTIALS.to_string()))
        .ok_or(Skip::NoAccount)?;
    let params = std::cell::RefCell::new(Vec::new());
    let path = crate::sample::path_with(spec, ep, &|name, v| {
        params.borrow_mut().push((name.to_string(), v.clone()));
        format!("\u{0}{name}\u{0}")
    });
    let params = params.into_inner();
    let mut pieces = Vec::new();
    for (i, part) in path.split('\u{0}').enumerate() {
        if i % 2 == 0 {
            if !part.is_empty() {
                pieces.push(Piece::Lit(part.to_string()));
            }
        } else {
            let value = params
                .iter()
                .find(|(n, _)| n == part)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            pieces.push(Piece::Param {
                name: part.to_string(),
                value,
            });
        }
    }
    let full = crate::sample::target(spec, ep, op);
    let query: Vec<(String, String)> = full
        .split_once('?')
        .map(|(_, q)| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default();
    let auth = spec.auth();
    let mut headers: Vec<(String, String)> = auth
        .required_headers
        .iter()
        .filter(|(h, _)| !h.eq_ignore_ascii_case("content-type"))
        .map(|(h, v)| (h.clone(), v.clone()))
        .collect();
    if let Some(accept) = op.response.as_ref().and_then(|r| r.content_types.first()) {
        headers.push(("Accept".into(), accept.clone()));
    }
    let (content_type, body) = match crate::sample::body(spec, op) {
        Some((ct, b)) => (Some(ct), Some(b)),
        None => (
            auth.required_headers
                .iter()
                .find(|(h, _)| h.eq_ignore_ascii_case("content-type"))
                .map(|(_, v)| v.clone()),
            None,
        ),
    };
    let req = op.request.as_ref().filter(|r| !r.empty);
    let pagination = op
        .pagination
        .as_ref()
        .and_then(|p| spec.pagination(p.get_ref()));
    let paging: Vec<String> = pagination
        .map(|p| p.params.values().cloned().collect())
        .unwrap_or_default();
    let shape = Shape {
        has_body: req.is_some(),
        multipart: req.is_some_and(|r| r.content_types.iter().any(|c| c.starts_with("multipart/"))),
        zip: req.is_some_and(|r| r.content_types.iter().any(|c| c.contains("zip"))),
        query: op
            .query
            .keys()
            .filter(|k| !paging.contains(k))
            .cloned()
            .collect(),
        paging,
        params: params.iter().map(|(n, _)| n.clone()).collect(),
        methods: if emulator {
            ALL_METHODS.iter().map(|m| m.to_string()).collect()
        } else {
            SAFE_METHODS.iter().map(|m| m.to_string()).collect()
        },
    };
    Ok(Seed {
        endpoint: ep.id.get_ref().clone(),
        method: method.clone(),
        role,
        draft: Draft {
            method,
            pieces,
            query,
            headers,
            content_type,
            body,
        },
        shape,
        base: ep.base.as_ref().map(|b| b.get_ref().clone()),
        base_path: spec.base_of(ep).to_string(),
        read,
        source: op
            .provenance
            .source
            .clone()
            .unwrap_or_else(|| "inferred".into()),
    })
}
