//! One target under test: the [`Session`] with its client, credentials and run
//! [`Options`]; what keeps a test from running there ([`Session::precheck`]); and
//! [`Session::run`], which plays one test and turns its judgement into a [`TestResult`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indexmap::IndexMap;

use super::http::{self, Auth, Client, ClientOptions};
use super::result::{self, RunInfo, TestResult, Verdict};
use super::{exec, regress, snapshot, Test};
use crate::plan;
use crate::profile::{Profile, ProfileError};
use crate::spec::model::Safety;
use crate::spec::Spec;

/// Run options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Enforce should-level rules and the preferred outcome of every cell.
    pub strict: bool,
    /// Run write tests against a target that is not the emulator.
    pub allow_write: bool,
    /// Run disruptive tests (resets, firmware, full replaces) against such a target.
    pub allow_disruptive: bool,
    pub client: ClientOptions,
    /// The request body size above which a target must refuse (the oversize probe sends one
    /// byte more). The emulator's default limit.
    pub body_limit: usize,
    /// Prefix of every object the runner creates.
    pub prefix: String,
    /// Longest a single test may take, all its requests included.
    pub test_budget: Duration,
    /// Keep the exchanges of passing tests too.
    pub keep_passing_evidence: bool,
    /// Largest number of pages a cursor walk follows before it gives up.
    pub max_pages: usize,
    /// Seed of the property tests' random values; a run with the same seed sends the same
    /// values.
    pub seed: u64,
    /// Generated cases per property test.
    pub cases: u32,
    /// Record snapshots into a directory, or compare with the ones there.
    pub snapshots: Option<snapshot::Snapshots>,
    /// Time the property and stateful tests of one API may take in all; once it is used
    /// up, each property test stops generating cases after its first (the report notes how
    /// many ran).
    pub time_budget: Duration,
    /// Store each failing property case here (`regress`), to be replayed first next time.
    pub regressions: Option<std::path::PathBuf>,
    /// Set when the run is interrupted (Ctrl-C): tests not yet started are error verdicts
    /// that send nothing; the test in flight finishes and cleans up.
    pub stop: Option<Arc<std::sync::atomic::AtomicBool>>,
    /// After this many requests in a row without an answer, the target is taken for gone:
    /// the remaining tests are error verdicts without a request (0: never).
    pub stop_after_errors: u64,
    /// Judge every answer with the response oracle (`crate::oracle`). Always on in
    /// `dialtone run`; off only to measure what the oracle costs (`benches/runner.rs`).
    pub response_oracle: bool,
    /// Against the bundled emulator: tests whose rule it does not answer as documented yet,
    /// with the reason (the bundled emulator's own list, handed over by the harness).
    pub emulator_gaps: Arc<indexmap::IndexMap<String, crate::contract::Gap>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            strict: false,
            allow_write: false,
            allow_disruptive: false,
            client: ClientOptions::default(),
            body_limit: crate::contract::DEFAULT_MAX_BODY,
            prefix: "dialtone-".into(),
            test_budget: Duration::from_secs(60),
            keep_passing_evidence: false,
            max_pages: 2000,
            seed: 0x6469_616c_746f_6e65,
            cases: 16,
            snapshots: None,
            time_budget: Duration::from_secs(120),
            regressions: None,
            response_oracle: true,
            emulator_gaps: Default::default(),
            stop_after_errors: 10,
            stop: None,
        }
    }
}

/// Why a session could not start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Client(#[from] http::ClientError),
    #[error(transparent)]
    Profile(#[from] ProfileError),
}

/// A target and everything needed to test it.
pub struct Session {
    pub client: Client,
    pub profile: Profile,
    pub opts: Options,
    pub specs: IndexMap<String, Arc<Spec>>,
    /// Resolved credentials per (api, role); `None` when the profile has no account.
    creds: HashMap<(String, String), Option<Auth>>,
    /// Which operation a request reached, per API: for the response oracle.
    routers: HashMap<String, crate::oracle::Router>,
    started: Instant,
    started_unix: u64,
    /// Time the property tests of this session have taken so far (`--time-budget`).
    property_spent: parking_lot::Mutex<Duration>,
}

impl Session {
    pub fn new(
        profile: Profile,
        specs: &IndexMap<String, Arc<Spec>>,
        opts: Options,
    ) -> Result<Session, SetupError> {
        let client = Client::new(&profile, opts.client.clone())?;
        let mut creds = HashMap::new();
        for (name, spec) in specs {
            let auth = spec.auth();
            for role in spec.roles() {
                let r = role.name.get_ref();
                let c = profile
                    .credentials(name, r)?
                    .map(|c| Auth::from_credentials(&c, &auth.header, auth.prefix.as_deref()));
                if let Some(Auth::Basic { user, secret }) = &c {
                    // The header form of the password must not leak either.
                    use base64::Engine as _;
                    client.add_secret(
                        &base64::engine::general_purpose::STANDARD
                            .encode(format!("{user}:{}", secret.expose())),
                    );
                }
                creds.insert((name.clone(), r.clone()), c);
            }
        }
        let routers = specs
            .iter()
            .map(|(name, spec)| (name.clone(), crate::oracle::Router::new(spec)))
            .collect();
        Ok(Session {
            client,
            profile,
            opts,
            specs: specs.clone(),
            creds,
            routers,
            started: Instant::now(),
            property_spent: parking_lot::Mutex::new(Duration::ZERO),
            started_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        })
    }

    /// When the property test starting now must stop generating cases: what is left of
    /// `--time-budget` for this session.
    pub fn property_deadline(&self) -> Instant {
        let spent = *self.property_spent.lock();
        Instant::now() + self.opts.time_budget.saturating_sub(spent)
    }

    /// The target is dialtone's emulator, with its control interface.
    pub fn emulator(&self) -> bool {
        self.profile.target.emulator
    }

    /// One request before the run: a target whose TLS certificate this client does not
    /// trust would fail every test with the same error, so it is one error, up front.
    pub async fn tls_check(&self) -> Result<(), String> {
        if !self.client.base().starts_with("https://") {
            return Ok(());
        }
        let (_, r) = self
            .client
            .send(&crate::runner::http::Req::new("GET", "/".to_string()))
            .await;
        match r {
            Err(e) if is_certificate_error(&e.to_string()) => Err(format!(
                "{}: the target's TLS certificate is not trusted ({e}); name its CA in the profile's `ca_file` (docs/target-profile.md)",
                self.client.base()
            )),
            _ => Ok(()),
        }
    }

    /// Whether tests of `safety` may run against this target.
    pub fn allowed(&self, safety: Safety) -> bool {
        self.emulator()
            || match safety {
                Safety::Read => true,
                Safety::Write => self.opts.allow_write,
                Safety::Disruptive => self.opts.allow_disruptive,
            }
    }

    pub fn auth(&self, api: &str, role: &str) -> Option<&Auth> {
        self.creds
            .get(&(api.to_string(), role.to_string()))
            .and_then(|a| a.as_ref())
    }

    /// The router of `api`'s spec (every API of the session has one).
    pub fn router(&self, api: &str) -> Option<&crate::oracle::Router> {
        self.routers.get(api)
    }

    /// Why `test` cannot run against this target, when that is known before it starts.
    pub fn precheck(&self, test: &Test) -> Option<String> {
        let e = &test.entry;
        if !self.allowed(e.safety) {
            return Some(match e.safety {
                Safety::Disruptive => "disruptive test: needs `--allow disruptive`".into(),
                _ => "write test: needs `--allow write`".into(),
            });
        }
        let real = !self.emulator();
        if let Some(why) = &e.untestable {
            return Some(format!("untestable: {why}"));
        }
        if !real {
            if let Some(g) = self.opts.emulator_gaps.get(&e.id) {
                if self.opts.strict || !g.strict {
                    return Some(format!("emulator gap: {}", g.why));
                }
            }
        }
        if let Some(c) = &test.case {
            if real && c.emulator_only() {
                return Some("the case drives the emulator's control interface".into());
            }
            if real && c.safety != Safety::Read {
                return Some("the case changes objects it does not create on a real target".into());
            }
            return None;
        }
        // What the spec alone rules out was worked out once, when planning.
        if let Some(why) = e.unrunnable {
            return Some(why.into());
        }
        if e.check == plan::Exercise::Cursor(plan::CursorCheck::Empty) && real {
            return Some("needs an empty collection: only the emulator can be emptied".into());
        }
        if let Some(st) = &e.state {
            if real {
                return Some(format!(
                    "needs the device in state `{st}`: only the emulator can be put there"
                ));
            }
        }
        if let Some(role) = &e.role {
            if role != plan::NO_CREDENTIALS
                && role != plan::BAD_CREDENTIALS
                && self.auth(&e.api, role).is_none()
                && self
                    .specs
                    .get(&e.api)
                    .is_some_and(|s| s.role(role).is_some())
            {
                return Some(format!(
                    "the target profile has no account for role `{role}`"
                ));
            }
        }
        if real && e.safety != Safety::Read {
            // These create only marked objects of their own (the stateful test also
            // changes and deletes only those) and delete them afterwards.
            let creates = matches!(
                e.check,
                plan::Exercise::Omit
                    | plan::Exercise::Full
                    | plan::Exercise::PropertyInvalid
                    | plan::Exercise::Stateful
            );
            if !creates {
                return Some(
                    "would change an object dialtone did not create on a real target".into(),
                );
            }
        }
        None
    }

    /// A test that only reads, needs no device state and no control interface, and so
    /// can run alongside other such tests without either seeing the other.
    pub fn independent(&self, test: &Test) -> bool {
        let e = &test.entry;
        test.case
            .as_ref()
            .is_none_or(|c| c.safety == Safety::Read && !c.emulator_only())
            && e.safety == Safety::Read
            && e.state.is_none()
            && matches!(
                e.check,
                plan::Exercise::Cell
                    | plan::Exercise::Rule
                    | plan::Exercise::NotFound
                    | plan::Exercise::NotAcceptable
                    | plan::Exercise::ErrorEnvelope
                    | plan::Exercise::Equivalent
            )
    }

    fn blank(&self, test: &Test) -> TestResult {
        let e = &test.entry;
        TestResult {
            id: e.id.clone(),
            rule: e.rule.clone(),
            kind: match &test.case {
                Some(c) if c.kind.is_none() => "case".into(),
                _ => e.kind.as_str().to_string(),
            },
            api: e.api.clone(),
            level: e.level_str().to_string(),
            safety: safety_str(e.safety).to_string(),
            source: e.source.clone(),
            summary: e.summary.clone(),
            verdict: Verdict::Pass,
            message: None,
            expected: None,
            actual: None,
            note: None,
            findings: Vec::new(),
            known: None,
            deviations: Vec::new(),
            exchanges: Vec::new(),
            duration_ms: 0.0,
        }
    }

    /// The result of a test skipped for `reason`.
    pub fn skipped(&self, test: &Test, reason: String) -> TestResult {
        TestResult {
            verdict: Verdict::Skip,
            message: Some(reason),
            ..self.blank(test)
        }
    }

    /// Run one test. Never panics on anything the target sends, and never takes longer
    /// than the test budget (plus the clean-up after it).
    pub async fn run(&self, test: &Test) -> TestResult {
        match self.precheck(test) {
            Some(reason) => self.skipped(test, reason),
            None => self.run_ready(test).await,
        }
    }

    /// [`Session::run`] for a test whose [`Session::precheck`] the caller has already
    /// asked and found nothing against.
    pub async fn run_ready(&self, test: &Test) -> TestResult {
        let started = Instant::now();
        let mut res = self.blank(test);
        if self
            .opts
            .stop
            .as_ref()
            .is_some_and(|s| s.load(std::sync::atomic::Ordering::SeqCst))
        {
            res.verdict = Verdict::Error;
            res.message = Some("not run: the run was interrupted (Ctrl-C)".into());
            return res;
        }
        let gone = self.client.failing_in_a_row();
        if self.opts.stop_after_errors > 0 && gone >= self.opts.stop_after_errors {
            res.verdict = Verdict::Error;
            res.message = Some(format!(
                "not sent: the target gave no answer to {gone} requests in a row, so it is \
                 taken for gone (--stop-after-errors {})",
                self.opts.stop_after_errors
            ));
            return res;
        }
        let mut ctx = exec::Ctx::new(self, test);
        let judgement = match tokio::time::timeout(self.opts.test_budget, ctx.exercise()).await {
            Ok(o) => o,
            Err(_) => exec::Judgement::error(format!(
                "the test did not finish within its budget of {:?}",
                self.opts.test_budget
            )),
        };
        let passed = judgement.verdict == Verdict::Pass;
        let _ = tokio::time::timeout(self.opts.test_budget, ctx.cleanup(passed)).await;
        // Whatever the target echoed goes through redaction like the exchanges do.
        let redact = |t: Option<String>| t.map(|t| self.client.redact(&t));
        res.verdict = judgement.verdict;
        res.message = redact(judgement.message);
        res.expected = redact(judgement.expected);
        res.actual = redact(judgement.actual);
        res.note = redact(judgement.note);
        res.findings = std::mem::take(&mut ctx.findings);
        for f in &mut res.findings {
            f.value = redact(f.value.take());
        }
        if res.verdict != Verdict::Pass || self.opts.keep_passing_evidence {
            res.exchanges = ctx
                .exchanges
                .iter()
                .map(|s| self.client.exchange(s))
                .collect();
        }
        if test.entry.is_property() {
            *self.property_spent.lock() += started.elapsed();
            if let (Verdict::Fail, None, Some(dir)) =
                (res.verdict, test.replay, &self.opts.regressions)
            {
                match regress::save(dir, &res, self.opts.seed, self.opts.cases) {
                    Ok(p) => {
                        let note = format!("stored for replay in {}", p.display());
                        res.note = Some(match res.note.take() {
                            Some(n) => format!("{n}; {note}"),
                            None => note,
                        });
                    }
                    Err(e) => {
                        res.note = Some(format!("could not store the failing case: {e}"));
                    }
                }
            }
        }
        res.duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        res
    }

    /// Everything about the run but its results.
    pub fn info(&self) -> RunInfo {
        let mut allow = vec!["read".to_string()];
        if self.emulator() || self.opts.allow_write {
            allow.push("write".into());
        }
        if self.emulator() || self.opts.allow_disruptive {
            allow.push("disruptive".into());
        }
        let mut target = self.client.base().to_string();
        if let Ok(mut u) = reqwest::Url::parse(&target) {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            target = u.as_str().trim_end_matches('/').to_string();
        }
        RunInfo {
            schema: result::SCHEMA.into(),
            dialtone_version: env!("CARGO_PKG_VERSION").into(),
            target,
            emulator: self.emulator(),
            mode: if self.opts.strict {
                "strict"
            } else {
                "lenient"
            }
            .into(),
            allow,
            specs: self.specs.keys().cloned().collect(),
            started_unix: self.started_unix,
            duration_ms: self.started.elapsed().as_secs_f64() * 1000.0,
            requests: self.client.sent(),
            seed: self.opts.seed,
            cases: self.opts.cases,
            time_budget_s: self.opts.time_budget.as_secs_f64(),
            partition: None,
        }
    }
}

pub fn safety_str(s: Safety) -> &'static str {
    match s {
        Safety::Read => "read",
        Safety::Write => "write",
        Safety::Disruptive => "disruptive",
    }
}

/// Whether a transport error says the peer's certificate was refused.
fn is_certificate_error(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    [
        "certificate",
        "unknownissuer",
        "invalid peer",
        "self signed",
        "self-signed",
    ]
    .iter()
    .any(|k| t.contains(k))
}
