//! How each kind of plan entry is exercised: the requests it sends and how the answers are
//! judged. Every function here returns an [`Outcome`]; nothing here formats output.

use std::collections::{BTreeSet, HashSet};

use serde_json::{Map, Value};

use super::http::{Auth, Req, Resp, Sent};
use super::outcome::{self, find_object, leaves, text_of};
use super::{Session, Test, Verdict};
use crate::codec::get_path;
use crate::contract::Control;

use crate::plan::{CursorCheck, Exercise, BAD_CREDENTIALS, NO_CREDENTIALS};
use crate::sample;
use crate::spec::model::*;
use crate::spec::Spec;

mod props;
mod stateful;

/// A test's verdict with its explanation.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub verdict: Verdict,
    pub message: Option<String>,
    pub expected: Option<String>,
    pub actual: Option<String>,
    pub note: Option<String>,
}

impl Outcome {
    pub fn pass() -> Outcome {
        Outcome {
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
    ) -> Outcome {
        Outcome {
            verdict: Verdict::Fail,
            message: Some(message.into()),
            expected: Some(expected.into()),
            actual: Some(actual.into()),
            note: None,
        }
    }
    pub fn error(message: impl Into<String>) -> Outcome {
        Outcome {
            verdict: Verdict::Error,
            message: Some(message.into()),
            ..Outcome::pass()
        }
    }
    pub fn skip(message: impl Into<String>) -> Outcome {
        Outcome {
            verdict: Verdict::Skip,
            message: Some(message.into()),
            ..Outcome::pass()
        }
    }
}

type Step<T> = Result<T, Outcome>;

/// The working state of one test.
pub(crate) struct Ctx<'a> {
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
        }
    }

    pub async fn exercise(&mut self) -> Outcome {
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
            }
        };
        let mut o = r.unwrap_or_else(|o| o);
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
    fn answers_one_of(&self, expect: &[String], resp: &Resp) -> bool {
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
        r.map_err(|e| Outcome::error(format!("{} {}: {e}", req.method, req.target)))
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
            Ok(resp) => Err(Outcome::error(format!(
                "emulator control {method} {path}: {} {}",
                resp.status,
                resp.text()
            ))),
            Err(e) => Err(Outcome::error(format!(
                "emulator control {method} {path}: {e}"
            ))),
        }
    }

    fn need_control(&self, what: &str) -> Step<()> {
        if self.s.emulator() {
            Ok(())
        } else {
            Err(Outcome::skip(format!(
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
                    return Err(Outcome::skip(format!(
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
    fn judge(&self, resp: &Resp, expect: &[String]) -> Outcome {
        if expect.is_empty() {
            return Outcome::pass();
        }
        let actual = describe(resp);
        let level = self.t.entry.level;
        let strict = self.s.opts.strict;
        match outcome::matches(self.spec, &expect[0], resp) {
            Ok(()) => Outcome::pass(),
            Err(why0) => {
                let alt = expect[1..]
                    .iter()
                    .find(|w| outcome::matches(self.spec, w, resp).is_ok());
                match alt {
                    Some(w) if !strict => Outcome {
                        note: Some(format!(
                            "accepted outcome {w} instead of the preferred {}",
                            expect[0]
                        )),
                        ..Outcome::pass()
                    },
                    Some(w) => Outcome::fail(
                        format!(
                            "--strict: got the accepted {w}, not the preferred {}",
                            expect[0]
                        ),
                        expect[0].clone(),
                        actual,
                    ),
                    None if level != Level::Must && !strict => Outcome {
                        note: Some(format!(
                            "{}-level rule not met: {why0} (fails under --strict)",
                            level.as_str()
                        )),
                        ..Outcome::pass()
                    },
                    None => Outcome::fail(why0, expect.join(" or "), actual),
                }
            }
        }
    }

    /// Soften a failure of a should/may rule in lenient mode.
    fn soften(&self, o: Outcome) -> Outcome {
        if o.verdict == Verdict::Fail && self.t.entry.level != Level::Must && !self.s.opts.strict {
            Outcome {
                note: Some(format!(
                    "{}-level rule not met: {} (fails under --strict)",
                    self.t.entry.level.as_str(),
                    o.message.unwrap_or_default()
                )),
                ..Outcome::pass()
            }
        } else {
            o
        }
    }

    fn endpoint_op(&self) -> (Option<&'a Endpoint>, Option<&'a Operation>) {
        let e = &self.t.entry;
        let ep = e.endpoint.as_deref().and_then(|id| self.spec.endpoint(id));
        let op = match (ep, &e.method) {
            (Some(ep), Some(m)) => ep.operation(m),
            _ => None,
        };
        (ep, op)
    }

    fn rule(&self) -> Option<&'a Rule> {
        super::rule_of(self.spec, &self.t.entry)
    }

    /// The entry's operation; an entry of these kinds always names one.
    fn op(&self) -> Step<&'a Operation> {
        self.endpoint_op()
            .1
            .ok_or_else(|| Outcome::error("the entry names no operation"))
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
            .ok_or_else(|| Outcome::error("the operation's body has no schema"))
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

    // ---- single probes --------------------------------------------------------------

    /// One request described by the entry (matrix cells, explicit rules, states, 404, 406).
    async fn probe(&mut self, accept: Option<&str>) -> Step<Outcome> {
        let e = self.t.entry.clone();
        let Some(method) = e.method.clone() else {
            return Err(Outcome::skip(
                "the rule is prose only: the spec gives it no request to send",
            ));
        };
        if e.expect.is_empty() {
            return Err(Outcome::skip(
                "the spec gives this rule no outcome to check",
            ));
        }
        let (ep, op) = self.endpoint_op();
        let rule = if e.check == Exercise::Rule {
            self.rule()
        } else {
            None
        };
        let send = rule.and_then(|r| r.send.clone()).unwrap_or_default();
        let params = send.params.clone();
        let with_params = move |name: &str, v: String| params.get(name).cloned().unwrap_or(v);
        let mut target = match (ep, op) {
            (Some(ep), Some(op)) => sample::target_with(self.spec, ep, op, &with_params),
            (Some(ep), None) => sample::path_with(self.spec, ep, &with_params),
            (None, _) => match &e.path {
                Some(p) if !p.contains('{') => p.clone(),
                Some(_) => {
                    return Err(Outcome::skip(
                        "the rule's path has parameters the spec gives no value for",
                    ))
                }
                None => return Err(Outcome::skip("the rule names no endpoint or path")),
            },
        };
        if let Some(rule) = rule {
            for (k, v) in &rule.query {
                target.push(if target.contains('?') { '&' } else { '?' });
                target.push_str(&format!("{}={}", sample::encode(k), sample::encode(v)));
            }
        }
        let role = e.role.clone().unwrap_or_else(|| NO_CREDENTIALS.to_string());
        if let Some(st) = &e.state {
            self.enter_state(st).await?;
        }
        if e.safety != Safety::Read && !self.s.emulator() {
            return Err(Outcome::skip(
                "would change an object dialtone did not create on a real target",
            ));
        }
        let mut req = self.request(&method, &target, &role)?;
        let body = match (&send.body, op) {
            (Some(b), _) => {
                let ct = send
                    .content_type
                    .clone()
                    .or_else(|| {
                        op.and_then(|o| o.request.as_ref())
                            .and_then(|r| r.content_types.first().cloned())
                    })
                    .unwrap_or_else(|| "application/json".into());
                if ct.starts_with("multipart/") && !ct.contains("boundary=") {
                    // For an upload, `body` is the file: sent as the operation's file part.
                    let field = op
                        .and_then(|o| o.request.as_ref())
                        .and_then(|r| r.file_field.clone())
                        .unwrap_or_else(|| "file".into());
                    Some(sample::multipart(&field, "dialtone.txt", b.as_bytes()))
                } else {
                    Some((ct, b.clone().into_bytes()))
                }
            }
            (None, Some(o)) if !send.set.is_empty() || !send.omit.is_empty() => {
                let (set, omit) = (send.set.clone(), send.omit.clone());
                Some(self.object_body(o, move |obj| {
                    for f in &omit {
                        obj.remove(f);
                    }
                    for (k, v) in set {
                        obj.insert(k, serde_json::to_value(v).unwrap_or(Value::Null));
                    }
                })?)
            }
            (None, o) => o.and_then(|o| sample::body(self.spec, o)),
        };
        req = self.with_body(req, body);
        match accept {
            Some(a) => req = req.header("Accept", a),
            None => {
                if let Some(a) = Self::accept_for(op) {
                    req = req.header("Accept", &a);
                }
            }
        }
        // The rule's own headers come last and win; a credential header among them replaces
        // the role's credentials instead of joining them.
        let auth_header = self.spec.auth().header.clone();
        for (h, v) in &send.headers {
            if h.eq_ignore_ascii_case(&auth_header) || h.eq_ignore_ascii_case("authorization") {
                req.auth = Auth::None;
            }
            req = req.header(h, v);
        }
        let resp = self.send(&req).await?;
        let mut o = self.judge(&resp, &e.expect);
        if o.verdict == Verdict::Pass && resp.status == 405 {
            if let Some(allow) = &e.allow {
                if let Err(why) = check_allow(&resp, allow) {
                    o = self.soften(Outcome::fail(
                        why,
                        format!("Allow: {}", allow.join(", ")),
                        describe(&resp),
                    ));
                }
            }
        }
        // A successful answer with a body comes in one of the documented representations.
        if o.verdict == Verdict::Pass && resp.status < 300 && !resp.body.is_empty() {
            let documented: Vec<String> = op
                .and_then(|o| o.response.as_ref())
                .map(|r| {
                    r.content_types
                        .iter()
                        .map(|c| outcome::essence(c))
                        .collect()
                })
                .unwrap_or_default();
            let got = outcome::essence(resp.content_type());
            if !documented.is_empty() && !documented.iter().any(|d| outcome::same_family(d, &got)) {
                o = Outcome::fail(
                    "the answer is not in a documented representation",
                    format!("Content-Type: one of {}", documented.join(", ")),
                    format!("Content-Type: {got}"),
                );
            }
        }
        Ok(o)
    }

    async fn error_envelope(&mut self) -> Step<Outcome> {
        let e = self.t.entry.clone();
        let base = self
            .spec
            .api()
            .bases
            .values()
            .next()
            .cloned()
            .unwrap_or_default();
        let role = self.role();
        let req = self.request("GET", &format!("{base}/dialtone-no-such-resource"), &role)?;
        let req = self.with_body(req, None);
        let resp = self.send(&req).await?;
        let o = self.judge(&resp, &e.expect);
        if o.verdict != Verdict::Pass {
            return Ok(o);
        }
        let Some(env) = self.spec.default_envelope() else {
            return Ok(o);
        };
        let want = outcome::essence(&env.content_type);
        let got = outcome::essence(resp.content_type());
        if !outcome::same_family(&want, &got) {
            return Ok(Outcome::fail(
                format!(
                    "the error answer is not the `{}` envelope",
                    env.name.get_ref()
                ),
                format!("Content-Type: {}", env.content_type),
                format!("Content-Type: {got}"),
            ));
        }
        if outcome::structured(env.format) {
            let v = match outcome::parse(&resp) {
                Ok(v) => v,
                Err(why) => {
                    return Ok(Outcome::fail(
                        format!("the error body does not parse: {why}"),
                        format!("a {} envelope", env.content_type),
                        describe(&resp),
                    ))
                }
            };
            // The human message is what every error carries; a machine code only comes with
            // the API's own failures, which this probe (an unknown path) is not.
            if let Some(path) = env.message_path.as_ref().or(env.code_path.as_ref()) {
                if lookup(&v, path).is_none() {
                    return Ok(Outcome::fail(
                        format!("the error envelope lacks `{path}`"),
                        format!("`{path}` in the body"),
                        describe(&resp),
                    ));
                }
            }
        } else if resp.body.is_empty() {
            return Ok(Outcome::fail(
                "the error answer has no body",
                "a message",
                describe(&resp),
            ));
        }
        Ok(o)
    }

    async fn equivalent(&mut self) -> Step<Outcome> {
        let e = self.t.entry.clone();
        let (Some(ep), Some(op)) = self.endpoint_op() else {
            return Err(Outcome::error("the entry names no operation"));
        };
        let resp_spec = op.response.as_ref().expect("planned only with a response");
        let role = self.role();
        let target = sample::target(self.spec, ep, op);
        let mut trees = Vec::new();
        for fam in ["json", "xml"] {
            let ct = resp_spec
                .content_types
                .iter()
                .find(|c| c.contains(fam))
                .cloned()
                .unwrap_or_default();
            let mut t = target.clone();
            if let Some(p) = &resp_spec.format_param {
                t.push(if t.contains('?') { '&' } else { '?' });
                t.push_str(&format!("{p}={fam}"));
            }
            let req = self
                .with_body(self.request("GET", &t, &role)?, None)
                .header("Accept", &ct);
            let resp = self.send(&req).await?;
            let o = self.judge(&resp, &e.expect);
            if o.verdict != Verdict::Pass {
                return Ok(o);
            }
            if resp.status == 204 {
                return Ok(Outcome::pass());
            }
            if !outcome::essence(resp.content_type()).contains(fam) {
                return Ok(Outcome::fail(
                    format!("asked for {fam}, served something else"),
                    format!("Content-Type: {ct}"),
                    format!("Content-Type: {}", resp.content_type()),
                ));
            }
            match outcome::parse(&resp) {
                Ok(v) => trees.push(leaves(&v)),
                Err(why) => {
                    return Ok(Outcome::error(format!(
                        "the {fam} answer does not parse: {why}"
                    )))
                }
            }
        }
        // XML adds the element names as structure only; the data is in the leaves.
        if trees[0] != trees[1] {
            let j: BTreeSet<_> = trees[0].iter().collect();
            let x: BTreeSet<_> = trees[1].iter().collect();
            let only_j: Vec<_> = j.difference(&x).take(5).collect();
            let only_x: Vec<_> = x.difference(&j).take(5).collect();
            return Ok(self.soften(Outcome::fail(
                "the XML and JSON forms carry different data",
                format!("the same values; only in JSON: {only_j:?}"),
                format!("only in XML: {only_x:?}"),
            )));
        }
        Ok(Outcome::pass())
    }

    /// Record the normalised answer of a read, or compare it with the recorded baseline.
    async fn snapshot(&mut self) -> Step<Outcome> {
        use super::snapshot as snap;
        let e = self.t.entry.clone();
        let Some(cfg) = self.s.opts.snapshots.clone() else {
            return Err(Outcome::skip(
                "no snapshot directory given (--snapshots DIR)",
            ));
        };
        let (Some(ep), Some(op)) = self.endpoint_op() else {
            return Err(Outcome::error("the entry names no operation"));
        };
        let target = sample::target(self.spec, ep, op);
        let role = self.role();
        let mut req = self.with_body(self.request("GET", &target, &role)?, None);
        if let Some(a) = Self::accept_for(Some(op)) {
            req = req.header("Accept", &a);
        }
        let resp = self.send(&req).await?;
        let o = self.judge(&resp, &e.expect);
        if o.verdict != Verdict::Pass {
            return Ok(o);
        }
        let text = snap::normalize(self.spec, ep.id.get_ref(), self.s.client.base(), &resp);
        let text = self.s.client.redact(&text);
        let path = cfg.dir.join(snap::relative_path(&e.id));
        if cfg.record {
            snap::write(&path, &e.id, &text).map_err(|err| Outcome::error(err.to_string()))?;
            let _ = std::fs::remove_file(path.with_extension("snap.new"));
            return Ok(Outcome::pass());
        }
        let baseline = match snap::read(&path) {
            Ok(Some(b)) => b,
            Ok(None) => {
                return Err(Outcome::error(format!(
                    "no baseline at {}; record one with `dialtone snapshot record`",
                    path.display()
                )))
            }
            Err(err) => return Err(Outcome::error(err.to_string())),
        };
        if snap::same(&baseline, &text) {
            return Ok(Outcome::pass());
        }
        let new = path.with_extension("snap.new");
        let saved = snap::write(&new, &e.id, &text).is_ok();
        Ok(Outcome::fail(
            format!(
                "the answer drifted from the baseline {}{}",
                path.display(),
                if saved {
                    format!(
                        "; the new answer is in {} (`dialtone snapshot review --dir {}` accepts or rejects it)",
                        new.display(),
                        cfg.dir.display()
                    )
                } else {
                    String::new()
                }
            ),
            "the recorded baseline".to_string(),
            snap::diff(&baseline, &text),
        ))
    }

    async fn oversize(&mut self) -> Step<Outcome> {
        let e = self.t.entry.clone();
        let (Some(_), Some(op)) = self.endpoint_op() else {
            return Err(Outcome::error("the entry names no operation"));
        };
        let (ct, mut body) = self.object_body(op, |_| {})?;
        let limit = op
            .request
            .as_ref()
            .and_then(|r| r.max_bytes)
            .map(|b| b as usize)
            .unwrap_or(self.s.opts.body_limit);
        // Trailing whitespace keeps a JSON or XML document well-formed: a device that reads
        // it all would accept it.
        body.resize(limit + 1, b' ');
        let target = self.op_target(op)?;
        let role = self.role();
        let req = self
            .request(op.method.get_ref(), &target, &role)?
            .body(&ct, body);
        let resp = self.send(&req).await?;
        Ok(self.judge(&resp, &e.expect))
    }

    async fn malformed(&mut self) -> Step<Outcome> {
        let e = self.t.entry.clone();
        let op = self.op()?;
        let req_spec = op.request.as_ref().expect("planned only with a request");
        let (ct, body) = match req_spec.content_types.iter().find(|c| c.contains("xml")) {
            Some(x) => (x.clone(), b"<dialtone><unclosed></dialtone>".to_vec()),
            None => {
                let j = req_spec
                    .content_types
                    .iter()
                    .find(|c| c.contains("json"))
                    .cloned()
                    .unwrap_or_else(|| "application/json".into());
                (j, b"{\"dialtone\": [1, 2".to_vec())
            }
        };
        let target = self.op_target(op)?;
        let role = self.role();
        let req = self
            .request(op.method.get_ref(), &target, &role)?
            .body(&ct, body);
        let resp = self.send(&req).await?;
        if resp.status >= 500 {
            return Ok(Outcome::fail(
                "a malformed body crashed the request handler",
                format!("{} (the API's rejection)", e.expect.join(" or ")),
                describe(&resp),
            ));
        }
        Ok(self.judge(&resp, &e.expect))
    }

    // ---- completeness ---------------------------------------------------------------

    fn op_target(&self, op: &Operation) -> Step<String> {
        let (Some(ep), _) = self.endpoint_op() else {
            return Err(Outcome::error("the entry names no endpoint"));
        };
        if op.effect != Some(Effect::Create) {
            return Ok(sample::target(self.spec, ep, op));
        }
        // A create that names its new record in the URL names one of the runner's own.
        let prefix = self.s.opts.prefix.clone();
        let text_param = |name: &str| {
            ep.params
                .get(name)
                .is_none_or(|p| p.spec().ty == FieldType::String)
        };
        Ok(sample::target_with(self.spec, ep, op, &|name, v| {
            if text_param(name) && !v.starts_with(&prefix) {
                format!("{prefix}{v}")
            } else {
                v
            }
        }))
    }

    /// The sample object for `op`'s schema, edited, encoded as the op takes it.
    fn object_body(
        &self,
        op: &Operation,
        edit: impl FnOnce(&mut Map<String, Value>),
    ) -> Step<(String, Vec<u8>)> {
        let schema = op
            .request
            .as_ref()
            .and_then(|r| r.schema.as_ref())
            .and_then(|s| self.spec.schema(s.get_ref()))
            .ok_or_else(|| Outcome::skip("the operation's body has no schema"))?;
        let mut obj = sample::object(self.spec, schema);
        if op.effect == Some(Effect::Create) {
            self.mark_own(schema, &mut obj);
        }
        edit(&mut obj);
        sample::encode_object(self.spec, op, obj)
            .ok_or_else(|| Outcome::skip("the operation takes no schema-shaped body"))
    }

    /// Give the unique and key text fields of an object the runner creates its prefix, so
    /// it never collides with (or is mistaken for) an object it did not create.
    /// On a real target, an object whose schema has no such field (server-assigned ids
    /// only) gets the prefix in its first free text field (required ones first) instead.
    fn mark_own(&self, schema: &Schema, obj: &mut Map<String, Value>) {
        let prefix = &self.s.opts.prefix;
        let mark = |f: &Field, obj: &mut Map<String, Value>| -> bool {
            let Some(Value::String(v)) = obj.get_mut(f.name.get_ref()) else {
                return false;
            };
            if !v.starts_with(prefix.as_str()) {
                let mut marked = format!("{prefix}{v}");
                if let Some(max) = f.max_len {
                    marked = marked.chars().take(max as usize).collect();
                }
                *v = marked;
            }
            true
        };
        let mut marked = false;
        for f in &schema.field {
            if !(f.key || f.unique) || f.server_assigned || f.ty != FieldType::String {
                continue;
            }
            marked |= mark(f, obj);
        }
        if marked || self.s.emulator() {
            return;
        }
        let free = |f: &&Field| {
            f.ty == FieldType::String && !f.server_assigned && f.enum_values.is_empty()
        };
        let mut text: Vec<&Field> = schema.field.iter().filter(free).collect();
        text.sort_by_key(|f| !f.required);
        for f in text {
            if mark(f, obj) {
                break;
            }
        }
    }

    /// On a real target, queue the deletion of a record the test created (identified by
    /// the collection's key, read back from the target).
    fn undo_create(&mut self, collection: &Collection, found: &Map<String, Value>) {
        if self.s.emulator() {
            return;
        }
        if let Some(req) = self.delete_request(collection, found) {
            self.undo.push(req);
        }
    }

    /// The request that deletes `found` (a record of `collection`, identified by its key).
    fn delete_request(&self, collection: &Collection, found: &Map<String, Value>) -> Option<Req> {
        let (dep, dop) = self.deleter(collection.name.get_ref())?;
        let key = self.spec.collection_keys(collection);
        let kv: Vec<(String, String)> = key
            .iter()
            .filter_map(|k| found.get(k).map(|v| (k.clone(), text_of(v))))
            .collect();
        if kv.is_empty() || kv.len() != key.len() {
            return None;
        }
        let scalars: Map<String, Value> = found
            .iter()
            .filter(|(_, v)| !v.is_object() && !v.is_array())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.record_request(dep, dop, &kv, &scalars).ok()
    }

    /// A request of `op` on `ep` for the record whose key fields have the values `kv`:
    /// path parameters from the key (by name, else by position) and the sample's required
    /// query (a scope); the body, if the operation takes one, is the sample overlaid with
    /// `fields` and the key. With no `kv`, the URL is the sample's (a create).
    fn record_request(
        &self,
        ep: &Endpoint,
        op: &'a Operation,
        kv: &[(String, String)],
        fields: &Map<String, Value>,
    ) -> Step<Req> {
        let sample_target = sample::target(self.spec, ep, op);
        let mut path = self.spec.full_path(ep);
        let params = crate::spec::template_params(&path).unwrap_or_default();
        if params.is_empty() || !kv.is_empty() {
            for (i, p) in params.iter().enumerate() {
                let v = kv
                    .iter()
                    .find(|(k, _)| k == p)
                    .or(kv.get(i))
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| Outcome::skip("the record's key does not fill the URL"))?;
                path = path.replace(&format!("{{{p}}}"), &sample::encode(&v));
            }
            if let Some((_, q)) = sample_target.split_once('?') {
                path = format!("{path}?{q}");
            }
        } else {
            path = sample_target;
        }
        let req = self.request(op.method.get_ref(), &path, &caller_role(self.spec, op))?;
        let takes_body = op
            .request
            .as_ref()
            .is_some_and(|r| !r.empty && r.schema.is_some());
        if !takes_body {
            return Ok(self.with_body(req, None));
        }
        let schema = self.request_schema(op)?;
        let mut obj = sample::object(self.spec, schema);
        for (k, v) in fields {
            obj.insert(k.clone(), v.clone());
        }
        for (k, v) in kv {
            if !fields.contains_key(k) && schema.field.iter().any(|f| f.name.get_ref() == k) {
                obj.insert(k.clone(), Value::String(v.clone()));
            }
        }
        let body = sample::encode_object(self.spec, op, obj)
            .ok_or_else(|| Outcome::skip("the operation takes no schema-shaped body"))?;
        Ok(self.with_body(req, Some(body)))
    }

    /// The key values of every record a read-back of `collection` shows.
    fn key_tuples(&self, collection: &Collection, resp: &Resp) -> Option<HashSet<Vec<String>>> {
        let keys = self.spec.collection_keys(collection);
        if keys.is_empty() {
            return None;
        }
        let tree = outcome::parse(resp).ok()?;
        let mut out = Vec::new();
        records(&tree, &keys, &mut out);
        Some(
            out.iter()
                .map(|o| keys.iter().map(|k| text_of(&o[k])).collect())
                .collect(),
        )
    }

    /// The list operation of the endpoint's collection: (path, op).
    fn reader(&self, collection: &str) -> Option<(String, &'a Operation)> {
        self.spec
            .endpoints()
            .find_map(|ep| {
                if ep.collection.as_ref().map(|c| c.get_ref().as_str()) != Some(collection) {
                    return None;
                }
                ep.op
                    .iter()
                    .find(|o| o.effect == Some(Effect::List) && o.method.get_ref() == "GET")
                    .map(|o| (sample::target(self.spec, ep, o), o))
            })
            .or_else(|| {
                // No listing: a query with only its required parameters.
                self.spec.endpoints().find_map(|ep| {
                    if ep.collection.as_ref().map(|c| c.get_ref().as_str()) != Some(collection) {
                        return None;
                    }
                    ep.op
                        .iter()
                        .find(|o| o.effect == Some(Effect::Query) && o.method.get_ref() == "GET")
                        .map(|o| (sample::target(self.spec, ep, o), o))
                })
            })
    }

    fn collection(&self) -> Option<&'a Collection> {
        let (ep, _) = self.endpoint_op();
        ep.and_then(|ep| ep.collection.as_ref())
            .and_then(|c| self.spec.collection(c.get_ref()))
    }

    /// Read the collection back (first page), as its lowest allowed role.
    async fn read_back(&mut self) -> Step<Option<Resp>> {
        let Some(c) = self.collection() else {
            return Ok(None);
        };
        let Some((target, op)) = self.reader(c.name.get_ref()) else {
            return Ok(None);
        };
        let role = caller_role(self.spec, op);
        let mut req = self.with_body(self.request("GET", &target, &role)?, None);
        if let Some(a) = Self::accept_for(Some(op)) {
            req = req.header("Accept", &a);
        }
        let was = self.dirty;
        let r = self.send(&req).await?;
        self.dirty = was;
        Ok(Some(r))
    }

    async fn omit(&mut self) -> Step<Outcome> {
        let e = self.t.entry.clone();
        let op = self.op()?;
        self.real_target_write(op)?;
        let field = e.field.clone().unwrap_or_default();
        let (ct, body) = self.object_body(op, |o| {
            o.remove(&field);
        })?;
        let before = self.read_back().await?;
        let target = self.op_target(op)?;
        let role = self.role();
        let req = self
            .request(op.method.get_ref(), &target, &role)?
            .body(&ct, body);
        let resp = self.send(&req).await?;
        let o = self.judge(&resp, &e.expect);
        if o.verdict != Verdict::Pass {
            return Ok(o);
        }
        let after = self.read_back().await?;
        if let (Some(b), Some(a)) = (before, after) {
            if b.status != a.status || b.body != a.body {
                return Ok(Outcome::fail(
                    "the rejected request changed the collection",
                    format!("read-back unchanged ({})", describe(&b)),
                    format!("read-back now {}", describe(&a)),
                ));
            }
        }
        Ok(o)
    }

    async fn full(&mut self) -> Step<Outcome> {
        let e = self.t.entry.clone();
        let op = self.op()?;
        self.real_target_write(op)?;
        let mut sent = Map::new();
        let (ct, body) = self.object_body(op, |o| sent = o.clone())?;
        // A create that carries server-assigned ids (the sample does) must not touch the
        // record that already has them: remember it to compare afterwards.
        let assigned_ident: Vec<(String, String)> = self
            .collection()
            .and_then(|c| self.spec.schema(c.schema.get_ref()))
            .map(|s| {
                s.field
                    .iter()
                    .filter(|f| f.server_assigned && f.key)
                    .filter_map(|f| {
                        sent.get(f.name.get_ref())
                            .map(|v| (f.name.get_ref().clone(), text_of(v)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let existing = if op.effect == Some(Effect::Create) && !assigned_ident.is_empty() {
            self.read_back()
                .await?
                .and_then(|r| outcome::parse(&r).ok())
                .and_then(|t| find_object(&t, &assigned_ident).cloned())
        } else {
            None
        };
        // On a real target, the keys the collection holds before the create: the record the
        // create adds is the one with a new key, which is how it is found for deletion when
        // the client chooses none of its identifying fields (server-assigned ids).
        let keys_before = match self.collection() {
            Some(c) if !self.s.emulator() && op.effect == Some(Effect::Create) => {
                match self.read_back().await? {
                    Some(r) => self.key_tuples(c, &r),
                    None => None,
                }
            }
            _ => None,
        };
        let target = self.op_target(op)?;
        let role = self.role();
        let req = self
            .request(op.method.get_ref(), &target, &role)?
            .body(&ct, body);
        let resp = self.send(&req).await?;
        let o = self.judge(&resp, &e.expect);
        let mut undone = false;
        if let (Some(before), Some(c), true) = (&keys_before, self.collection(), resp.status < 300)
        {
            if let Some(tree) = self
                .read_back()
                .await?
                .and_then(|r| outcome::parse(&r).ok())
            {
                let keys = self.spec.collection_keys(c);
                let mut found = Vec::new();
                records(&tree, &keys, &mut found);
                for rec in found {
                    let k: Vec<String> = keys.iter().map(|k| text_of(&rec[k])).collect();
                    if !before.contains(&k) {
                        let rec = rec.clone();
                        self.undo_create(c, &rec);
                        undone = true;
                    }
                }
            }
        }
        // No read-back to find it by, but the client chose its whole key: delete it by that.
        if let (None, Some(c), true) = (&keys_before, self.collection(), resp.status < 300) {
            let keys = self.spec.collection_keys(c);
            let assigned = |k: &String| {
                self.spec.schema(c.schema.get_ref()).is_some_and(|s| {
                    s.field
                        .iter()
                        .any(|f| f.name.get_ref() == k && f.server_assigned)
                })
            };
            if !self.s.emulator()
                && op.effect == Some(Effect::Create)
                && !keys.is_empty()
                && keys.iter().all(|k| sent.contains_key(k) && !assigned(k))
            {
                let sent = sent.clone();
                self.undo_create(c, &sent);
                undone = true;
            }
        }
        if o.verdict != Verdict::Pass || resp.status >= 300 {
            return Ok(o);
        }
        if let Some(before) = existing {
            let after = self
                .read_back()
                .await?
                .and_then(|r| outcome::parse(&r).ok())
                .and_then(|t| find_object(&t, &assigned_ident).cloned());
            let changed = match &after {
                None => true,
                Some(a) => before.iter().any(|(k, v)| {
                    !v.is_object() && !v.is_array() && a.get(k).map(text_of) != Some(text_of(v))
                }),
            };
            if changed {
                return Ok(Outcome::fail(
                    "the create used the id the client sent and overwrote the record that had it",
                    format!("record {assigned_ident:?} unchanged"),
                    match after {
                        Some(a) => serde_json::to_string(&a).unwrap_or_default(),
                        None => "gone".into(),
                    },
                ));
            }
        }
        let Some(c) = self.collection() else {
            return Ok(o);
        };
        if !matches!(
            op.effect,
            Some(Effect::Create | Effect::Update | Effect::Upsert)
        ) {
            return Ok(o);
        }
        let Some(back) = self.read_back().await? else {
            return Ok(o);
        };
        let Ok(tree) = outcome::parse(&back) else {
            return Ok(o);
        };
        let schema = self.spec.schema(c.schema.get_ref());
        let assigned = self.spec.server_assigned(c);
        // Identify the record by the scalar fields that are unique or part of the key.
        let ident: Vec<(String, String)> = schema
            .map(|s| {
                s.field
                    .iter()
                    .filter(|f| (f.key || f.unique) && !f.server_assigned)
                    .filter_map(|f| {
                        sent.get(f.name.get_ref())
                            .map(|v| (f.name.get_ref().clone(), text_of(v)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if ident.is_empty() {
            return Ok(o);
        }
        let Some(found) = find_object(&tree, &ident) else {
            // The first page may not hold it; only a missing record on a complete read is a
            // finding, and the read is one page.
            return Ok(Outcome {
                note: Some("the record was not on the first page of the read-back".into()),
                ..o
            });
        };
        let found = found.clone();
        if !undone {
            self.undo_create(c, &found);
        }
        for (k, v) in &sent {
            if assigned.contains(k.as_str()) || v.is_object() || v.is_array() {
                continue;
            }
            if let Some(got) = found.get(k) {
                if text_of(got) != text_of(v) {
                    return Ok(Outcome::fail(
                        format!("`{k}` reads back different from what was sent"),
                        format!("{k} = {}", text_of(v)),
                        format!("{k} = {}", text_of(got)),
                    ));
                }
            }
        }
        Ok(o)
    }

    async fn unknown_field(&mut self) -> Step<Outcome> {
        const FIELD: &str = "dialtoneUnknownField";
        let e = self.t.entry.clone();
        let op = self.op()?;
        self.real_target_write(op)?;
        let (ct, body) = self.object_body(op, |o| {
            o.insert(FIELD.into(), Value::String("dialtone".into()));
        })?;
        let target = self.op_target(op)?;
        let role = self.role();
        let req = self
            .request(op.method.get_ref(), &target, &role)?
            .body(&ct, body);
        let resp = self.send(&req).await?;
        let o = self.judge(&resp, &e.expect);
        if o.verdict != Verdict::Pass || resp.status >= 300 {
            return Ok(o);
        }
        if let Some(back) = self.read_back().await? {
            if back.text().contains(FIELD) {
                return Ok(Outcome::fail(
                    "a field the schema does not list was stored",
                    format!("no `{FIELD}` on read-back"),
                    describe(&back),
                ));
            }
        }
        Ok(o)
    }

    /// Send the sample object with `field` set to `value`; `Ok(None)` when the answer is
    /// the documented rejection, `Ok(Some(actual))` when it is not.
    async fn try_invalid(
        &mut self,
        op: &Operation,
        field: &str,
        value: &Value,
    ) -> Step<Option<String>> {
        let e = self.t.entry.clone();
        let (name, v) = (field.to_string(), value.clone());
        let (ct, body) = self.object_body(op, move |o| {
            o.insert(name, v);
        })?;
        let target = self.op_target(op)?;
        let role = self.role();
        let req = self
            .request(op.method.get_ref(), &target, &role)?
            .body(&ct, body);
        let resp = self.send(&req).await?;
        let ok = self.answers_one_of(&e.expect, &resp);
        Ok((!ok).then(|| describe(&resp)))
    }

    /// Property: for `--cases` generated values, each breaking one documented constraint of
    /// one field, the operation answers its rejection, and the collection is unchanged at
    /// the end. A failing value is shrunk to the simplest one that still fails; the seed
    /// and case number in the message reproduce it (`--seed`).
    async fn property_invalid(&mut self) -> Step<Outcome> {
        use proptest::strategy::{Strategy, ValueTree};
        let e = self.t.entry.clone();
        let op = self.op()?;
        self.real_target_write(op)?;
        let schema = self.request_schema(op)?;
        let fields: Vec<&Field> = schema
            .field
            .iter()
            .filter(|f| !f.server_assigned && crate::props::strategy::invalid(f).is_some())
            .collect();
        if fields.is_empty() {
            return Err(Outcome::skip("no field has a constraint a value can break"));
        }
        let seed = self.seed();
        let mut runner = self.case_runner(0);
        let before = self.read_back().await?;
        let deadline = self.s.property_deadline();
        for case in 0..self.cases() as usize {
            if self.out_of_time(case, deadline) {
                break;
            }
            let f = fields[case % fields.len()];
            let strat = crate::props::strategy::invalid(f).expect("filtered above");
            let mut tree = strat
                .new_tree(&mut runner)
                .map_err(|r| Outcome::error(format!("generating a value: {r}")))?;
            let (value, why) = tree.current();
            let Some(actual) = self.try_invalid(op, f.name.get_ref(), &value).await? else {
                continue;
            };
            // Shrink: the simplest value that still is not rejected.
            let mut best = (value, why, actual);
            let mut steps = 0;
            if tree.simplify() {
                loop {
                    steps += 1;
                    if steps > 64 {
                        break;
                    }
                    let (v, w) = tree.current();
                    match self.try_invalid(op, f.name.get_ref(), &v).await? {
                        Some(a) => {
                            best = (v, w, a);
                            if !tree.simplify() {
                                break;
                            }
                        }
                        None => {
                            if !tree.complicate() {
                                break;
                            }
                        }
                    }
                }
            }
            let (v, why, mut actual) = best;
            // The evidence is one replay of the shrunk value, not every attempt.
            let mark = self.exchanges.len();
            if let Some(a) = self.try_invalid(op, f.name.get_ref(), &v).await? {
                self.exchanges.drain(..mark);
                actual = a;
            }
            return Ok(Outcome::fail(
                format!(
                    "{why}: {} = {v} was not rejected (case {} of seed {seed}, shrunk in {steps} steps; `--seed {seed}` reproduces it)",
                    f.name.get_ref(),
                    case + 1
                ),
                e.expect.join(" or "),
                actual,
            ));
        }
        if let (Some(b), Some(a)) = (before, self.read_back().await?) {
            if b.status != a.status || b.body != a.body {
                return Ok(Outcome::fail(
                    "rejected requests changed the collection",
                    format!("read-back unchanged ({})", describe(&b)),
                    format!("read-back now {}", describe(&a)),
                ));
            }
        }
        Ok(Outcome::pass())
    }

    /// Property: for `--cases` generated valid updates (free fields from the schema's
    /// strategies; keys, unique and referencing fields from the sample), sending one twice
    /// succeeds both times and the read-back after the second equals the one after the
    /// first.
    async fn property_idempotent(&mut self) -> Step<Outcome> {
        use proptest::strategy::{Strategy, ValueTree};
        let e = self.t.entry.clone();
        let op = self.op()?;
        self.real_target_write(op)?;
        let schema = self.request_schema(op)?;
        let collection = self.collection().map(|c| c.name.get_ref().clone());
        let referencing: Vec<String> = self
            .spec
            .references()
            .filter(|r| Some(r.from.get_ref()) == collection.as_ref())
            .map(|r| r.field.clone())
            .collect();
        // Fields whose value must stay the sample's: the record's identity, uniqueness
        // and references to other records.
        let fixed = |f: &Field| {
            f.key || f.unique || f.server_assigned || referencing.contains(f.name.get_ref())
        };
        let free: Vec<&Field> = schema.field.iter().filter(|f| !fixed(f)).collect();
        if free.is_empty() {
            return Err(Outcome::skip("every field is a key, unique or a reference"));
        }
        let seed = self.seed();
        let mut runner = self.case_runner(7);
        let names: Vec<String> = free.iter().map(|f| f.name.get_ref().clone()).collect();
        let strategies: Vec<_> = free
            .iter()
            .map(|f| crate::props::strategy::valid(self.spec, f))
            .collect();
        let target = self.op_target(op)?;
        let role = self.role();
        let deadline = self.s.property_deadline();
        for case in 0..self.cases() as usize {
            if self.out_of_time(case, deadline) {
                break;
            }
            let tree = strategies
                .new_tree(&mut runner)
                .map_err(|r| Outcome::error(format!("generating a value: {r}")))?;
            let values = tree.current();
            let edits: Vec<(String, Value)> = names.iter().cloned().zip(values).collect();
            let (ct, body) = {
                let edits = edits.clone();
                self.object_body(op, move |o| {
                    for (k, v) in edits {
                        o.insert(k, v);
                    }
                })?
            };
            let mut backs = Vec::new();
            for round in 1..=2 {
                let req = self
                    .request(op.method.get_ref(), &target, &role)?
                    .body(&ct, body.clone());
                let resp = self.send(&req).await?;
                if !self.answers_one_of(&e.expect, &resp) {
                    return Ok(Outcome::fail(
                        format!(
                            "a valid update was not accepted (send {round}, case {} of seed {seed}; `--seed {seed}` reproduces it); values: {}",
                            case + 1,
                            serde_json::to_string(&edits).unwrap_or_default()
                        ),
                        e.expect.join(" or "),
                        describe(&resp),
                    ));
                }
                backs.push(self.read_back().await?);
            }
            if let (Some(Some(a)), Some(Some(b))) = (backs.first(), backs.get(1)) {
                if a.body != b.body {
                    return Ok(Outcome::fail(
                        format!(
                            "sending the same update again changed the state (case {} of seed {seed})",
                            case + 1
                        ),
                        format!("read-back after the second send equals the first: {}", describe(a)),
                        describe(b),
                    ));
                }
            }
        }
        Ok(Outcome::pass())
    }

    /// Writes to a real target only touch what the runner creates.
    fn real_target_write(&self, op: &Operation) -> Step<()> {
        if self.s.emulator() || op.effect == Some(Effect::Create) {
            return Ok(());
        }
        Err(Outcome::skip(
            "would change an object dialtone did not create on a real target",
        ))
    }

    // ---- cursors and pages ----------------------------------------------------------

    async fn cursor(&mut self, check: CursorCheck) -> Step<Outcome> {
        let e = self.t.entry.clone();
        let (Some(ep), Some(op)) = self.endpoint_op() else {
            return Err(Outcome::error("the entry names no operation"));
        };
        let p = op
            .pagination
            .as_ref()
            .and_then(|n| self.spec.pagination(n.get_ref()))
            .ok_or_else(|| Outcome::error("the operation has no pagination"))?;
        let collection = ep.collection.as_ref().map(|c| c.get_ref().clone());
        let role = self.role();
        let base = strip_query(
            &sample::target(self.spec, ep, op),
            &p.params.values().collect::<Vec<_>>(),
        );
        let pager = Pager {
            p,
            base,
            role,
            key: collection
                .as_deref()
                .and_then(|c| self.spec.collection(c))
                .map(|c| c.key.clone())
                .unwrap_or_default(),
            items_paths: {
                let schema = op
                    .response
                    .as_ref()
                    .and_then(|r| r.schema.as_ref())
                    .and_then(|s| self.spec.schema(s.get_ref()));
                let mut v: Vec<String> = Vec::new();
                v.extend(p.fields.get("items").cloned());
                v.extend(op.response.as_ref().and_then(|r| r.wrapper.clone()));
                v.push("items".into());
                v.push(crate::spec::item_name(schema));
                v
            },
            accept: Self::accept_for(Some(op)),
        };
        if check == CursorCheck::RandomSizes {
            return self
                .cursor_random_sizes(&pager, collection.as_deref())
                .await;
        }
        // A known population on the emulator; a real target is walked as it is.
        let seeded = match (&collection, self.s.emulator()) {
            (Some(c), true) if check != CursorCheck::Empty => {
                let api = e.api.clone();
                self.control(
                    Control::Generate {
                        api: &api,
                        collection: c,
                        count: Some(SEED_ROWS),
                    },
                    None,
                )
                .await?;
                self.dirty = true;
                Some(SEED_ROWS as usize)
            }
            _ => None,
        };
        let limit_name = p.limit_param();
        match check {
            CursorCheck::WalkForward | CursorCheck::WalkPages | CursorCheck::WalkRanges => {
                let mut first: Option<Vec<String>> = None;
                for size in [1usize, 4, 7] {
                    let ids = match self.walk(&pager, size, Dir::Forward).await? {
                        Ok(w) => w.ids,
                        Err(o) => return Ok(o),
                    };
                    if let Err(o) = unique(&ids, size) {
                        return Ok(o);
                    }
                    if let Some(n) = seeded {
                        if ids.len() != n {
                            return Ok(Outcome::fail(
                                format!(
                                    "a walk with page size {size} saw {} items of {n}",
                                    ids.len()
                                ),
                                format!("{n} items"),
                                format!("{} items", ids.len()),
                            ));
                        }
                    }
                    match &first {
                        None => first = Some(ids),
                        Some(f) if *f != ids => {
                            return Ok(Outcome::fail(
                                format!(
                                    "walks with page sizes 1 and {size} give a different order"
                                ),
                                format!("{:?}…", &f[..f.len().min(6)]),
                                format!("{:?}…", &ids[..ids.len().min(6)]),
                            ))
                        }
                        _ => {}
                    }
                }
                Ok(Outcome::pass())
            }
            CursorCheck::WalkBackward => {
                let fwd = match self.walk(&pager, 4, Dir::Forward).await? {
                    Ok(w) => w,
                    Err(o) => return Ok(o),
                };
                let back = match self
                    .walk(
                        &pager,
                        4,
                        Dir::Backward(fwd.last_prev.clone(), fwd.last_page.clone()),
                    )
                    .await?
                {
                    Ok(w) => w,
                    Err(o) => return Ok(o),
                };
                if let Err(o) = unique(&back.ids, 4) {
                    return Ok(o);
                }
                let mut a = fwd.ids.clone();
                let mut b = back.ids.clone();
                a.sort();
                b.sort();
                if a != b {
                    return Ok(Outcome::fail(
                        "walking backward does not visit the items walking forward does",
                        format!("{} items", fwd.ids.len()),
                        format!("{} items", back.ids.len()),
                    ));
                }
                Ok(Outcome::pass())
            }
            CursorCheck::Sentinel => {
                let s = p.sentinel.unwrap_or(-1).to_string();
                let w = match self.walk(&pager, 4, Dir::Forward).await? {
                    Ok(w) => w,
                    Err(o) => return Ok(o),
                };
                if w.first_prev.as_deref() != Some(s.as_str()) {
                    return Ok(Outcome::fail(
                        "the first page does not mark its start with the sentinel",
                        format!("prev cursor {s}"),
                        format!("prev cursor {:?}", w.first_prev),
                    ));
                }
                if w.last_next.as_deref() != Some(s.as_str()) {
                    return Ok(Outcome::fail(
                        "the last page does not mark its end with the sentinel",
                        format!("next cursor {s}"),
                        format!("next cursor {:?}", w.last_next),
                    ));
                }
                Ok(Outcome::pass())
            }
            CursorCheck::Metadata => {
                let w = match self.walk(&pager, 4, Dir::Forward).await? {
                    Ok(w) => w,
                    Err(o) => return Ok(o),
                };
                match (p.fields.get("total"), w.total) {
                    (Some(_), Some(t)) if t != w.ids.len() => Ok(Outcome::fail(
                        "the total in the paging metadata is not the number of items",
                        format!("total {}", w.ids.len()),
                        format!("total {t}"),
                    )),
                    (Some(f), None) => Ok(Outcome::fail(
                        format!("the paging metadata lacks `{f}`"),
                        format!("`{f}` in every page"),
                        "absent".to_string(),
                    )),
                    _ => Ok(Outcome::pass()),
                }
            }
            CursorCheck::Limit => {
                let Some(lname) = limit_name else {
                    return Err(Outcome::skip("the pagination has no limit parameter"));
                };
                for size in [1usize, 3] {
                    let t = with_query(&pager.base, &pager.first_page_query(size));
                    let resp = self.page_get(&pager, &t).await?;
                    if resp.status >= 300 {
                        return Ok(self.judge(&resp, &e.expect));
                    }
                    let n = pager.items(&resp)?.len();
                    if n > size {
                        return Ok(Outcome::fail(
                            format!("{lname}={size} gave {n} items"),
                            format!("at most {size} items"),
                            format!("{n} items"),
                        ));
                    }
                    if n < size && !p.may_return_fewer && seeded.is_some() {
                        return Ok(Outcome::fail(
                            format!("{lname}={size} gave {n} items though more exist"),
                            format!("{size} items"),
                            format!("{n} items"),
                        ));
                    }
                }
                if let (Some(d), PaginationStyle::Cursor) = (p.default_limit, p.style) {
                    let resp = self.page_get(&pager, &pager.base.clone()).await?;
                    let n = pager.items(&resp)?.len();
                    if n > d as usize {
                        return Ok(Outcome::fail(
                            format!("without `{lname}`, a page holds {n} items"),
                            format!("at most the default {d}"),
                            format!("{n} items"),
                        ));
                    }
                }
                Ok(Outcome::pass())
            }
            CursorCheck::Empty => {
                let Some(c) = &collection else {
                    return Err(Outcome::skip("the resource has no collection to empty"));
                };
                self.need_control("needs an empty collection")?;
                let api = e.api.clone();
                self.control(
                    Control::LoadRows {
                        api: &api,
                        collection: c,
                    },
                    Some(b"[]".to_vec()),
                )
                .await?;
                self.dirty = true;
                let resp = self.page_get(&pager, &pager.base.clone()).await?;
                Ok(self.judge(&resp, &e.expect))
            }
            CursorCheck::RandomSizes => unreachable!("handled before seeding"),
            CursorCheck::Invalid => {
                let q = match p.style {
                    PaginationStyle::Cursor => p
                        .params
                        .get("after")
                        .map(|a| format!("{a}=dialtone-not-a-cursor")),
                    PaginationStyle::Page => p
                        .params
                        .get("page")
                        .map(|a| format!("{a}=dialtone-not-a-page")),
                    _ => p
                        .params
                        .get("start")
                        .map(|a| format!("{a}=dialtone-not-a-row")),
                };
                let Some(q) = q else {
                    return Err(Outcome::skip("the pagination has no parameter to spoil"));
                };
                let resp = self.page_get(&pager, &with_query(&pager.base, &q)).await?;
                Ok(self.judge(&resp, &e.expect))
            }
        }
    }

    /// Property: for generated (collection size, page size) pairs, a forward walk sees every
    /// item exactly once, all of them (on the emulator, which is seeded with that many rows
    /// through its control interface), in the order of a walk in one big page. A real
    /// target is walked over its own data, with generated page sizes. A failing pair is
    /// shrunk to the smallest that still fails.
    async fn cursor_random_sizes(
        &mut self,
        pager: &Pager<'_>,
        collection: Option<&str>,
    ) -> Step<Outcome> {
        use proptest::strategy::{Strategy, ValueTree};
        let seed = self.seed();
        let api = self.t.entry.api.clone();
        let emulated = self.s.emulator() && collection.is_some();
        let max_limit = pager
            .p
            .max_limit
            .map(|m| m as usize)
            .unwrap_or(12)
            .clamp(1, 12);
        let strat = (0usize..=30, 1usize..=max_limit);
        let mut runner = self.case_runner(11);
        let mut reference: Option<Vec<String>> = None;
        let deadline = self.s.property_deadline();
        for case in 0..self.cases() as usize {
            if self.out_of_time(case, deadline) {
                break;
            }
            let mut tree = strat
                .new_tree(&mut runner)
                .map_err(|r| Outcome::error(format!("generating sizes: {r}")))?;
            let (n, size) = tree.current();
            let Some(why) = self
                .random_walk(pager, collection, emulated, n, size, &mut reference, &api)
                .await?
            else {
                continue;
            };
            let mut best = ((n, size), why);
            let mut steps = 0;
            if tree.simplify() {
                while steps < 48 {
                    steps += 1;
                    let (n, size) = tree.current();
                    match self
                        .random_walk(pager, collection, emulated, n, size, &mut reference, &api)
                        .await?
                    {
                        Some(w) => {
                            best = ((n, size), w);
                            if !tree.simplify() {
                                break;
                            }
                        }
                        None => {
                            if !tree.complicate() {
                                break;
                            }
                        }
                    }
                }
            }
            let ((n, size), mut o) = best;
            // The evidence is one replay of the shrunk case, not every attempt.
            let mark = self.exchanges.len();
            let mut fresh = None;
            if let Some(again) = self
                .random_walk(pager, collection, emulated, n, size, &mut fresh, &api)
                .await?
            {
                self.exchanges.drain(..mark);
                o = again;
            }
            o.message = Some(format!(
                "{} (collection of {}, page size {size}; case {} of seed {seed}, shrunk in {steps} steps; `--seed {seed}` reproduces it)",
                o.message.clone().unwrap_or_default(),
                if emulated { n.to_string() } else { "the target's".into() },
                case + 1
            ));
            return Ok(o);
        }
        Ok(Outcome::pass())
    }

    /// One walk of the random-sizes property; `Some(failure)` when it breaks an invariant.
    #[allow(clippy::too_many_arguments)]
    async fn random_walk(
        &mut self,
        pager: &Pager<'_>,
        collection: Option<&str>,
        emulated: bool,
        n: usize,
        size: usize,
        reference: &mut Option<Vec<String>>,
        api: &str,
    ) -> Step<Option<Outcome>> {
        if emulated {
            let c = collection.unwrap_or_default();
            self.control(
                Control::Generate {
                    api,
                    collection: c,
                    count: Some(n as u64),
                },
                None,
            )
            .await?;
            self.dirty = true;
        }
        let ids = match self.walk(pager, size, Dir::Forward).await? {
            Ok(w) => w.ids,
            Err(o) => return Ok(Some(o)),
        };
        if let Err(o) = unique(&ids, size) {
            return Ok(Some(o));
        }
        if emulated {
            if ids.len() != n {
                return Ok(Some(Outcome::fail(
                    format!("the walk saw {} items of {n}", ids.len()),
                    format!("{n} items"),
                    format!("{} items", ids.len()),
                )));
            }
            // The order of a walk in one page holding everything.
            let whole = match self.walk(pager, n.max(1), Dir::Forward).await? {
                Ok(w) => w.ids,
                Err(o) => return Ok(Some(o)),
            };
            if whole != ids {
                return Ok(Some(Outcome::fail(
                    format!("pages of {size} list the items in another order than one page of {n}"),
                    format!("{:?}…", &whole[..whole.len().min(6)]),
                    format!("{:?}…", &ids[..ids.len().min(6)]),
                )));
            }
        } else {
            match reference {
                None => *reference = Some(ids),
                Some(r) if *r != ids => {
                    return Ok(Some(Outcome::fail(
                        format!("a walk with page size {size} lists other items or another order than the first walk"),
                        format!("{} items: {:?}…", r.len(), &r[..r.len().min(6)]),
                        format!("{} items: {:?}…", ids.len(), &ids[..ids.len().min(6)]),
                    )))
                }
                _ => {}
            }
        }
        Ok(None)
    }

    async fn page_get(&mut self, pager: &Pager<'_>, target: &str) -> Step<Resp> {
        let mut req = self.with_body(self.request("GET", target, &pager.role)?, None);
        if let Some(a) = &pager.accept {
            req = req.header("Accept", a);
        }
        let was = self.dirty;
        let r = self.send(&req).await;
        self.dirty = was;
        r
    }

    /// Walk every page. The outer `Err` ends the test (transport); the inner `Err` is the
    /// test's finding (a broken walk).
    async fn walk(
        &mut self,
        pager: &Pager<'_>,
        size: usize,
        dir: Dir,
    ) -> Step<Result<Walk, Outcome>> {
        let p = pager.p;
        let sentinel = p.sentinel.unwrap_or(-1).to_string();
        let empty_status = p.empty.as_ref().map(|o| o.get_ref().status);
        let mut w = Walk::default();
        let mut seen_cursors = HashSet::new();
        let mut query = match &dir {
            Dir::Forward => pager.first_page_query(size),
            Dir::Backward(prev, last) => {
                w.ids.extend(last.iter().cloned());
                match prev {
                    Some(c) if *c != sentinel => format!(
                        "{}={c}&{}={size}",
                        p.params
                            .get("before")
                            .map(String::as_str)
                            .unwrap_or("before"),
                        p.params.get("limit").map(String::as_str).unwrap_or("limit")
                    ),
                    _ => return Ok(Ok(w)),
                }
            }
        };
        let first_index = p.first_index.unwrap_or(0) as usize;
        let mut index = 0usize;
        for page_no in 0.. {
            if page_no >= self.s.opts.max_pages {
                return Ok(Err(Outcome::fail(
                    format!("the walk did not end after {} pages", self.s.opts.max_pages),
                    "a last page",
                    "pages without end",
                )));
            }
            let t = with_query(&pager.base, &query);
            let resp = self.page_get(pager, &t).await?;
            if Some(resp.status) == empty_status && resp.status != 200 {
                break;
            }
            if resp.status != 200 {
                return Ok(Err(Outcome::fail(
                    format!("page {} of the walk failed", page_no + 1),
                    "200",
                    describe(&resp),
                )));
            }
            let items = pager.items(&resp)?;
            let tree = outcome::parse(&resp)
                .map_err(|why| Outcome::error(format!("a page does not parse: {why}")))?;
            if let Some(f) = p.fields.get("total") {
                w.total = lookup(&tree, f).map(text_of).and_then(|t| t.parse().ok());
            }
            let ids: Vec<String> = items.iter().map(|i| pager.identity(i)).collect();
            let n = ids.len();
            match &dir {
                Dir::Forward => w.ids.extend(ids.iter().cloned()),
                Dir::Backward(..) => {
                    let mut all = ids.clone();
                    all.extend(std::mem::take(&mut w.ids));
                    w.ids = all;
                }
            }
            match p.style {
                PaginationStyle::Cursor => {
                    let next = p
                        .fields
                        .get("next")
                        .and_then(|f| lookup(&tree, f))
                        .map(text_of);
                    let prev = p
                        .fields
                        .get("prev")
                        .and_then(|f| lookup(&tree, f))
                        .map(text_of);
                    if page_no == 0 {
                        w.first_prev = prev.clone();
                    }
                    w.last_next = next.clone();
                    w.last_prev = prev.clone();
                    w.last_page = ids.clone();
                    let cursor = match &dir {
                        Dir::Forward => next,
                        Dir::Backward(..) => prev,
                    };
                    let Some(c) = cursor else {
                        return Ok(Err(Outcome::fail(
                            "a page carries no cursor",
                            "a cursor field on every page",
                            describe(&resp),
                        )));
                    };
                    if c == sentinel || n == 0 {
                        break;
                    }
                    if !seen_cursors.insert(c.clone()) {
                        return Ok(Err(Outcome::fail(
                            format!("the cursor `{c}` came back twice: the walk would loop"),
                            "every cursor once",
                            format!("`{c}` again"),
                        )));
                    }
                    let (name, lname) = match &dir {
                        Dir::Forward => ("after", "limit"),
                        Dir::Backward(..) => ("before", "limit"),
                    };
                    query = format!(
                        "{}={}&{}={size}",
                        p.params.get(name).map(String::as_str).unwrap_or(name),
                        sample::encode(&c),
                        p.params.get(lname).map(String::as_str).unwrap_or(lname)
                    );
                }
                _ => {
                    if n == 0 || (n < size && !p.may_return_fewer) {
                        break;
                    }
                    if n > size {
                        return Ok(Err(Outcome::fail(
                            format!("a page holds {n} items for a page size of {size}"),
                            format!("at most {size}"),
                            format!("{n}"),
                        )));
                    }
                    index += n;
                    query = pager.query_at(first_index, page_no + 1, index, size);
                }
            }
        }
        Ok(Ok(w))
    }

    // ---- jobs and references --------------------------------------------------------

    async fn job(&mut self) -> Step<Outcome> {
        let e = self.t.entry.clone();
        let name = e.id.rsplit('/').nth(1).unwrap_or_default().to_string();
        let job = self
            .spec
            .jobs()
            .find(|j| *j.name.get_ref() == name)
            .ok_or_else(|| Outcome::error(format!("no job `{name}` in the spec")))?;
        let (Some(ep), Some(op)) = self.endpoint_op() else {
            return Err(Outcome::error("the job's start operation is missing"));
        };
        let role = self.role();
        let target = sample::target(self.spec, ep, op);
        let req = self.with_body(
            self.request(&job.start_method, &target, &role)?,
            sample::body(self.spec, op),
        );
        let resp = self.send(&req).await?;
        let accepted = job.accepted.get_ref().to_string();
        if let Err(why) = outcome::matches(self.spec, &accepted, &resp) {
            return Ok(Outcome::fail(
                format!("starting the job: {why}"),
                accepted,
                describe(&resp),
            ));
        }
        let hname = job.location_header.as_deref().unwrap_or("Location");
        let Some(loc) = resp.header(hname).map(str::to_string) else {
            return Ok(Outcome::fail(
                format!("the job was accepted without a `{hname}` header"),
                format!("{hname}: <poll URL>"),
                describe(&resp),
            ));
        };
        let pending: Vec<String> = job
            .pending
            .iter()
            .map(|p| p.get_ref().to_string())
            .collect();
        let done = job.done.get_ref().to_string();
        let max = job.emulator_pending_polls.unwrap_or(5) as usize + 10;
        for _ in 0..max {
            let req = self.with_body(self.request("GET", &loc, &role)?, None);
            let r = self.send(&req).await?;
            if outcome::matches(self.spec, &done, &r).is_ok() {
                return Ok(Outcome::pass());
            }
            if !pending
                .iter()
                .any(|p| outcome::matches(self.spec, p, &r).is_ok())
            {
                return Ok(Outcome::fail(
                    "polling the job gave neither a pending nor the done outcome",
                    format!("{} until {done}", pending.join("/")),
                    describe(&r),
                ));
            }
            tokio::time::sleep(std::time::Duration::from_millis(if self.s.emulator() {
                5
            } else {
                500
            }))
            .await;
        }
        Ok(Outcome::fail(
            format!("the job was still pending after {max} polls"),
            done,
            "pending",
        ))
    }

    async fn reference(&mut self) -> Step<Outcome> {
        let e = self.t.entry.clone();
        if !self.s.emulator() {
            return Err(Outcome::skip(
                "would try to delete an object dialtone did not create on a real target",
            ));
        }
        let name = e.id.rsplit('/').nth(1).unwrap_or_default().to_string();
        let r = self
            .spec
            .references()
            .find(|r| *r.name.get_ref() == name)
            .ok_or_else(|| Outcome::error(format!("no reference `{name}`")))?;
        // A value of the referencing field: from the `from` collection as listed, or, when
        // the API cannot list it, from the emulator's seed rows (this test runs only there).
        let tree = match self.reader(r.from.get_ref()) {
            Some((from_target, from_op)) => {
                let role = caller_role(self.spec, from_op);
                let mut req = self.with_body(self.request("GET", &from_target, &role)?, None);
                if let Some(a) = Self::accept_for(Some(from_op)) {
                    req = req.header("Accept", &a);
                }
                let resp = self.send(&req).await?;
                outcome::parse(&resp)
                    .map_err(|w| Outcome::error(format!("listing `{}`: {w}", r.from.get_ref())))?
            }
            None => self
                .spec
                .collection(r.from.get_ref())
                .map(|c| serde_json::to_value(&c.seed).unwrap_or_default())
                .unwrap_or_default(),
        };
        let value = first_field(&tree, &r.field).ok_or_else(|| {
            Outcome::skip(format!(
                "no `{}` refers to a `{}` on the target",
                r.from.get_ref(),
                r.to.get_ref()
            ))
        })?;
        // Delete the referenced object.
        let to = self
            .spec
            .collection(r.to.get_ref())
            .ok_or_else(|| Outcome::error("unknown collection"))?;
        let (dep, dop) = self.deleter(to.name.get_ref()).ok_or_else(|| {
            Outcome::skip(format!("`{}` has no delete operation", r.to.get_ref()))
        })?;
        let mut path = self.spec.full_path(dep);
        for p in crate::spec::template_params(&path).unwrap_or_default() {
            path = path.replace(&format!("{{{p}}}"), &sample::encode(&value));
        }
        let key = to.key.first().cloned().unwrap_or_default();
        let body = if dop
            .request
            .as_ref()
            .is_some_and(|r| !r.empty && r.schema.is_some())
        {
            Some(self.object_body(dop, |o| {
                o.insert(key.clone(), Value::String(value.clone()));
            })?)
        } else {
            None
        };
        let drole = caller_role(self.spec, dop);
        let req = self.with_body(self.request(dop.method.get_ref(), &path, &drole)?, body);
        let resp = self.send(&req).await?;
        Ok(self.judge(&resp, &e.expect))
    }

    // ---- scenario cases -------------------------------------------------------------

    async fn case(&mut self, case: &super::cases::Case) -> Step<Outcome> {
        if case.emulator_only() {
            self.need_control("the case drives the emulator's control interface")?;
        }
        if case.safety != Safety::Read && !self.s.emulator() {
            return Err(Outcome::skip(
                "the case changes objects it does not create on a real target",
            ));
        }
        self.dirty = case.safety != Safety::Read;
        let mut vars: std::collections::HashMap<String, String> = Default::default();
        vars.insert("prefix".into(), self.s.opts.prefix.clone());
        let subst = |s: &str, vars: &std::collections::HashMap<String, String>| -> String {
            let mut out = s.to_string();
            for (k, v) in vars {
                out = out.replace(&format!("{{{{{k}}}}}"), v);
            }
            out
        };
        let api = case.api.clone();
        for (i, step) in case.steps.iter().enumerate() {
            let at = format!("step {} `{}`", i + 1, step.name);
            if let Some(c) = &step.control {
                use super::cases::Control as Case;
                match c {
                    Case::Reset => self.control(Control::Reset, None).await?,
                    Case::Enter(s) => {
                        self.states.push(s.clone());
                        self.control(
                            Control::EnterState {
                                api: &api,
                                state: s,
                            },
                            None,
                        )
                        .await?
                    }
                    Case::Leave(s) => {
                        self.states.retain(|x| x != s);
                        self.control(
                            Control::LeaveState {
                                api: &api,
                                state: s,
                            },
                            None,
                        )
                        .await?
                    }
                    Case::Generate { collection, count } => {
                        self.control(
                            Control::Generate {
                                api: &api,
                                collection,
                                count: Some(*count),
                            },
                            None,
                        )
                        .await?
                    }
                };
                continue;
            }
            let method = step.method.clone().unwrap_or_default();
            let raw = subst(step.path.as_deref().unwrap_or("/"), &vars);
            let mut target = if raw.starts_with("http://") || raw.starts_with("https://") {
                raw
            } else {
                format!("{}{raw}", self.spec.base_path(step.base.as_deref()))
            };
            for (k, v) in &step.query {
                target.push(if target.contains('?') { '&' } else { '?' });
                target.push_str(&format!(
                    "{}={}",
                    sample::encode(k),
                    sample::encode(&subst(v, &vars))
                ));
            }
            let role = step.role.clone().unwrap_or_else(|| NO_CREDENTIALS.into());
            let mut req = self.request(&method, &target, &role)?;
            for (h, v) in &step.headers {
                req = req.header(h, &subst(v, &vars));
            }
            let body = if let Some(j) = &step.json {
                let text = serde_json::to_string(j).unwrap_or_default();
                Some((
                    step.content_type
                        .clone()
                        .unwrap_or_else(|| "application/json".into()),
                    subst(&text, &vars).into_bytes(),
                ))
            } else if let Some(t) = &step.text {
                Some((
                    step.content_type
                        .clone()
                        .unwrap_or_else(|| "text/plain".into()),
                    subst(t, &vars).into_bytes(),
                ))
            } else if !step.zip.is_empty() {
                let members: Vec<(String, Vec<u8>)> = step
                    .zip
                    .iter()
                    .map(|m| (m.name.clone(), subst(&m.text, &vars).into_bytes()))
                    .collect();
                Some((
                    step.content_type
                        .clone()
                        .unwrap_or_else(|| "application/zip".into()),
                    crate::codec::write_zip(&members),
                ))
            } else {
                None
            };
            if let Some(b64) = &step.body_b64 {
                use base64::Engine as _;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|e| Outcome::error(format!("{at}: `body_b64`: {e}")))?;
                // Exactly these bytes, with exactly the content type given (or none).
                if let Some(ct) = &step.content_type {
                    req = req.header("Content-Type", ct);
                }
                req.body = Some(bytes);
            } else {
                req = self.with_body(req, body);
            }
            let mut resp = self.send(&req).await?;
            if let Some(poll) = &step.poll {
                let mut n = 1;
                while outcome::matches(self.spec, &poll.until, &resp).is_err() {
                    if n >= poll.max {
                        return Ok(Outcome::fail(
                            format!("{at}: still not {} after {n} polls", poll.until),
                            poll.until.clone(),
                            describe(&resp),
                        ));
                    }
                    if !step.expect.is_empty() && !self.answers_one_of(&step.expect, &resp) {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(poll.interval_ms)).await;
                    resp = self.send(&req).await?;
                    n += 1;
                }
            }
            let want: Vec<String> = match &step.poll {
                Some(p) => vec![p.until.clone()],
                None => step.expect.clone(),
            };
            let o = self.judge(&resp, &want);
            if o.verdict != Verdict::Pass {
                return Ok(Outcome {
                    message: o.message.map(|m| format!("{at}: {m}")),
                    ..o
                });
            }
            if !step.content_types.is_empty() && !resp.body.is_empty() && method != "HEAD" {
                let got = outcome::essence(resp.content_type());
                if !step
                    .content_types
                    .iter()
                    .any(|c| outcome::same_family(c, &got))
                {
                    return Ok(Outcome::fail(
                        format!("{at}: the answer is not in a listed content type"),
                        format!("Content-Type: one of {}", step.content_types.join(", ")),
                        format!("Content-Type: {got}"),
                    ));
                }
            }
            for h in &step.response_headers {
                if resp.header(h).is_none() {
                    return Ok(Outcome::fail(
                        format!("{at}: no `{h}` header"),
                        h.clone(),
                        describe(&resp),
                    ));
                }
            }
            let tree = outcome::parse(&resp).ok();
            if let Some(b) = &step.body {
                let text = resp.text();
                for c in &b.contains {
                    let c = subst(c, &vars);
                    if !text.contains(&c) {
                        return Ok(Outcome::fail(
                            format!("{at}: the body lacks `{c}`"),
                            c.clone(),
                            clip(&text),
                        ));
                    }
                }
                for c in &b.absent {
                    let c = subst(c, &vars);
                    if text.contains(&c) {
                        return Ok(Outcome::fail(
                            format!("{at}: the body holds `{c}`"),
                            format!("no `{c}`"),
                            clip(&text),
                        ));
                    }
                }
                for (ptr, want) in &b.equals {
                    let want = subst(want, &vars);
                    let got = tree.as_ref().and_then(|t| t.pointer(ptr)).map(text_of);
                    if got.as_deref() != Some(want.as_str()) {
                        return Ok(Outcome::fail(
                            format!("{at}: `{ptr}` differs"),
                            want,
                            format!("{got:?}"),
                        ));
                    }
                }
                for (ptr, n) in &b.len {
                    let got = tree.as_ref().and_then(|t| t.pointer(ptr)).map(|v| match v {
                        Value::Array(a) => a.len(),
                        Value::Null => 0,
                        _ => 1,
                    });
                    if got != Some(*n) {
                        return Ok(Outcome::fail(
                            format!("{at}: `{ptr}` has the wrong length"),
                            n.to_string(),
                            format!("{got:?}"),
                        ));
                    }
                }
            }
            for (var, from) in &step.capture {
                let v = match from.strip_prefix("header:") {
                    Some(h) => resp.header(h).map(str::to_string),
                    None => tree.as_ref().and_then(|t| t.pointer(from)).map(text_of),
                };
                match v {
                    Some(v) => {
                        vars.insert(var.clone(), v);
                    }
                    None => {
                        return Ok(Outcome::fail(
                            format!("{at}: nothing to capture at `{from}`"),
                            from.clone(),
                            describe(&resp),
                        ))
                    }
                }
            }
        }
        Ok(Outcome::pass())
    }
}

/// Rows the emulator is seeded with before a walk: enough for several pages of every size
/// tried, and not a multiple of any.
const SEED_ROWS: u64 = 23;

struct Pager<'p> {
    p: &'p Pagination,
    base: String,
    role: String,
    key: Vec<String>,
    /// Where the items may be, most specific first.
    items_paths: Vec<String>,
    accept: Option<String>,
}

impl Pager<'_> {
    fn first_page_query(&self, size: usize) -> String {
        let first = self.p.first_index.unwrap_or(0) as usize;
        self.query_at(first, 0, 0, size)
    }

    fn query_at(&self, first: usize, page: usize, index: usize, size: usize) -> String {
        let p = self.p;
        let name = |k: &str| p.params.get(k).cloned().unwrap_or_else(|| k.to_string());
        match p.style {
            PaginationStyle::Cursor => format!("{}={size}", name("limit")),
            PaginationStyle::Page => format!(
                "{}={}&{}={size}",
                name("page"),
                first + page,
                name("pagesize")
            ),
            PaginationStyle::Rows => format!(
                "{}={}&{}={}",
                name("start"),
                first + index,
                name("end"),
                first + index + size
            ),
            PaginationStyle::Offset => format!(
                "{}={}&{}={size}",
                name("start"),
                first + index,
                name("limit")
            ),
        }
    }

    fn items(&self, resp: &Resp) -> Step<Vec<Value>> {
        if resp.status == 204 || resp.body.is_empty() {
            return Ok(vec![]);
        }
        let tree = outcome::parse(resp)
            .map_err(|w| Outcome::error(format!("a page does not parse: {w}")))?;
        let found = self
            .items_paths
            .iter()
            .find_map(|p| lookup(&tree, p))
            .cloned()
            .or_else(|| first_array(&tree).cloned());
        Ok(match found {
            Some(Value::Array(a)) => a,
            // XML: one item is an object, several an array; a wrapper may hold one more level.
            Some(Value::Object(o)) if o.len() == 1 => match o.into_iter().next().map(|(_, v)| v) {
                Some(Value::Array(a)) => a,
                Some(v) => vec![v],
                None => vec![],
            },
            Some(Value::Null) | None => vec![],
            // An empty XML element.
            Some(Value::String(t)) if t.trim().is_empty() => vec![],
            Some(v) => vec![v],
        })
    }

    fn identity(&self, item: &Value) -> String {
        let parts: Vec<String> = self
            .key
            .iter()
            .filter_map(|k| item.get(k).map(text_of))
            .collect();
        if parts.is_empty() || parts.len() != self.key.len() {
            serde_json::to_string(item).unwrap_or_default()
        } else {
            parts.join("/")
        }
    }
}

#[derive(Default)]
struct Walk {
    ids: Vec<String>,
    first_prev: Option<String>,
    last_next: Option<String>,
    last_prev: Option<String>,
    last_page: Vec<String>,
    total: Option<usize>,
}

enum Dir {
    Forward,
    /// Start before the last forward page: its `prev` cursor and its items.
    Backward(Option<String>, Vec<String>),
}

/// The objects in `v` (at any depth) that carry every field of `keys` as a scalar; the
/// objects inside one are not searched.
fn records<'v>(v: &'v Value, keys: &[String], out: &mut Vec<&'v Map<String, Value>>) {
    match v {
        Value::Object(o) => {
            if keys
                .iter()
                .all(|k| o.get(k).is_some_and(|x| !x.is_object() && !x.is_array()))
            {
                out.push(o);
            } else {
                o.values().for_each(|x| records(x, keys, out));
            }
        }
        Value::Array(a) => a.iter().for_each(|x| records(x, keys, out)),
        _ => {}
    }
}

fn unique(ids: &[String], size: usize) -> Result<(), Outcome> {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            return Err(Outcome::fail(
                format!("a walk with page size {size} listed `{id}` twice"),
                "every item once",
                format!("`{id}` twice"),
            ));
        }
    }
    Ok(())
}

/// A dotted path in a tree, also under the root element of a parsed XML document.
fn lookup<'v>(tree: &'v Value, path: &str) -> Option<&'v Value> {
    get_path(tree, path).or_else(|| match tree {
        Value::Object(o) if o.len() == 1 => o.values().next().and_then(|i| get_path(i, path)),
        _ => None,
    })
}

fn first_array(v: &Value) -> Option<&Value> {
    match v {
        Value::Array(_) => Some(v),
        Value::Object(o) => o.values().find_map(first_array),
        _ => None,
    }
}

fn first_field(v: &Value, field: &str) -> Option<String> {
    match v {
        Value::Object(o) => o
            .get(field)
            .map(text_of)
            .filter(|s| !s.is_empty())
            .or_else(|| o.values().find_map(|x| first_field(x, field))),
        Value::Array(a) => a.iter().find_map(|x| first_field(x, field)),
        _ => None,
    }
}

/// `target` without the query parameters named in `names`.
fn strip_query(target: &str, names: &[&String]) -> String {
    let Some((path, q)) = target.split_once('?') else {
        return target.to_string();
    };
    let kept: Vec<&str> = q
        .split('&')
        .filter(|kv| {
            let k = kv.split('=').next().unwrap_or("");
            !names.iter().any(|n| n.as_str() == k)
        })
        .collect();
    if kept.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

fn with_query(base: &str, q: &str) -> String {
    if q.is_empty() {
        base.to_string()
    } else if base.contains('?') {
        format!("{base}&{q}")
    } else {
        format!("{base}?{q}")
    }
}

fn check_allow(resp: &Resp, allow: &[String]) -> Result<(), String> {
    let Some(got) = resp.header("allow") else {
        return Err("a 405 without an `Allow` header".into());
    };
    let got: BTreeSet<String> = got
        .split(',')
        .map(|m| m.trim().to_ascii_uppercase())
        .filter(|m| !m.is_empty())
        .collect();
    let want: BTreeSet<String> = allow.iter().map(|m| m.to_ascii_uppercase()).collect();
    // HEAD and OPTIONS may be listed on top of what the spec documents.
    let extra: Vec<_> = got
        .difference(&want)
        .filter(|m| *m != "HEAD" && *m != "OPTIONS")
        .collect();
    let missing: Vec<_> = want.difference(&got).collect();
    if extra.is_empty() && missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "`Allow` is wrong: missing {missing:?}, extra {extra:?}"
        ))
    }
}

/// `op`'s success outcome and the other outcomes it accepts, preferred first.
fn success_outcomes(op: &Operation) -> Vec<String> {
    let mut ok = vec![op.success_outcome().to_string()];
    ok.extend(op.accept.iter().map(|a| a.get_ref().to_string()));
    ok
}

/// The role to call `op` as: none for a public operation, else the least privileged.
/// The role to call `op` as: `none` for a public operation, else the least privileged
/// role allowed (`none` when no role is).
fn caller_role(spec: &Spec, op: &Operation) -> String {
    if op.public {
        return NO_CREDENTIALS.into();
    }
    crate::plan::lowest_allowed(spec, op).unwrap_or_else(|| NO_CREDENTIALS.into())
}

/// A short description of an answer for `actual`.
pub(crate) fn describe(r: &Resp) -> String {
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
