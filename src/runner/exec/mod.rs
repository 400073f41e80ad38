//! How each kind of plan entry is exercised: the requests it sends and how the answers are
//! judged. Every check returns a [`Judgement`]; nothing here formats output.
//!
//! This file holds the working state of one test ([`Ctx`]), the dispatch from the entry's
//! [`Exercise`] to its check, and the plumbing every check shares: building and sending
//! requests, the emulator's control interface, judging an answer, and spec lookups. The
//! checks themselves live in one file per family, in the order of the dispatch:
//!
//! * `probe`: one request per entry (cells, rules, states, 404, 406), the error
//!   envelope, JSON/XML equivalence, oversize and malformed bodies;
//! * `bodies`: omitted, full and unknown fields, with the record helpers they share;
//! * `props`: the property tests; `stateful`: the model-based sequences;
//! * `cursor` and `pager`: the pagination checks and the walk over pages;
//! * `lifecycle`: jobs and references; `baseline`: snapshots; `case`: scenario cases.

use serde_json::Value;

use super::http::{Auth, Req, Resp, Sent};
use super::outcome;
use super::{Session, Test, Verdict};
use crate::codec::get_path;
use crate::contract::Control;
use crate::plan::{Exercise, BAD_CREDENTIALS, NO_CREDENTIALS};
use crate::spec::model::*;
use crate::spec::Spec;

mod assert;
mod baseline;
mod bodies;
mod case;
mod cursor;
mod filter;
mod lifecycle;
mod oracle;
mod pager;
mod probe;
mod props;
mod stateful;
mod stateful_own;

/// A test's verdict with its explanation.
#[derive(Debug, Clone)]
pub(super) struct Judgement {
    pub verdict: Verdict,
    pub message: Option<String>,
    pub expected: Option<String>,
    pub actual: Option<String>,
    pub note: Option<String>,
}

impl Judgement {
    pub fn pass() -> Judgement {
        Judgement {
            verdict: Verdict::Pass,
            message: None,
            expected: None,
            actual: None,
            note: None,
        }
    }
    pub fn fail(
        message: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Judgement {
        Judgement {
            verdict: Verdict::Fail,
            message: Some(message.into()),
            expected: Some(expected.into()),
            actual: Some(actual.into()),
            note: None,
        }
    }
    pub fn error(message: impl Into<String>) -> Judgement {
        Judgement {
            verdict: Verdict::Error,
            message: Some(message.into()),
            ..Judgement::pass()
        }
    }
    pub fn skip(message: impl Into<String>) -> Judgement {
        Judgement {
            verdict: Verdict::Skip,
            message: Some(message.into()),
            ..Judgement::pass()
        }
    }
}

type Step<T> = Result<T, Judgement>;

/// The working state of one test.
pub(super) struct Ctx<'a> {
    s: &'a Session,
    t: &'a Test,
    spec: &'a Spec,
    pub exchanges: Vec<Sent>,
    /// The emulator must be reset when the test ends.
    dirty: bool,
    /// A property test stopped after this many cases: `--time-budget` was spent.
    stopped_at: Option<usize>,
    /// States entered on the emulator, to leave at the end.
    states: Vec<String>,
    /// Requests that delete what the test created on a real target.
    undo: Vec<Req>,
    /// Findings made while the test ran (a `Location` that leads nowhere); after the
    /// verdict, everything the response oracle found in the test's answers.
    pub(super) findings: Vec<crate::oracle::Finding>,
}

impl<'a> Ctx<'a> {
    pub fn new(s: &'a Session, t: &'a Test) -> Ctx<'a> {
        let spec = s
            .specs
            .get(&t.entry.api)
            .map(|a| a.as_ref())
            .expect("a suite's tests name its specs");
        Ctx {
            s,
            t,
            spec,
            exchanges: Vec::new(),
            dirty: false,
            stopped_at: None,
            states: Vec::new(),
            undo: Vec::new(),
            findings: Vec::new(),
        }
    }

    pub async fn exercise(&mut self) -> Judgement {
        let r = if let Some(case) = self.t.case.clone() {
            self.case(&case).await
        } else {
            match self.t.entry.check {
                Exercise::Cell | Exercise::Rule => self.probe(None).await,
                Exercise::NotFound => self.probe(None).await,
                Exercise::NotAcceptable => {
                    self.probe(Some("application/x-dialtone-unacceptable"))
                        .await
                }
                Exercise::State => self.probe(None).await,
                Exercise::ErrorEnvelope => self.error_envelope().await,
                Exercise::Equivalent => self.equivalent().await,
                Exercise::Oversize => self.oversize().await,
                Exercise::Malformed => self.malformed().await,
                Exercise::Omit => self.omit().await,
                Exercise::Full => self.full().await,
                Exercise::UnknownField => self.unknown_field().await,
                Exercise::PropertyInvalid => self.property_invalid().await,
                Exercise::PropertyIdempotent => self.property_idempotent().await,
                Exercise::PropertyCreateRead => self.property_create_read().await,
                Exercise::PropertyDeleteGone => self.property_delete_gone().await,
                Exercise::PropertyResponses => self.property_responses().await,
                Exercise::Stateful => self.property_stateful().await,
                Exercise::Cursor(c) => self.cursor(c).await,
                Exercise::Job => self.job().await,
                Exercise::Snapshot => self.snapshot().await,
                Exercise::Reference => self.reference().await,
                Exercise::PathFilter => self.path_filter().await,
            }
        };
        let mut o = r.unwrap_or_else(|o| o);
        self.apply_oracle(&mut o);
        if let Some(k) = self.stopped_at {
            let note = format!(
                "stopped after {k} of {} cases: the --time-budget of {:?} was spent",
                self.cases(),
                self.s.opts.time_budget
            );
            o.note = Some(match o.note.take() {
                Some(n) => format!("{n}; {note}"),
                None => note,
            });
        }
        o
    }

    /// Whether `resp` is one of the outcomes `expect` lists.
    fn answers_one_of(&self, expect: &[Outcome], resp: &Resp) -> bool {
        expect
            .iter()
            .any(|w| outcome::matches(self.spec, w, resp).is_ok())
    }

    /// Whether `resp` is `op`'s success or one of the other outcomes it accepts.
    fn succeeded(&self, op: &Operation, resp: &Resp) -> bool {
        self.answers_one_of(&success_outcomes(op), resp)
    }

    /// The test's id without a replay's `/regression-<seed>` suffix: the random stream
    /// of a replay is the original test's.
    fn base_id(&self) -> &str {
        let id = self.t.entry.id.as_str();
        match (self.t.replay, id.rsplit_once("/regression-")) {
            (Some(_), Some((base, _))) => base,
            _ => id,
        }
    }

    /// The seed of this test's generated values: the run's, or a stored failure's.
    fn seed(&self) -> u64 {
        self.t.replay.map(|(s, _)| s).unwrap_or(self.s.opts.seed)
    }

    /// Generated cases per property: the run's, or a stored failure's.
    fn cases(&self) -> u32 {
        self.t.replay.map(|(_, c)| c).unwrap_or(self.s.opts.cases)
    }

    /// Whether a property test must stop before case `case` (0-based): the session's
    /// `--time-budget` for properties is spent. The first case always runs.
    fn out_of_time(&mut self, case: usize, deadline: std::time::Instant) -> bool {
        if case > 0 && std::time::Instant::now() >= deadline {
            self.stopped_at = Some(case);
            return true;
        }
        false
    }

    /// Undo what the test did: leave states, reset the emulator, delete created objects.
    ///
    /// The emulator is reset after a test that changed it through the control interface,
    /// or whose writes were accepted (or crashed, or failed the test): a write the target
    /// refused with a 4xx changed nothing (the emulator never half-applies), so the reset,
    /// the costliest request of a run, is skipped then.
    pub async fn cleanup(&mut self, passed: bool) {
        let api = self.t.entry.api.clone();
        for st in std::mem::take(&mut self.states) {
            let _ = self
                .control(
                    Control::LeaveState {
                        api: &api,
                        state: &st,
                    },
                    None,
                )
                .await;
        }
        let changed = self.exchanges.iter().any(|x| {
            let write = x.req.method != "GET" && x.req.method != "HEAD";
            write
                && (!passed
                    || match &x.result {
                        Ok(r) => r.status < 400 || r.status >= 500,
                        Err(_) => true,
                    })
        });
        if (self.dirty || changed) && self.s.emulator() {
            let _ = self.control(Control::Reset, None).await;
        }
        for req in std::mem::take(&mut self.undo) {
            let _ = self.s.client.send(&req).await;
        }
    }

    // ---- requests -------------------------------------------------------------------

    async fn send(&mut self, req: &Req) -> Step<Resp> {
        let (ex, r) = self.s.client.send(req).await;
        self.exchanges.push(ex);
        let resp =
            r.map_err(|e| Judgement::error(format!("{} {}: {e}", req.method, req.target)))?;
        self.follow_location(req, &resp).await;
        Ok(resp)
    }

    /// Send `op` to its target as the entry's role, with `body` of content type `ct`.
    async fn send_to_op(&mut self, op: &Operation, ct: &str, body: Vec<u8>) -> Step<Resp> {
        let target = self.op_target(op)?;
        let role = self.role();
        let req = self
            .request(op.method.get_ref(), &target, &role)?
            .body(ct, body);
        self.send(&req).await
    }

    /// A request to the emulator's control interface (not part of the evidence).
    async fn control(&self, c: Control<'_>, body: Option<Vec<u8>>) -> Step<Resp> {
        let (method, path) = (c.method(), c.path());
        let mut req = Req::new(method, &path);
        if let Some(b) = body {
            req = req.body("application/json", b);
        }
        let (_, r) = self.s.client.send(&req).await;
        match r {
            Ok(resp) if resp.status < 300 => Ok(resp),
            Ok(resp) => Err(Judgement::error(format!(
                "emulator control {method} {path}: {} {}",
                resp.status,
                resp.text()
            ))),
            Err(e) => Err(Judgement::error(format!(
                "emulator control {method} {path}: {e}"
            ))),
        }
    }

    fn need_control(&self, what: &str) -> Step<()> {
        if self.s.emulator() {
            Ok(())
        } else {
            Err(Judgement::skip(format!(
                "{what}: only the emulator can be put there (a real target has no control interface)"
            )))
        }
    }

    async fn enter_state(&mut self, state: &str) -> Step<()> {
        self.need_control(&format!("needs the device in state `{state}`"))?;
        let api = self.t.entry.api.clone();
        self.control(Control::EnterState { api: &api, state }, None)
            .await?;
        self.states.push(state.to_string());
        Ok(())
    }

    /// A request as `role` (a role name, `none` or `bad-credentials`).
    fn request(&self, method: &str, target: &str, role: &str) -> Step<Req> {
        let auth = self.spec.auth();
        let mut req = Req::new(method, target);
        req.who = role.to_string();
        for (h, v) in &auth.required_headers {
            if !h.eq_ignore_ascii_case("content-type") {
                req = req.header(h, v);
            }
        }
        req.auth = match role {
            NO_CREDENTIALS => Auth::None,
            BAD_CREDENTIALS => {
                let user = self
                    .spec
                    .roles_by_rank()
                    .last()
                    .and_then(|r| r.user.clone())
                    .unwrap_or_else(|| "admin".into());
                let value = match auth.scheme {
                    AuthScheme::Basic => {
                        use base64::Engine as _;
                        format!(
                            "Basic {}",
                            base64::engine::general_purpose::STANDARD
                                .encode(format!("{user}:dialtone-wrong-password"))
                        )
                    }
                    AuthScheme::Bearer => match &auth.prefix {
                        Some(p) => format!("{p} dialtone-wrong-token"),
                        None => "dialtone-wrong-token".into(),
                    },
                };
                Auth::Wrong {
                    header: if auth.scheme == AuthScheme::Basic {
                        "Authorization".into()
                    } else {
                        auth.header.clone()
                    },
                    value,
                }
            }
            r => match self.s.auth(&self.t.entry.api, r) {
                Some(a) => a.clone(),
                None => {
                    return Err(Judgement::skip(format!(
                        "the target profile has no account for role `{r}`"
                    )))
                }
            },
        };
        Ok(req)
    }

    fn with_body(&self, mut req: Req, body: Option<(String, Vec<u8>)>) -> Req {
        let json_ct = self
            .spec
            .auth()
            .required_headers
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.clone());
        match body {
            Some((ct, b)) => req = req.body(&ct, b),
            None => {
                if let Some(ct) = json_ct {
                    req = req.header("Content-Type", &ct);
                }
            }
        }
        req
    }

    fn accept_for(op: Option<&Operation>) -> Option<String> {
        op.and_then(|o| o.response.as_ref())
            .and_then(|r| r.content_types.first().cloned())
    }

    /// Judge an answer against acceptable outcomes (preferred first), with the rule's level
    /// and the run's strictness.
    fn judge(&self, resp: &Resp, expect: &[Outcome]) -> Judgement {
        if expect.is_empty() {
            return Judgement::pass();
        }
        // What a failure shows of the answer; a pass needs none of it.
        let actual = || describe(resp);
        let level = self.t.entry.level;
        let strict = self.s.opts.strict;
        match outcome::fit(self.spec, &expect[0], resp) {
            Ok(outcome::Fit::Exact) => Judgement::pass(),
            Ok(outcome::Fit::MessageDiffers(why)) if strict => {
                Judgement::fail(format!("--strict: {why}"), expect[0].to_string(), actual())
            }
            Ok(outcome::Fit::MessageDiffers(why)) => Judgement {
                note: Some(why),
                ..Judgement::pass()
            },
            Err(why0) => {
                let alt = expect[1..]
                    .iter()
                    .find(|w| outcome::matches(self.spec, w, resp).is_ok());
                match alt {
                    Some(w) if !strict => Judgement {
                        note: Some(format!(
                            "accepted outcome {w} instead of the preferred {}",
                            expect[0]
                        )),
                        ..Judgement::pass()
                    },
                    Some(w) => Judgement::fail(
                        format!(
                            "--strict: got the accepted {w}, not the preferred {}",
                            expect[0]
                        ),
                        expect[0].to_string(),
                        actual(),
                    ),
                    None if level != Level::Must && !strict => Judgement {
                        note: Some(format!(
                            "{}-level rule not met: {why0} (fails under --strict)",
                            level.as_str()
                        )),
                        ..Judgement::pass()
                    },
                    None => Judgement::fail(why0, either(expect), actual()),
                }
            }
        }
    }

    /// Soften a failure of a should/may rule in lenient mode.
    fn soften(&self, o: Judgement) -> Judgement {
        if o.verdict == Verdict::Fail && self.t.entry.level != Level::Must && !self.s.opts.strict {
            Judgement {
                note: Some(format!(
                    "{}-level rule not met: {} (fails under --strict)",
                    self.t.entry.level.as_str(),
                    o.message.unwrap_or_default()
                )),
                ..Judgement::pass()
            }
        } else {
            o
        }
    }

    fn endpoint_op(&self) -> (Option<&'a Endpoint>, Option<&'a Operation>) {
        let t = &self.t.entry.target;
        (t.endpoint_at(self.spec), t.operation(self.spec))
    }

    /// The collection of the entry's endpoint.
    fn collection(&self) -> Option<&'a Collection> {
        let (ep, _) = self.endpoint_op();
        ep.and_then(|ep| ep.collection.as_ref())
            .and_then(|c| self.spec.collection(c.get_ref()))
    }

    fn rule(&self) -> Option<&'a Rule> {
        self.t.entry.target.rule_at(self.spec)
    }

    /// The entry's operation; an entry of these kinds always names one.
    fn op(&self) -> Step<&'a Operation> {
        self.endpoint_op()
            .1
            .ok_or_else(|| Judgement::error("the entry names no operation"))
    }

    /// The role the entry is exercised as (`none` when it names none).
    fn role(&self) -> String {
        self.t
            .entry
            .role
            .clone()
            .unwrap_or_else(|| NO_CREDENTIALS.into())
    }

    /// The schema of `op`'s request body.
    fn request_schema(&self, op: &'a Operation) -> Step<&'a Schema> {
        op.request
            .as_ref()
            .and_then(|r| r.schema.as_ref())
            .and_then(|s| self.spec.schema(s.get_ref()))
            .ok_or_else(|| Judgement::error("the operation's body has no schema"))
    }

    /// A proptest runner whose values follow from the run's seed and this test's id only,
    /// so they do not depend on which other tests ran; `salt` separates the properties.
    fn case_runner(&self, salt: u8) -> proptest::test_runner::TestRunner {
        use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
        let mut key = [salt; 32];
        for (i, b) in self
            .seed()
            .to_le_bytes()
            .iter()
            .chain(self.base_id().as_bytes())
            .enumerate()
        {
            key[i % 32] = key[i % 32].wrapping_mul(31).wrapping_add(*b);
        }
        TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(RngAlgorithm::ChaCha, &key),
        )
    }

    /// The endpoint and operation that delete records of `collection`.
    fn deleter(&self, collection: &str) -> Option<(&'a Endpoint, &'a Operation)> {
        self.spec
            .endpoints()
            .filter(|ep| ep.collection.as_ref().map(|c| c.get_ref().as_str()) == Some(collection))
            .find_map(|ep| {
                ep.op
                    .iter()
                    .find(|o| o.effect == Some(Effect::Delete))
                    .map(|o| (ep, o))
            })
    }

    /// Writes to a real target only touch what the runner creates.
    fn real_target_write(&self, op: &Operation) -> Step<()> {
        if self.s.emulator() || op.effect == Some(Effect::Create) {
            return Ok(());
        }
        Err(Judgement::skip(
            "would change an object dialtone did not create on a real target",
        ))
    }
}

/// A dotted path in a tree, also under the root element of a parsed XML document.
fn lookup<'v>(tree: &'v Value, path: &str) -> Option<&'v Value> {
    get_path(tree, path).or_else(|| match tree {
        Value::Object(o) if o.len() == 1 => o.values().next().and_then(|i| get_path(i, path)),
        _ => None,
    })
}

/// `op`'s success outcome and the other outcomes it accepts, preferred first.
fn success_outcomes(op: &Operation) -> Vec<Outcome> {
    let mut ok = vec![op.success_outcome()];
    ok.extend(op.accept.iter().map(|a| a.get_ref().clone()));
    ok
}

/// Outcomes as a message names them: `201 or 200:1201`.
fn either(outcomes: &[Outcome]) -> String {
    Outcome::join(outcomes, " or ")
}

/// The role to call `op` as: `none` for a public operation, else the least privileged
/// role allowed (`none` when no role is).
fn caller_role(spec: &Spec, op: &Operation) -> String {
    if op.public {
        return NO_CREDENTIALS.into();
    }
    crate::plan::lowest_allowed(spec, op).unwrap_or_else(|| NO_CREDENTIALS.into())
}

/// A short description of an answer for `actual`.
fn describe(r: &Resp) -> String {
    let ct = r.content_type();
    let body = clip(&r.text());
    if body.is_empty() {
        format!("{}", r.status)
    } else if ct.is_empty() {
        format!("{} {body}", r.status)
    } else {
        format!("{} ({ct}) {body}", r.status)
    }
}

fn clip(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s.to_string()
    }
}
