//! The authorization matrix and the probes beside it.
//!
//! Every endpoint gets one row per method (the matrix's own methods, then any other it
//! has) and one column per caller: no credentials, bad credentials, then each role by
//! rank. Each cell expects what the first failing check in the spec's precedence says.
//! The unknown-path probe and the not-acceptable probes live here too: they read the same
//! `[matrix]` table.

use super::{highest_role, outcomes, Exercise, PlanEntry, BAD_CREDENTIALS, NO_CREDENTIALS};
use crate::spec::model::*;
use crate::spec::Spec;

/// Which check decides a matrix cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decider {
    Auth,
    Method,
    Role,
    Allowed,
}

pub(super) fn matrix(spec: &Spec, api: &str, out: &mut Vec<PlanEntry>) {
    let roles = spec.roles_by_rank();
    for ep in spec.endpoints() {
        let allow: Vec<String> = ep.op.iter().map(|o| o.method.get_ref().clone()).collect();
        for method in &methods(spec, ep) {
            let op = ep.operation(method);
            let mut columns: Vec<(String, Option<&Role>)> = vec![
                (NO_CREDENTIALS.into(), None),
                (BAD_CREDENTIALS.into(), None),
            ];
            columns.extend(roles.iter().map(|r| (r.name.get_ref().clone(), Some(*r))));
            for (col, role) in columns {
                let cell = Cell {
                    spec,
                    ep,
                    method,
                    op,
                    col: &col,
                    allow: &allow,
                };
                out.push(cell.entry(api, decide(spec, op, role)));
            }
        }
    }
}

/// The rows of an endpoint: the matrix's methods, then the endpoint's other methods.
fn methods(spec: &Spec, ep: &Endpoint) -> Vec<String> {
    let mut methods: Vec<String> = spec.matrix().methods.get_ref().clone();
    for op in &ep.op {
        if !methods.contains(op.method.get_ref()) {
            methods.push(op.method.get_ref().clone());
        }
    }
    methods
}

/// The first check, in the matrix's precedence, that the call fails; `Allowed` if none.
/// `role` is `None` for the two unauthenticated columns.
fn decide(spec: &Spec, op: Option<&Operation>, role: Option<&Role>) -> Decider {
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
    spec.matrix()
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
        .unwrap_or(Decider::Allowed)
}

/// One cell: `method` on `ep`, called as column `col`.
struct Cell<'a> {
    spec: &'a Spec,
    ep: &'a Endpoint,
    method: &'a String,
    /// The endpoint's operation for `method`, if it has one.
    op: Option<&'a Operation>,
    col: &'a str,
    /// The endpoint's methods, for a 405's `Allow`.
    allow: &'a [String],
}

impl Cell<'_> {
    fn entry(&self, api: &str, decider: Decider) -> PlanEntry {
        let Cell {
            spec,
            ep,
            method,
            op,
            col,
            ..
        } = *self;
        let id = format!("{api}/{}/matrix/{method}/{col}", ep.id.get_ref());
        let e = PlanEntry::new(api, RuleKind::Matrix, id, Exercise::Cell)
            .at(spec, ep)
            .method(method)
            .role(Some(col.to_string()))
            .safety(
                op.map(Operation::safety)
                    .unwrap_or(method_safety(Some(method))),
            );
        match decider {
            Decider::Auth => self.unauthenticated(e),
            Decider::Method => self.not_a_method(e),
            Decider::Role => self.forbidden(e),
            Decider::Allowed => self.allowed(e),
        }
    }

    fn unauthenticated(&self, e: PlanEntry) -> PlanEntry {
        let auth = self.spec.auth();
        let (o, how) = if self.col == NO_CREDENTIALS {
            (&auth.missing, "without credentials")
        } else {
            (&auth.invalid, "with wrong credentials")
        };
        e.expect(outcomes(o.get_ref(), &auth.accept))
            .decision(auth.decision.as_ref())
            .source(auth.provenance.describe())
            .summary(format!("{} {how} is refused", self.method))
    }

    fn not_a_method(&self, e: PlanEntry) -> PlanEntry {
        let c = &self.spec.matrix().method_not_allowed;
        let source = if self.ep.unsupported.contains(self.method) {
            self.ep
                .unsupported_source
                .clone()
                .unwrap_or_else(|| c.provenance.describe())
        } else {
            c.provenance.describe()
        };
        let mut e = e
            .answer(c)
            .decision(c.decision.as_ref())
            .source(source)
            .summary(format!("{} is not a method of this resource", self.method));
        if c.allow_header {
            e.allow = Some(self.allow.to_vec());
        }
        e
    }

    fn forbidden(&self, e: PlanEntry) -> PlanEntry {
        let op = self.op.expect("role decides only when the op exists");
        let c = op
            .forbidden
            .as_ref()
            .unwrap_or(&self.spec.matrix().forbidden);
        e.answer(c)
            .decision(c.decision.as_ref())
            .source(op.provenance.describe())
            .summary(format!(
                "{} is refused to `{}`: below the privilege it needs",
                self.method, self.col
            ))
    }

    fn allowed(&self, e: PlanEntry) -> PlanEntry {
        let op = self.op.expect("allowed only when the op exists");
        if let Some(e) = self.not_owner(op, e.clone()) {
            return e;
        }
        let mut acc = op.accept.clone();
        if let Some(p) = op
            .pagination
            .as_ref()
            .and_then(|p| self.spec.pagination(p.get_ref()))
        {
            if let Some(emp) = &p.empty {
                acc.push(emp.clone());
            }
        }
        e.expect(outcomes(&op.success_outcome(), &acc))
            .level(op.level)
            .decision(op.decision.as_ref())
            .source(op.provenance.describe())
            .summary(format!("{} is allowed to `{}`", self.method, self.col))
    }
}

impl Cell<'_> {
    /// An `owned` endpoint whose example names a record of another account than the
    /// column's: the endpoint's `others` answer (else not found).
    fn not_owner(&self, op: &Operation, e: PlanEntry) -> Option<PlanEntry> {
        let owner = self.spec.example_owner(self.ep, op)?;
        let role = self.spec.role(self.col)?;
        let user = role
            .user
            .clone()
            .unwrap_or_else(|| role.name.get_ref().clone());
        if user == owner {
            return None;
        }
        let owned = self.ep.owned.as_ref()?;
        let m = self.spec.matrix();
        let e = match &owned.others {
            Some(o) => e.expect(vec![o.clone()]),
            None => e.answer(&m.not_found),
        };
        Some(e.source(self.ep.provenance.describe()).summary(format!(
            "{} on `{owner}`'s record is refused to `{}`: not its own",
            self.method, self.col
        )))
    }
}

/// The unknown-path probe, then one not-acceptable probe per readable `GET` with a
/// response (when the matrix says what a wrong `Accept` gets).
pub(super) fn not_found(spec: &Spec, api: &str, out: &mut Vec<PlanEntry>) {
    let m = spec.matrix();
    let base = spec.base_path(None);
    let e = PlanEntry::new(
        api,
        RuleKind::Matrix,
        format!("{api}/matrix/not-found"),
        Exercise::NotFound,
    )
    .method("GET")
    .path(format!("{base}/dialtone-no-such-resource"))
    .role(highest_role(spec))
    .answer(&m.not_found)
    .source(m.not_found.provenance.describe())
    .summary("an unknown path is answered with the not-found outcome");
    out.push(e);
    let Some(c) = &m.not_acceptable else { return };
    for ep in spec.endpoints() {
        for op in &ep.op {
            if op.method.get_ref() != "GET" || op.response.is_none() {
                continue;
            }
            let id = format!("{api}/{}/format/GET/not-acceptable", ep.id.get_ref());
            out.push(
                PlanEntry::new(api, RuleKind::Format, id, Exercise::NotAcceptable)
                    .target(spec, ep, op)
                    .answer(c)
                    .source(c.provenance.describe())
                    .summary("an Accept the resource cannot produce is refused"),
            );
        }
    }
}

/// The safety of a request with no operation to take it from: that of its verb.
pub fn method_safety(method: Option<&str>) -> Safety {
    match method {
        None | Some("GET" | "HEAD" | "OPTIONS") => Safety::Read,
        Some(_) => Safety::Write,
    }
}
