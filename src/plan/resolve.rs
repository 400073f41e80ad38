//! The last pass of planning: each entry learns where it points in its spec, and the
//! reason, if the spec alone gives one, why no request can exercise it.
//!
//! Both are worked out here once, so the runner neither looks an entry's operation or
//! rule up again by name nor re-derives spec-only skip reasons for every test.

use std::collections::HashMap;

use super::{CursorCheck, Exercise, PlanEntry, Target, BAD_CREDENTIALS, NO_CREDENTIALS};
use crate::spec::model::*;
use crate::spec::Spec;

/// Fill `target` and `unrunnable` on every entry.
pub(super) fn resolve(spec: &Spec, plan: &mut [PlanEntry]) {
    // The first rule of an id wins, as a scan would find it (duplicates are lint errors).
    let mut rules: HashMap<&str, usize> = HashMap::new();
    for (i, r) in spec.rules().enumerate() {
        rules.entry(r.id.get_ref().as_str()).or_insert(i);
    }
    for e in plan {
        e.target = target(spec, &rules, e);
        e.unrunnable = unrunnable(spec, e);
        e.untestable = e.target.rule_at(spec).and_then(|r| r.untestable.clone());
    }
}

fn target(spec: &Spec, rules: &HashMap<&str, usize>, e: &PlanEntry) -> Target {
    let endpoint = e
        .endpoint
        .as_deref()
        .and_then(|id| spec.endpoint_position(id));
    let op = match (endpoint.and_then(|i| spec.endpoint_at(i)), &e.method) {
        (Some(ep), Some(m)) => ep.op.iter().position(|o| o.method.get_ref() == m),
        _ => None,
    };
    // An explicit rule's test id is `<api>/<rule id>`.
    let rule =
        e.id.strip_prefix(&e.api)
            .and_then(|r| r.strip_prefix('/'))
            .and_then(|id| rules.get(id).copied());
    Target { endpoint, op, rule }
}

/// Why the spec leaves no request to exercise `e` with, whatever the target.
fn unrunnable(spec: &Spec, e: &PlanEntry) -> Option<&'static str> {
    let rule = e.target.rule_at(spec);
    if rule.is_some_and(|r| !r.steps.is_empty() || r.untestable.is_some()) {
        // Steps are their own stimulus and outcomes; an untestable rule says why itself.
        return None;
    }
    match e.check {
        Exercise::Rule if e.method.is_none() => {
            Some("the rule is prose only: the spec gives it no request to send")
        }
        Exercise::Rule if e.expect.is_empty() => {
            Some("the spec gives this rule no outcome to check")
        }
        Exercise::Rule if !rule.is_some_and(|r| has_stimulus(spec, r)) => {
            Some(
                "the spec gives this rule no request of its own (no `send`, query, path, state, credentials, foreign method or refused role); it is not exercised directly",
            )
        }
        Exercise::Cursor(CursorCheck::Empty)
            if e.target.endpoint_at(spec).is_some_and(|ep| ep.collection.is_none()) =>
        {
            Some("the resource has no collection to empty")
        }
        Exercise::Cursor(CursorCheck::Limit)
            if e
                .target
                .operation(spec)
                .and_then(|o| o.pagination.as_ref())
                .and_then(|p| spec.pagination(p.get_ref()))
                .is_some_and(|p| p.limit_param().is_none()) =>
        {
            Some("the pagination has no limit parameter")
        }
        _ => None,
    }
}

/// Whether an explicit rule says what to send beyond the endpoint's sample request:
/// query parameters, a literal path, a device state, no (or wrong) credentials, a method
/// the endpoint lacks, or a role its operation refuses. Without one, its probe would be
/// the sample request, which says nothing about the rule.
fn has_stimulus(spec: &Spec, r: &Rule) -> bool {
    let ep = r.endpoint.as_ref().and_then(|x| spec.endpoint(x.get_ref()));
    let op = match (ep, &r.method) {
        (Some(ep), Some(m)) => ep.operation(m),
        _ => None,
    };
    // A method the endpoint does not have is itself the stimulus (a 405 probe).
    let foreign_method = ep.is_some() && r.method.is_some() && op.is_none();
    // So is a role the operation refuses (a 403 probe).
    let refused_role = match (op, &r.role) {
        (Some(op), Some(role)) => spec
            .role(role.get_ref())
            .is_some_and(|role| !op.public && !spec.allows(op, role)),
        _ => false,
    };
    r.send.is_some()
        || !r.query.is_empty()
        || r.path.is_some()
        || r.state.is_some()
        || foreign_method
        || refused_role
        || r.role
            .as_ref()
            .is_some_and(|x| x.get_ref() == NO_CREDENTIALS || x.get_ref() == BAD_CREDENTIALS)
}
