//! Expand a spec into the plan of tests it implies.
//!
//! The plan is pure data: one [`PlanEntry`] per matrix cell, per completeness probe, per
//! cursor check, per state-dependent outcome and per explicit rule. IDs are stable: they are
//! built only from spec ids, method names and role names, so a report from one run can be
//! compared with the next. The runner turns entries into requests; `dialtone list` prints them.
//!
//! [`plan`] is the table of contents: it calls the generators in order, each a function in
//! the file of its family (`matrix`, `bodies`, `cursors`, `lifecycle`, `rules`). They build
//! entries with the small builder on [`PlanEntry`] defined here.

use serde::Serialize;

use crate::diag::{Diagnostic, Diagnostics};
use crate::spec::model::*;
use crate::spec::Spec;

mod bodies;
mod cursors;
mod deviations;
mod lifecycle;
mod matrix;
pub mod partition;
mod resolve;
mod rules;

pub use deviations::overlay_changes;

pub use matrix::method_safety;
pub use rules::snapshots;

/// The two unauthenticated matrix columns.
pub const NO_CREDENTIALS: &str = "none";
pub const BAD_CREDENTIALS: &str = "bad-credentials";

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PlanEntry {
    /// Test id, unique in the plan.
    pub id: String,
    /// Rule the test checks (for matrix cells, the cell itself).
    pub rule: String,
    pub kind: RuleKind,
    pub api: String,
    /// Endpoint id, if the test targets one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Full path template (base + path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Role name, `none` or `bad-credentials`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Acceptable outcomes, preferred first. `--strict` accepts only the first.
    pub expect: Vec<Outcome>,
    /// A 405 must carry `Allow` listing these methods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow: Option<Vec<String>>,
    pub level: Level,
    pub safety: Safety,
    /// Provenance: document section, or `inferred: reason`.
    pub source: String,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// How the runner exercises the entry.
    #[serde(skip)]
    pub check: Exercise,
    /// Where the entry points in its spec, resolved once when planning.
    #[serde(skip)]
    pub target: Target,
    /// Why no request can exercise the entry, whatever the target, when the spec alone
    /// says so (a prose-only rule, a rule with no stimulus of its own, a cursor check the
    /// pagination cannot express). The runner reports it as the skip reason.
    #[serde(skip)]
    pub unrunnable: Option<&'static str>,
    /// The spec's reason why no request over the API can observe the rule
    /// (`untestable = "..."`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub untestable: Option<String>,
}

/// Positions in a spec: of the entry's endpoint (in `Spec::endpoints`), of its operation
/// (in the endpoint's `op` list) and of the explicit rule it checks (in `Spec::rules`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Target {
    pub endpoint: Option<usize>,
    pub op: Option<usize>,
    pub rule: Option<usize>,
}

impl Target {
    /// The endpoint the entry targets.
    pub fn endpoint_at<'s>(&self, spec: &'s Spec) -> Option<&'s Endpoint> {
        spec.endpoint_at(self.endpoint?)
    }

    /// The operation the entry targets.
    pub fn operation<'s>(&self, spec: &'s Spec) -> Option<&'s Operation> {
        self.endpoint_at(spec)?.op.get(self.op?)
    }

    /// The explicit rule the entry checks.
    pub fn rule_at<'s>(&self, spec: &'s Spec) -> Option<&'s Rule> {
        spec.raw.rules.get(self.rule?).map(|r| &r.value)
    }
}

impl PlanEntry {
    /// A property or stateful test: generated cases, bounded by `--cases` and
    /// `--time-budget`.
    pub fn is_property(&self) -> bool {
        matches!(
            self.check,
            Exercise::PropertyInvalid
                | Exercise::PropertyIdempotent
                | Exercise::PropertyCreateRead
                | Exercise::PropertyDeleteGone
                | Exercise::PropertyResponses
                | Exercise::Stateful
                | Exercise::Cursor(CursorCheck::RandomSizes)
        )
    }

    pub fn level_str(&self) -> &'static str {
        self.level.as_str()
    }
}

/// How the runner exercises a plan entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Exercise {
    /// An explicit `[[rule]]`: one probe request when the rule gives one.
    #[default]
    Rule,
    /// One matrix cell.
    Cell,
    /// The unknown-path probe.
    NotFound,
    /// An Accept the resource cannot produce.
    NotAcceptable,
    /// The same resource as XML and as JSON carries the same data.
    Equivalent,
    /// An error answer has the API's error envelope.
    ErrorEnvelope,
    /// A body above the limit is refused.
    Oversize,
    /// A body that is not well-formed gets the API's 4xx, never a 5xx.
    Malformed,
    /// A body without `field` is rejected and changes nothing.
    Omit,
    /// A complete body is accepted and reads back equal.
    Full,
    /// A field the schema does not list is ignored or rejected, as the schema says.
    UnknownField,
    /// Property: generated values that break a documented field constraint are rejected,
    /// and change nothing.
    PropertyInvalid,
    /// Property: sending the same (generated, valid) update twice leaves the same state as
    /// sending it once.
    PropertyIdempotent,
    /// Property: a record created from generated valid values reads back as sent.
    PropertyCreateRead,
    /// Property: a deleted record is gone, with the API's own "not found".
    PropertyDeleteGone,
    /// Property: generated requests of every kind never get a 5xx, and each answer has a
    /// documented content type and, for errors, the API's envelope.
    PropertyResponses,
    /// Stateful: generated sequences of writes and lists agree with a model of the
    /// collection.
    Stateful,
    Cursor(CursorCheck),
    /// The normalised answer of a read equals its recorded baseline (`--snapshots`).
    Snapshot,
    /// An outcome that needs the device in a state.
    State,
    /// An asynchronous job runs to its end.
    Job,
    /// A referenced object cannot be deleted.
    Reference,
    /// A path parameter that selects records (`filter`) answers only records that pass it.
    PathFilter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorCheck {
    WalkForward,
    WalkBackward,
    Sentinel,
    WalkPages,
    Metadata,
    WalkRanges,
    Limit,
    Empty,
    Invalid,
    /// Property: walks over generated collection sizes and page sizes see every item once.
    RandomSizes,
}

/// Explicit rule IDs must not collide with the IDs the plan generates.
pub fn check_ids(spec: &Spec) -> Vec<Diagnostic> {
    let mut diags = Diagnostics::default();
    let plan = plan(spec);
    let mut seen = std::collections::HashSet::new();
    for e in &plan {
        if seen.insert(e.id.as_str()) {
            continue;
        }
        let api = spec.name();
        let rel = e.id.strip_prefix(&format!("{api}/")).unwrap_or(&e.id);
        let (file, off) = spec
            .raw
            .rules
            .iter()
            .find(|r| r.id.get_ref() == rel)
            .map(|r| (r.file, r.id.span().start))
            .unwrap_or((0, 0));
        if let Some(f) = spec.raw.files.get(file) {
            diags.at(
                f,
                off,
                "D006",
                format!("test id `{}` occurs twice in the plan", e.id),
                Some("an explicit rule id collides with a generated one; rename the rule".into()),
            );
        }
    }
    diags.sorted()
}

/// Build the plan for one spec: each generator appends its entries, in this order (the
/// order `dialtone list` prints).
pub fn plan(spec: &Spec) -> Vec<PlanEntry> {
    let mut out = Vec::new();
    let api = spec.name().to_string();
    matrix::matrix(spec, &api, &mut out);
    matrix::not_found(spec, &api, &mut out);
    bodies::completeness(spec, &api, &mut out);
    bodies::deletes(spec, &api, &mut out);
    lifecycle::responses(&api, &mut out);
    lifecycle::stateful(spec, &api, &mut out);
    cursors::cursors(spec, &api, &mut out);
    lifecycle::states(spec, &api, &mut out);
    lifecycle::jobs_and_refs(spec, &api, &mut out);
    lifecycle::path_filters(spec, &api, &mut out);
    bodies::robustness(spec, &api, &mut out);
    rules::explicit(spec, &api, &mut out);
    resolve::resolve(spec, &mut out);
    out
}

/// Counts per kind, for summaries.
pub fn counts(plan: &[PlanEntry]) -> std::collections::BTreeMap<&'static str, usize> {
    let mut m = std::collections::BTreeMap::new();
    for e in plan {
        *m.entry(e.kind.as_str()).or_insert(0) += 1;
    }
    m
}

/// The entry builder: a generator states each entry as `PlanEntry::new(..)` followed by
/// the fields it knows, so that it reads as data. A field left unset keeps the value
/// `new` gives it (level `must`, safety `read`, everything else empty).
impl PlanEntry {
    /// An entry with only its id, kind and exercise; the rule is the id itself. Scenario
    /// cases start from it too.
    pub fn new(api: &str, kind: RuleKind, id: String, check: Exercise) -> Self {
        PlanEntry {
            rule: id.clone(),
            id,
            kind,
            api: api.to_string(),
            endpoint: None,
            method: None,
            path: None,
            role: None,
            expect: vec![],
            allow: None,
            level: Level::Must,
            safety: Safety::Read,
            source: String::new(),
            summary: String::new(),
            state: None,
            decision: None,
            field: None,
            check,
            target: Target::default(),
            unrunnable: None,
            untestable: None,
        }
    }

    /// The endpoint: its id and its full path.
    fn at(mut self, spec: &Spec, ep: &Endpoint) -> Self {
        self.endpoint = Some(ep.id.get_ref().clone());
        self.path(spec.full_path(ep))
    }

    /// One operation of `ep`: the endpoint, the method, and the lowest role allowed it.
    fn target(self, spec: &Spec, ep: &Endpoint, op: &Operation) -> Self {
        self.at(spec, ep)
            .method(op.method.get_ref())
            .role(lowest_allowed(spec, op))
    }

    /// An entry about one operation: [`Self::target`], plus the safety, level and source
    /// the operation gives.
    fn about(self, spec: &Spec, ep: &Endpoint, op: &Operation) -> Self {
        self.target(spec, ep, op)
            .safety(op.safety())
            .level(op.level)
            .source(op.provenance.describe())
    }

    fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    fn path(mut self, path: String) -> Self {
        self.path = Some(path);
        self
    }

    fn role(mut self, role: Option<String>) -> Self {
        self.role = role;
        self
    }

    fn expect(mut self, expect: Vec<Outcome>) -> Self {
        self.expect = expect;
        self
    }

    /// The operation's success outcome, then the others it accepts.
    fn success(self, op: &Operation) -> Self {
        self.expect(outcomes(&op.success_outcome(), &op.accept))
    }

    /// The outcomes and level a matrix rule (`[matrix.not_found]` and the like) gives.
    fn answer(self, c: &CellRule) -> Self {
        self.expect(outcomes(c.expect.get_ref(), &c.accept))
            .level(c.level)
    }

    fn level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    fn safety(mut self, safety: Safety) -> Self {
        self.safety = safety;
        self
    }

    fn decision(mut self, decision: Option<&toml::Spanned<String>>) -> Self {
        self.decision = decision.map(|d| d.get_ref().clone());
        self
    }

    fn source(mut self, source: impl Into<String>) -> Self {
        self.source = source.into();
        self
    }

    fn summary(mut self, summary: impl Into<String>) -> Self {
        self.summary = summary.into();
        self
    }
}

/// The preferred outcome then the accepted ones, without repeats, as the plan spells them.
/// An outcome that names a status only.
fn status(status: u16) -> Outcome {
    Outcome { status, code: None }
}

fn outcomes(expect: &Outcome, accept: &[toml::Spanned<Outcome>]) -> Vec<Outcome> {
    let mut v = vec![expect.clone()];
    for a in accept {
        if !v.contains(a.get_ref()) {
            v.push(a.get_ref().clone());
        }
    }
    v
}

/// The least privileged role allowed to call `op`.
pub(crate) fn lowest_allowed(spec: &Spec, op: &Operation) -> Option<String> {
    spec.roles_by_rank()
        .into_iter()
        .find(|r| spec.allows(op, r))
        .map(|r| r.name.get_ref().clone())
}

/// The most privileged role, for probes that only the path or method should decide.
fn highest_role(spec: &Spec) -> Option<String> {
    spec.roles_by_rank()
        .last()
        .map(|r| r.name.get_ref().clone())
}
