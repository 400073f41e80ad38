//! The fuzz loop: pick an operation, mutate its starting request, send it, judge the
//! answer, and keep what breaks an oracle (deduplicated, minimized).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use super::finding::Hit;
use super::mutate::{self, Draft, Mutation, Rng};
use super::oracle::{judge, judge_for, Judge};
use super::seed::{seed_for, Seed};
use super::{Finding, FuzzError, FuzzOptions, FuzzReport, Oracle, Progress};
use crate::runner::http::{Auth, Req, Sent, TransportError};
use crate::runner::Session;
use crate::spec::Spec;

/// One API on one target, with its oracle and the operations fuzzed there.
pub(super) struct Target {
    pub(super) session: Arc<Session>,
    pub(super) spec: Arc<Spec>,
    pub(super) judge: Judge,
    pub(super) seeds: Vec<Seed>,
}

/// A fuzz run over one or more sessions (one per API, as `dialtone run` makes them).
pub struct Fuzzer {
    pub(super) targets: Vec<Target>,
    pub(super) opts: FuzzOptions,
    skipped: BTreeMap<String, usize>,
    /// On a device with `--allow write`: the objects of the fuzzer's own.
    pub(super) own: parking_lot::Mutex<super::own_run::OwnState>,
}

/// A finding's identity: (API, endpoint, method, oracle, status). One of each is kept.
type Key = (String, String, String, Oracle, Option<u16>);

impl Fuzzer {
    /// The operations of every session's specs that may be fuzzed there. Against a device
    /// (not the emulator), only read operations with safe methods are fuzzed, and method
    /// mutations stay among the safe methods; with `--allow write`, also creates, updates
    /// and deletes of objects the fuzzer creates itself (`own`).
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
            own: Default::default(),
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
        let mut seen: HashSet<Key> = HashSet::new();
        let mut answers: BTreeMap<String, u64> = BTreeMap::new();
        let mut fuzzed = 0u64;
        let mut writes = 0u64;
        let mut idle = 0u32;
        self.own_prepare().await;
        loop {
            if self.opts.duration.is_some_and(|d| started.elapsed() >= d)
                || self.opts.max_requests.is_some_and(|m| fuzzed >= m)
            {
                break;
            }
            let t = &self.targets[rng.below(self.targets.len())];
            let Some(seed) = self.own_seed(t, &t.seeds[rng.below(t.seeds.len())]) else {
                // A write seed whose object could not be made: draw another.
                idle += 1;
                if idle > 10_000 {
                    break;
                }
                continue;
            };
            let seed = &seed;
            let (draft, mutations) = self.mutant(&mut rng, seed);
            if !matches!(draft.method.as_str(), "GET" | "HEAD" | "OPTIONS") {
                writes += 1;
            }
            let (sent, verdict) = self.try_once(t, seed, &draft).await;
            fuzzed += 1;
            *answers.entry(answer_class(&sent)).or_default() += 1;
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
                    let hit = Hit {
                        oracle,
                        message,
                        mutations,
                        sent,
                    };
                    findings.push(self.write_up(t, seed, hit, started).await);
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
        let (created, left) = self.own_cleanup().await;
        FuzzReport {
            seed: self.opts.seed,
            fuzzed,
            writes,
            created,
            left,
            requests: self.sent() - sent_before,
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
            operations: self.operations(),
            skipped: self.skipped.clone(),
            answers,
            findings,
        }
    }

    /// One to `max_mutations` mutations of `seed`'s draft, drawn from `rng`; a mutation
    /// that would make the body too large is left out.
    fn mutant(&self, rng: &mut Rng, seed: &Seed) -> (Draft, Vec<Mutation>) {
        let n = 1 + rng.below(self.opts.max_mutations.max(1));
        let mut draft = seed.draft.clone();
        let mut muts = Vec::with_capacity(n);
        for _ in 0..n {
            let m = mutate::draw(rng, &draft, &seed.shape);
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
        (draft, muts)
    }

    /// A new finding: minimized (unless turned off), then written up.
    async fn write_up(&self, t: &Target, seed: &Seed, hit: Hit, started: Instant) -> Finding {
        let found_with = hit.mutations.len();
        let hit = if self.opts.minimize {
            self.minimize(t, seed, hit).await
        } else {
            hit
        };
        self.finding(t, seed, hit, found_with, started.elapsed().as_secs_f64())
    }

    /// Send `draft` as `seed`'s role, judge the answer, and put the emulator back when the
    /// request may have changed it.
    pub(super) async fn try_once(
        &self,
        t: &Target,
        seed: &Seed,
        draft: &Draft,
    ) -> (Sent, Option<(Oracle, String)>) {
        let req = self.request(t, seed, draft);
        let (sent, result) = t.session.client.send(&req).await;
        let mut verdict = judge(&t.judge, &draft.method, &result).or_else(|| {
            super::oracle::judge_answer(&t.judge, &t.spec, &draft.method, &req.target, &result)
        });
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
        } else if write && changed && seed.own.is_some() {
            self.own_after_write(t, seed).await;
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
}

/// The class an answer is counted under: `2xx`, `4xx`, ...; `error` for transport trouble.
fn answer_class(sent: &Sent) -> String {
    match &sent.result {
        Ok(r) => format!("{}xx", r.status / 100),
        Err(_) => "error".into(),
    }
}
