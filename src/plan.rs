//! Expand a spec into the plan of tests it implies.
//!
//! The plan is pure data: one [`PlanEntry`] per matrix cell, per completeness probe, per
//! cursor check, per state-dependent outcome and per explicit rule. IDs are stable: they are
//! built only from spec ids, method names and role names, so a report from one run can be
//! compared with the next. The runner turns entries into requests; `dialtone list` prints them.

use serde::Serialize;

use crate::diag::{Diagnostic, Diagnostics};
use crate::spec::model::*;
use crate::spec::Spec;

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
    pub expect: Vec<String>,
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

fn outcomes(expect: &Outcome, accept: &[toml::Spanned<Outcome>]) -> Vec<String> {
    let mut v = vec![expect.to_string()];
    for a in accept {
        let s = a.get_ref().to_string();
        if !v.contains(&s) {
            v.push(s);
        }
    }
    v
}

/// Which check decides a matrix cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decider {
    Auth,
    Method,
    Role,
    Allowed,
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

/// Build the plan for one spec.
pub fn plan(spec: &Spec) -> Vec<PlanEntry> {
    let mut out = Vec::new();
    let api = spec.name().to_string();
    matrix(spec, &api, &mut out);
    not_found(spec, &api, &mut out);
    completeness(spec, &api, &mut out);
    deletes(spec, &api, &mut out);
    responses(&api, &mut out);
    stateful(spec, &api, &mut out);
    cursors(spec, &api, &mut out);
    states(spec, &api, &mut out);
    jobs_and_refs(spec, &api, &mut out);
    robustness(spec, &api, &mut out);
    explicit(spec, &api, &mut out);
    out
}

/// One snapshot entry per readable operation: a `GET` of read safety that some role may
/// call. Not part of [`plan`]: snapshots need a baseline, so the runner adds them only when
/// asked (`--snapshots DIR`, `dialtone snapshot record`).
pub fn snapshots(spec: &Spec) -> Vec<PlanEntry> {
    let api = spec.name().to_string();
    let mut out = Vec::new();
    for ep in spec.endpoints() {
        for op in &ep.op {
            if op.method.get_ref() != "GET" || Spec::safety(op) != Safety::Read {
                continue;
            }
            if lowest_allowed(spec, op).is_none() {
                continue;
            }
            let eid = ep.id.get_ref();
            let mut e = op_entry(
                spec,
                &api,
                ep,
                op,
                RuleKind::Behaviour,
                format!("{api}/{eid}/snapshot/GET"),
                Exercise::Snapshot,
            );
            e.expect = outcomes(&op.success_outcome(), &op.accept);
            e.level = Level::Must;
            e.source = "inferred: a firmware build answers a read as the baseline build did, apart from the spec's [[volatile]] fields".into();
            e.summary = "the normalised answer equals the recorded baseline".into();
            out.push(e);
        }
    }
    out
}

fn base_entry(api: &str, kind: RuleKind, id: String) -> PlanEntry {
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
        check: Exercise::Rule,
    }
}

fn matrix(spec: &Spec, api: &str, out: &mut Vec<PlanEntry>) {
    let m = spec.matrix();
    let auth = spec.auth();
    let roles = spec.roles_by_rank();
    for ep in spec.endpoints() {
        let path = spec.full_path(ep);
        let eid = ep.id.get_ref();
        let mut methods: Vec<String> = m.methods.get_ref().clone();
        for op in &ep.op {
            if !methods.contains(op.method.get_ref()) {
                methods.push(op.method.get_ref().clone());
            }
        }
        let allow: Vec<String> = ep.op.iter().map(|o| o.method.get_ref().clone()).collect();
        for method in &methods {
            let op = ep.operation(method);
            let mut columns: Vec<(String, Option<&Role>)> = vec![
                (NO_CREDENTIALS.into(), None),
                (BAD_CREDENTIALS.into(), None),
            ];
            columns.extend(roles.iter().map(|r| (r.name.get_ref().clone(), Some(*r))));
            for (col, role) in columns {
                let failing = |c: Check| -> bool {
                    match c {
                        Check::Auth => role.is_none() && !op.is_some_and(|o| o.public),
                        Check::Method => op.is_none(),
                        Check::Role => match (op, role) {
                            (Some(op), Some(r)) => !spec.allows(op, r),
                            _ => false,
                        },
                        _ => false,
                    }
                };
                let decider = m
                    .precedence
                    .get_ref()
                    .iter()
                    .copied()
                    .find(|c| failing(*c))
                    .map(|c| match c {
                        Check::Auth => Decider::Auth,
                        Check::Method => Decider::Method,
                        Check::Role => Decider::Role,
                        _ => Decider::Allowed,
                    })
                    .unwrap_or(Decider::Allowed);
                let id = format!("{api}/{eid}/matrix/{method}/{col}");
                let mut e = base_entry(api, RuleKind::Matrix, id);
                e.check = Exercise::Cell;
                e.endpoint = Some(eid.clone());
                e.method = Some(method.clone());
                e.path = Some(path.clone());
                e.role = Some(col.clone());
                e.safety = op.map(Spec::safety).unwrap_or(method_safety(Some(method)));
                match decider {
                    Decider::Auth => {
                        let o = if col == NO_CREDENTIALS {
                            &auth.missing
                        } else {
                            &auth.invalid
                        };
                        e.expect = outcomes(o.get_ref(), &auth.accept);
                        e.decision = auth.decision.as_ref().map(|d| d.get_ref().clone());
                        e.source = auth.provenance.describe();
                        e.summary = if col == NO_CREDENTIALS {
                            format!("{method} without credentials is refused")
                        } else {
                            format!("{method} with wrong credentials is refused")
                        };
                    }
                    Decider::Method => {
                        let c = &m.method_not_allowed;
                        e.expect = outcomes(c.expect.get_ref(), &c.accept);
                        e.level = c.level;
                        e.decision = c.decision.as_ref().map(|d| d.get_ref().clone());
                        if c.allow_header {
                            e.allow = Some(allow.clone());
                        }
                        e.source = if ep.unsupported.contains(method) {
                            ep.unsupported_source
                                .clone()
                                .unwrap_or_else(|| c.provenance.describe())
                        } else {
                            c.provenance.describe()
                        };
                        e.summary = format!("{method} is not a method of this resource");
                    }
                    Decider::Role => {
                        let op = op.expect("role decides only when the op exists");
                        let c = op.forbidden.as_ref().unwrap_or(&m.forbidden);
                        e.expect = outcomes(c.expect.get_ref(), &c.accept);
                        e.level = c.level;
                        e.decision = c.decision.as_ref().map(|d| d.get_ref().clone());
                        e.source = op.provenance.describe();
                        e.summary =
                            format!("{method} is refused to `{col}`: below the privilege it needs");
                    }
                    Decider::Allowed => {
                        let op = op.expect("allowed only when the op exists");
                        let mut acc = op.accept.clone();
                        if let Some(p) = op
                            .pagination
                            .as_ref()
                            .and_then(|p| spec.pagination(p.get_ref()))
                        {
                            if let Some(emp) = &p.empty {
                                acc.push(emp.clone());
                            }
                        }
                        e.expect = outcomes(&op.success_outcome(), &acc);
                        e.level = op.level;
                        e.decision = op.decision.as_ref().map(|d| d.get_ref().clone());
                        e.source = op.provenance.describe();
                        e.summary = format!("{method} is allowed to `{col}`");
                    }
                }
                out.push(e);
            }
        }
    }
}

fn not_found(spec: &Spec, api: &str, out: &mut Vec<PlanEntry>) {
    let m = spec.matrix();
    let c = &m.not_found;
    let base = spec
        .api()
        .bases
        .values()
        .next()
        .cloned()
        .unwrap_or_default();
    let mut e = base_entry(api, RuleKind::Matrix, format!("{api}/matrix/not-found"));
    e.check = Exercise::NotFound;
    e.method = Some("GET".into());
    e.path = Some(format!("{base}/dialtone-no-such-resource"));
    e.role = spec
        .roles_by_rank()
        .last()
        .map(|r| r.name.get_ref().clone());
    e.expect = outcomes(c.expect.get_ref(), &c.accept);
    e.level = c.level;
    e.source = c.provenance.describe();
    e.summary = "an unknown path is answered with the not-found outcome".into();
    out.push(e);
    if let Some(c) = &m.not_acceptable {
        for ep in spec.endpoints() {
            for op in &ep.op {
                if op.method.get_ref() != "GET" || op.response.is_none() {
                    continue;
                }
                let mut e = base_entry(
                    api,
                    RuleKind::Format,
                    format!("{api}/{}/format/GET/not-acceptable", ep.id.get_ref()),
                );
                e.check = Exercise::NotAcceptable;
                e.endpoint = Some(ep.id.get_ref().clone());
                e.method = Some("GET".into());
                e.path = Some(spec.full_path(ep));
                e.role = lowest_allowed(spec, op);
                e.expect = outcomes(c.expect.get_ref(), &c.accept);
                e.level = c.level;
                e.source = c.provenance.describe();
                e.summary = "an Accept the resource cannot produce is refused".into();
                out.push(e);
            }
        }
    }
}

/// Checks every API gets whatever its spec says: the error envelope, XML/JSON
/// equivalence where both are served, and a bounded request body.
fn robustness(spec: &Spec, api: &str, out: &mut Vec<PlanEntry>) {
    let m = spec.matrix();
    if let Some(env) = spec.default_envelope() {
        if env.message_path.is_some() || env.code_path.is_some() || env.template.is_some() {
            let mut e = base_entry(
                api,
                RuleKind::Envelope,
                format!("{api}/envelope/error-shape"),
            );
            e.check = Exercise::ErrorEnvelope;
            e.method = Some("GET".into());
            e.role = spec
                .roles_by_rank()
                .last()
                .map(|r| r.name.get_ref().clone());
            e.expect = outcomes(m.not_found.expect.get_ref(), &m.not_found.accept);
            e.source = env.provenance.describe();
            e.summary = format!(
                "an error answer is the `{}` envelope ({})",
                env.name.get_ref(),
                env.content_type
            );
            out.push(e);
        }
    }
    for ep in spec.endpoints() {
        for op in &ep.op {
            let Some(resp) = &op.response else { continue };
            let both = resp.content_types.iter().any(|c| c.contains("json"))
                && resp.content_types.iter().any(|c| c.contains("xml"));
            if op.method.get_ref() != "GET" || !both || resp.schema.is_none() {
                continue;
            }
            let eid = ep.id.get_ref();
            let mut e = base_entry(
                api,
                RuleKind::Format,
                format!("{api}/{eid}/format/GET/xml-json-equivalent"),
            );
            e.check = Exercise::Equivalent;
            e.endpoint = Some(eid.clone());
            e.method = Some("GET".into());
            e.path = Some(spec.full_path(ep));
            e.role = lowest_allowed(spec, op);
            e.expect = outcomes(&op.success_outcome(), &[]);
            e.source = op.provenance.describe();
            e.summary = "the XML and the JSON form of the resource carry the same data".into();
            out.push(e);
        }
    }
    for ep in spec.endpoints() {
        for op in &ep.op {
            let Some(req) = &op.request else { continue };
            let structured = req
                .content_types
                .iter()
                .any(|c| c.contains("xml") || c.contains("json"));
            if req.empty || req.schema.is_none() || !structured {
                continue;
            }
            let method = op.method.get_ref();
            let eid = ep.id.get_ref();
            let mut e = base_entry(
                api,
                RuleKind::Behaviour,
                format!("{api}/{eid}/robustness/{method}/malformed-body"),
            );
            e.check = Exercise::Malformed;
            e.endpoint = Some(eid.clone());
            e.method = Some(method.clone());
            e.path = Some(spec.full_path(ep));
            e.role = lowest_allowed(spec, op);
            e.expect = vec![req
                .reject
                .as_ref()
                .map(|r| r.get_ref().status.to_string())
                .unwrap_or_else(|| "400".into())];
            e.safety = Spec::safety(op);
            e.source = "inferred: a body that is not well-formed cannot be processed; the \
                        operation's rejection status applies, and a 5xx is a crash"
                .into();
            e.summary = "a body that is not well-formed is refused with the API's 4xx".into();
            out.push(e);
        }
    }
    // One oversized body per API, to the first operation that takes a structured body.
    let target = spec.endpoints().find_map(|ep| {
        ep.op
            .iter()
            .find(|op| {
                op.request.as_ref().is_some_and(|r| {
                    !r.empty
                        && r.schema.is_some()
                        && r.content_types
                            .iter()
                            .any(|c| c.contains("json") || c.contains("xml"))
                })
            })
            .map(|op| (ep, op))
    });
    if let Some((ep, op)) = target {
        let o = m
            .payload_too_large
            .as_ref()
            .map(|c| outcomes(c.expect.get_ref(), &c.accept))
            .unwrap_or_else(|| vec!["413".into()]);
        let mut e = base_entry(
            api,
            RuleKind::Behaviour,
            format!("{api}/robustness/oversize"),
        );
        e.check = Exercise::Oversize;
        e.endpoint = Some(ep.id.get_ref().clone());
        e.method = Some(op.method.get_ref().clone());
        e.path = Some(spec.full_path(ep));
        e.role = lowest_allowed(spec, op);
        e.expect = o;
        e.safety = Spec::safety(op);
        e.source = m
            .payload_too_large
            .as_ref()
            .map(|c| c.provenance.describe())
            .unwrap_or_else(|| {
                "inferred: a device must bound what it reads (dialtone's emulator refuses above 64 MiB); RFC 9110 §15.5.14 gives 413".into()
            });
        e.summary = match op.request.as_ref().and_then(|r| r.max_bytes) {
            Some(n) => format!("a body over the documented {n} bytes is refused unread"),
            None => "a body over the body limit (`--body-limit`) is refused unread".into(),
        };
        out.push(e);
    }
}

/// An entry about one operation: endpoint, method, path, role (the lowest allowed),
/// safety, level and source taken from it.
fn op_entry(
    spec: &Spec,
    api: &str,
    ep: &Endpoint,
    op: &Operation,
    kind: RuleKind,
    id: String,
    check: Exercise,
) -> PlanEntry {
    let mut e = base_entry(api, kind, id);
    e.check = check;
    e.endpoint = Some(ep.id.get_ref().clone());
    e.method = Some(op.method.get_ref().clone());
    e.path = Some(spec.full_path(ep));
    e.role = lowest_allowed(spec, op);
    e.safety = Spec::safety(op);
    e.level = op.level;
    e.source = op.provenance.describe();
    e
}

/// The safety of a request with no operation to take it from: that of its verb.
fn method_safety(method: Option<&str>) -> Safety {
    match method {
        None | Some("GET" | "HEAD" | "OPTIONS") => Safety::Read,
        Some(_) => Safety::Write,
    }
}

/// The least privileged role allowed to call `op`.
pub(crate) fn lowest_allowed(spec: &Spec, op: &Operation) -> Option<String> {
    spec.roles_by_rank()
        .into_iter()
        .find(|r| spec.allows(op, r))
        .map(|r| r.name.get_ref().clone())
}

fn completeness(spec: &Spec, api: &str, out: &mut Vec<PlanEntry>) {
    for ep in spec.endpoints() {
        for op in &ep.op {
            let Some(req) = &op.request else { continue };
            let (Some(mode), Some(sname)) = (req.completeness, &req.schema) else {
                continue;
            };
            let Some(schema) = spec.schema(sname.get_ref()) else {
                continue;
            };
            let method = op.method.get_ref();
            let eid = ep.id.get_ref();
            let reject = req
                .reject
                .as_ref()
                .map(|r| r.get_ref().to_string())
                .unwrap_or_else(|| "400".into());
            // A key the path carries (an item URL) need not be in the body too.
            let in_path = crate::spec::template_params(&spec.full_path(ep)).unwrap_or_default();
            let fields: Vec<&Field> = schema
                .field
                .iter()
                .filter(|f| !f.server_assigned)
                .filter(|f| !f.key || in_path.is_empty())
                .filter(|f| match mode {
                    Completeness::AllFields => true,
                    Completeness::RequiredSet => f.required,
                    Completeness::Partial | Completeness::KeyOnly => f.key || f.required,
                })
                .collect();
            for f in fields {
                let fname = f.name.get_ref();
                let id = format!("{api}/{eid}/completeness/{method}/omit-{fname}");
                let mut e = op_entry(
                    spec,
                    api,
                    ep,
                    op,
                    RuleKind::Completeness,
                    id,
                    Exercise::Omit,
                );
                e.expect = vec![reject.clone()];
                e.field = Some(fname.clone());
                e.summary = format!(
                    "a body without `{fname}` is rejected{}",
                    if req.atomic {
                        " and changes nothing"
                    } else {
                        ""
                    }
                );
                out.push(e);
            }
            let id = format!("{api}/{eid}/completeness/{method}/full");
            let mut e = op_entry(
                spec,
                api,
                ep,
                op,
                RuleKind::Completeness,
                id,
                Exercise::Full,
            );
            e.expect = outcomes(&op.success_outcome(), &op.accept);
            e.summary = "a complete body is accepted and reads back equal".into();
            out.push(e);
            if matches!(op.effect, Some(Effect::Update | Effect::Upsert)) && ep.collection.is_some()
            {
                let id = format!("{api}/{eid}/property/{method}/idempotent");
                let mut e = op_entry(
                    spec,
                    api,
                    ep,
                    op,
                    RuleKind::Behaviour,
                    id,
                    Exercise::PropertyIdempotent,
                );
                e.expect = outcomes(&op.success_outcome(), &op.accept);
                e.source = "inferred: an update states the record's new fields; stating them again changes nothing (RFC 9110 §9.2.2 for PUT)".into();
                e.summary = "the same valid update sent twice leaves the state it left once".into();
                out.push(e);
            }
            if matches!(op.effect, Some(Effect::Create | Effect::Upsert)) && ep.collection.is_some()
            {
                let id = format!("{api}/{eid}/property/{method}/create-read");
                let mut e = op_entry(
                    spec,
                    api,
                    ep,
                    op,
                    RuleKind::Behaviour,
                    id,
                    Exercise::PropertyCreateRead,
                );
                e.expect = outcomes(&op.success_outcome(), &op.accept);
                e.source = format!(
                    "inferred: a stored record reads back as it was written ({})",
                    schema.provenance.describe()
                );
                e.summary = "a record created from generated valid values reads back as sent, apart from server-assigned fields".into();
                out.push(e);
            }
            if schema
                .field
                .iter()
                .any(|f| !f.server_assigned && crate::props::strategy::invalid(f).is_some())
            {
                let id = format!("{api}/{eid}/property/{method}/invalid-rejected");
                let mut e = op_entry(
                    spec,
                    api,
                    ep,
                    op,
                    RuleKind::Completeness,
                    id,
                    Exercise::PropertyInvalid,
                );
                e.expect = vec![reject.clone()];
                e.source = schema.provenance.describe();
                e.summary = "generated values that break a documented field constraint are rejected and change nothing".into();
                out.push(e);
            }
            if schema.unknown_fields != UnknownFields::Unspecified {
                let id = format!("{api}/{eid}/completeness/{method}/unknown-field");
                let mut e = op_entry(
                    spec,
                    api,
                    ep,
                    op,
                    RuleKind::Completeness,
                    id,
                    Exercise::UnknownField,
                );
                e.source = schema.provenance.describe();
                if schema.unknown_fields == UnknownFields::Reject {
                    e.expect = vec![reject.clone()];
                    e.summary = "a body with a field the schema does not list is rejected".into();
                } else {
                    e.expect = outcomes(&op.success_outcome(), &op.accept);
                    e.summary =
                        "a field the schema does not list is ignored: accepted, never stored"
                            .into();
                }
                out.push(e);
            }
        }
    }
}

fn cursors(spec: &Spec, api: &str, out: &mut Vec<PlanEntry>) {
    for ep in spec.endpoints() {
        for op in &ep.op {
            let Some(p) = op
                .pagination
                .as_ref()
                .and_then(|p| spec.pagination(p.get_ref()))
            else {
                continue;
            };
            let eid = ep.id.get_ref();
            let method = op.method.get_ref();
            let mut checks: Vec<(&str, CursorCheck, String, Vec<String>)> = Vec::new();
            let ok = outcomes(&op.success_outcome(), &[]);
            match p.style {
                PaginationStyle::Cursor => {
                    if p.params.contains_key("after") {
                        checks.push((
                            "walk-forward",
                            CursorCheck::WalkForward,
                            "walking forward visits every item exactly once, in a stable order"
                                .into(),
                            ok.clone(),
                        ));
                    }
                    if p.params.contains_key("before") {
                        checks.push((
                            "walk-backward",
                            CursorCheck::WalkBackward,
                            "walking backward visits every item exactly once".into(),
                            ok.clone(),
                        ));
                    }
                    if let Some(s) = p.sentinel {
                        checks.push((
                            "sentinel",
                            CursorCheck::Sentinel,
                            format!("the cursor fields hold {s} at both ends"),
                            ok.clone(),
                        ));
                    }
                }
                PaginationStyle::Page => {
                    checks.push((
                        "walk-pages",
                        CursorCheck::WalkPages,
                        "walking the pages visits every item exactly once".into(),
                        ok.clone(),
                    ));
                    if !p.fields.is_empty() {
                        checks.push((
                            "metadata",
                            CursorCheck::Metadata,
                            "the paging metadata matches the items returned".into(),
                            ok.clone(),
                        ));
                    }
                }
                PaginationStyle::Rows | PaginationStyle::Offset => {
                    checks.push((
                        "walk-ranges",
                        CursorCheck::WalkRanges,
                        "walking the ranges visits every item exactly once".into(),
                        ok.clone(),
                    ));
                }
            }
            checks.push((
                "random-sizes",
                CursorCheck::RandomSizes,
                "over generated collection sizes and limits, a walk sees every item exactly once, in the same order".into(),
                ok.clone(),
            ));
            let limit_desc = match p.default_limit {
                Some(d) => {
                    format!("a page never exceeds the limit, and {d} items when none is given")
                }
                None => "a page never exceeds the limit".into(),
            };
            checks.push(("limit", CursorCheck::Limit, limit_desc, ok.clone()));
            if let Some(emp) = &p.empty {
                checks.push((
                    "empty",
                    CursorCheck::Empty,
                    "an empty result has the documented status".into(),
                    vec![emp.get_ref().to_string()],
                ));
            }
            if let Some(inv) = &p.invalid {
                checks.push((
                    "invalid",
                    CursorCheck::Invalid,
                    "an invalid cursor or page parameter is refused".into(),
                    vec![inv.get_ref().to_string()],
                ));
            }
            for (check, cc, summary, expect) in checks {
                let mut e =
                    base_entry(api, RuleKind::Cursor, format!("{api}/{eid}/cursor/{check}"));
                e.check = Exercise::Cursor(cc);
                e.endpoint = Some(eid.clone());
                e.method = Some(method.clone());
                e.path = Some(spec.full_path(ep));
                e.role = lowest_allowed(spec, op);
                e.expect = expect;
                e.safety = Spec::safety(op);
                e.source = p.provenance.describe();
                e.summary = summary;
                out.push(e);
            }
        }
    }
}

fn states(spec: &Spec, api: &str, out: &mut Vec<PlanEntry>) {
    for st in spec.states() {
        for ep in spec.endpoints() {
            let eid = ep.id.get_ref();
            if st.except.iter().any(|x| x.get_ref() == eid) {
                continue;
            }
            for op in &ep.op {
                let by_ep = st.endpoints.iter().any(|x| x.get_ref() == eid);
                if !by_ep && !st.applies_to.contains(&Spec::safety(op)) {
                    continue;
                }
                let method = op.method.get_ref();
                let id = format!("{api}/{eid}/state/{}/{method}", st.name.get_ref());
                let mut e = base_entry(api, RuleKind::State, id);
                e.check = Exercise::State;
                e.endpoint = Some(eid.clone());
                e.method = Some(method.clone());
                e.path = Some(spec.full_path(ep));
                e.role = lowest_allowed(spec, op);
                e.expect = vec![st.outcome.get_ref().to_string()];
                e.safety = Spec::safety(op);
                e.level = st.level;
                e.state = Some(st.name.get_ref().clone());
                e.source = st.provenance.describe();
                e.summary = format!(
                    "in state `{}`, {method} answers {}",
                    st.name.get_ref(),
                    st.outcome.get_ref()
                );
                out.push(e);
            }
        }
    }
}

/// The stateful test: one per collection with a list, a create (or upsert) and an update
/// or delete; the entry names the list.
fn stateful(spec: &Spec, api: &str, out: &mut Vec<PlanEntry>) {
    for c in spec.collections() {
        let name = c.name.get_ref();
        let eps: Vec<&Endpoint> = spec
            .endpoints()
            .filter(|ep| ep.collection.as_ref().map(|x| x.get_ref()) == Some(name))
            .collect();
        let has = |effects: &[Effect]| {
            eps.iter()
                .flat_map(|ep| ep.op.iter())
                .any(|o| o.effect.is_some_and(|e| effects.contains(&e)))
        };
        if !has(&[Effect::Create, Effect::Upsert]) || !has(&[Effect::Update, Effect::Delete]) {
            continue;
        }
        // The list: a listing, else a query (what `reader` reads back with).
        let list_of = |effect: Effect| {
            eps.iter().find_map(|ep| {
                ep.op
                    .iter()
                    .find(|o| o.effect == Some(effect) && o.method.get_ref() == "GET")
                    .map(|o| (*ep, o))
            })
        };
        let Some((ep, op)) = list_of(Effect::List).or_else(|| list_of(Effect::Query)) else {
            continue;
        };
        let mut e = op_entry(
            spec,
            api,
            ep,
            op,
            RuleKind::Behaviour,
            format!("{api}/{}/property/stateful", ep.id.get_ref()),
            Exercise::Stateful,
        );
        e.safety = Safety::Write;
        e.expect = outcomes(&op.success_outcome(), &op.accept);
        e.source = format!(
            "inferred: the collection `{name}` behaves as a keyed store: creates add, updates change, deletes remove, replaces swap ({})",
            c.provenance.describe()
        );
        e.summary = "generated sequences of creates, updates, deletes and lists agree with a model of the collection".into();
        out.push(e);
    }
}

/// The responses property: one per API.
fn responses(api: &str, out: &mut Vec<PlanEntry>) {
    let mut e = base_entry(api, RuleKind::Envelope, format!("{api}/property/responses"));
    e.check = Exercise::PropertyResponses;
    e.source = "inferred: a server error is never a conformant answer, and every answer is in a documented content type and envelope".into();
    e.summary = "generated requests of every kind never get a 5xx; answers come in documented content types and the error envelope".into();
    out.push(e);
}

/// The delete property: one per delete operation of a collection.
fn deletes(spec: &Spec, api: &str, out: &mut Vec<PlanEntry>) {
    for ep in spec.endpoints() {
        let Some(c) = &ep.collection else { continue };
        for op in &ep.op {
            if op.effect != Some(Effect::Delete) {
                continue;
            }
            let eid = ep.id.get_ref();
            let method = op.method.get_ref();
            let mut e = op_entry(
                spec,
                api,
                ep,
                op,
                RuleKind::Behaviour,
                format!("{api}/{eid}/property/{method}/delete-gone"),
                Exercise::PropertyDeleteGone,
            );
            e.expect = outcomes(&op.success_outcome(), &op.accept);
            e.source = format!(
                "inferred: a deleted record of `{}` is no longer listed, and reading it answers the API's not-found ({})",
                c.get_ref(),
                op.provenance.describe()
            );
            e.summary = "after a delete the record is gone: not listed, and a read answers the API's own not-found".into();
            out.push(e);
        }
    }
}

fn jobs_and_refs(spec: &Spec, api: &str, out: &mut Vec<PlanEntry>) {
    for j in spec.jobs() {
        let mut e = base_entry(
            api,
            RuleKind::Async,
            format!("{api}/job/{}/flow", j.name.get_ref()),
        );
        e.check = Exercise::Job;
        if let Some(ep) = spec.endpoint(j.start.get_ref()) {
            e.path = Some(spec.full_path(ep));
            e.endpoint = Some(ep.id.get_ref().clone());
            if let Some(op) = ep.operation(&j.start_method) {
                e.role = lowest_allowed(spec, op);
                e.safety = Spec::safety(op);
            }
        }
        e.method = Some(j.start_method.clone());
        e.expect = vec![
            j.accepted.get_ref().to_string(),
            j.done.get_ref().to_string(),
        ];
        e.source = j.provenance.describe();
        e.summary = format!(
            "starting `{}` answers {}, polling answers {} until {}",
            j.name.get_ref(),
            j.accepted.get_ref(),
            j.pending
                .iter()
                .map(|p| p.get_ref().to_string())
                .collect::<Vec<_>>()
                .join("/"),
            j.done.get_ref()
        );
        out.push(e);
    }
    for r in spec.references() {
        let Some(on_delete) = &r.on_delete else {
            continue;
        };
        let mut e = base_entry(
            api,
            RuleKind::Reference,
            format!("{api}/reference/{}/delete-referenced", r.name.get_ref()),
        );
        e.check = Exercise::Reference;
        e.expect = vec![on_delete.get_ref().to_string()];
        e.safety = Safety::Write;
        e.source = r.provenance.describe();
        e.summary = format!(
            "a `{}` still referenced by a `{}` cannot be deleted",
            r.to.get_ref(),
            r.from.get_ref()
        );
        out.push(e);
    }
}

fn explicit(spec: &Spec, api: &str, out: &mut Vec<PlanEntry>) {
    for r in spec.rules() {
        let id = format!("{api}/{}", r.id.get_ref());
        let mut e = base_entry(api, r.kind, id);
        if let Some(ep) = r.endpoint.as_ref().and_then(|e| spec.endpoint(e.get_ref())) {
            e.endpoint = Some(ep.id.get_ref().clone());
            e.path = Some(spec.full_path(ep));
            let op = r.method.as_ref().and_then(|m| ep.operation(m));
            e.safety = r
                .safety
                .or(op.map(Spec::safety))
                // A probe with a method the endpoint lacks is as risky as its verb.
                .unwrap_or(method_safety(r.method.as_deref()));
            // A rule about a method the endpoint lacks is probed as the most privileged
            // role, so that only the method can decide the answer.
            e.role = r
                .role
                .as_ref()
                .map(|x| x.get_ref().clone())
                .or_else(|| op.and_then(|o| lowest_allowed(spec, o)))
                .or_else(|| {
                    spec.roles_by_rank()
                        .last()
                        .map(|r| r.name.get_ref().clone())
                });
        } else {
            e.safety = r.safety.unwrap_or(method_safety(r.method.as_deref()));
            e.role = r.role.as_ref().map(|x| x.get_ref().clone());
            if let Some(p) = &r.path {
                let base = spec.base_path(r.base.as_ref().map(|b| b.get_ref().as_str()));
                e.path = Some(format!("{base}{}", p.get_ref()));
            }
        }
        e.method = r.method.clone();
        e.expect = r.expect.iter().map(|o| o.get_ref().to_string()).collect();
        e.level = r.level;
        e.state = r.state.as_ref().map(|s| s.get_ref().clone());
        e.decision = r.decision.as_ref().map(|s| s.get_ref().clone());
        e.source = r.provenance.describe();
        e.summary = r.summary.clone();
        out.push(e);
    }
}

/// Counts per kind, for summaries.
pub fn counts(plan: &[PlanEntry]) -> std::collections::BTreeMap<&'static str, usize> {
    let mut m = std::collections::BTreeMap::new();
    for e in plan {
        *m.entry(e.kind.as_str()).or_insert(0) += 1;
    }
    m
}

impl PlanEntry {
    pub fn level_str(&self) -> &'static str {
        self.level.as_str()
    }
}
