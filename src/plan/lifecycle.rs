//! Tests about the device over time rather than one request: outcomes in a device state,
//! the stateful model test of a collection, the responses property, asynchronous jobs and
//! references that block a delete.

use super::{lowest_allowed, Exercise, PlanEntry};
use crate::spec::model::*;
use crate::spec::Spec;

/// One per state and operation it applies to: in that state, the operation answers the
/// state's outcome.
pub(super) fn states(spec: &Spec, api: &str, out: &mut Vec<PlanEntry>) {
    for st in spec.states() {
        let name = st.name.get_ref();
        for ep in spec.endpoints() {
            let eid = ep.id.get_ref();
            if st.except.iter().any(|x| x.get_ref() == eid) {
                continue;
            }
            let by_ep = st.endpoints.iter().any(|x| x.get_ref() == eid);
            for op in &ep.op {
                if !by_ep && !st.applies_to.contains(&op.safety()) {
                    continue;
                }
                let method = op.method.get_ref();
                let id = format!("{api}/{eid}/state/{name}/{method}");
                let mut e = PlanEntry::new(api, RuleKind::State, id, Exercise::State)
                    .target(spec, ep, op)
                    .expect(vec![st.outcome.get_ref().clone()])
                    .safety(op.safety())
                    .level(st.level)
                    .source(st.provenance.describe())
                    .summary(format!(
                        "in state `{name}`, {method} answers {}",
                        st.outcome.get_ref()
                    ));
                e.state = Some(name.clone());
                out.push(e);
            }
        }
    }
}

/// The stateful test: one per collection with a list, a create (or upsert) and an update
/// or delete; the entry names the list.
pub(super) fn stateful(spec: &Spec, api: &str, out: &mut Vec<PlanEntry>) {
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
        let id = format!("{api}/{}/property/stateful", ep.id.get_ref());
        out.push(
            PlanEntry::new(api, RuleKind::Behaviour, id, Exercise::Stateful)
                .about(spec, ep, op)
                .safety(Safety::Write)
                .success(op)
                .source(format!(
                    "inferred: the collection `{name}` behaves as a keyed store: creates \
                     add, updates change, deletes remove, replaces swap ({})",
                    c.provenance.describe()
                ))
                .summary(
                    "generated sequences of creates, updates, deletes and lists agree with \
                     a model of the collection",
                ),
        );
    }
}

/// The responses property: one per API.
pub(super) fn responses(api: &str, out: &mut Vec<PlanEntry>) {
    out.push(
        PlanEntry::new(
            api,
            RuleKind::Envelope,
            format!("{api}/property/responses"),
            Exercise::PropertyResponses,
        )
        .source(
            "inferred: a server error is never a conformant answer, and every \
             answer is in a documented content type and envelope",
        )
        .summary(
            "generated requests of every kind never get a 5xx; answers come in \
             documented content types and the error envelope",
        ),
    );
}

/// One flow per job, then one delete per reference that says what deleting its target
/// answers.
pub(super) fn jobs_and_refs(spec: &Spec, api: &str, out: &mut Vec<PlanEntry>) {
    out.extend(spec.jobs().map(|j| job(spec, api, j)));
    out.extend(spec.references().filter_map(|r| reference(api, r)));
}

/// Every GET whose path parameter selects records (`filter`): the records answered for
/// the example value all pass the filter, and a value no record has selects none.
pub(super) fn path_filters(spec: &Spec, api: &str, out: &mut Vec<PlanEntry>) {
    for ep in spec.endpoints() {
        let Some(op) = ep.operation("GET") else {
            continue;
        };
        for (name, p) in &ep.params {
            let Some(f) = p.spec().filter else { continue };
            let id = format!("{api}/{}/filter/{name}", ep.id.get_ref());
            let how = match f.how {
                crate::spec::model::FilterMatch::Equals => "equals",
                crate::spec::model::FilterMatch::Token => "holds as a token",
                crate::spec::model::FilterMatch::Prefix => "is or lies under",
                crate::spec::model::FilterMatch::Starts => "starts with",
            };
            out.push(
                PlanEntry {
                    field: Some(name.clone()),
                    ..PlanEntry::new(api, RuleKind::Behaviour, id, Exercise::PathFilter)
                }
                .target(spec, ep, op)
                .expect(vec![op.success_outcome()])
                .source(ep.provenance.describe())
                    .summary(format!(
                        "GET {} answers only records whose `{}` {how} `{{{name}}}`, and none for a value no record has",
                        ep.path.get_ref(),
                        f.field
                    )),
            );
        }
    }
}

/// Starting the job is accepted, and polling it reaches its end.
fn job(spec: &Spec, api: &str, j: &Job) -> PlanEntry {
    let name = j.name.get_ref();
    let pending = j
        .pending
        .iter()
        .map(|p| p.get_ref().to_string())
        .collect::<Vec<_>>()
        .join("/");
    let mut e = PlanEntry::new(
        api,
        RuleKind::Async,
        format!("{api}/job/{name}/flow"),
        Exercise::Job,
    );
    if let Some(ep) = spec.endpoint(j.start.get_ref()) {
        e = e.at(spec, ep);
        if let Some(op) = ep.operation(&j.start_method) {
            e = e.role(lowest_allowed(spec, op)).safety(op.safety());
        }
    }
    e.method(j.start_method.clone())
        .expect(vec![j.accepted.get_ref().clone(), j.done.get_ref().clone()])
        .source(j.provenance.describe())
        .summary(format!(
            "starting `{name}` answers {}, polling answers {pending} until {}",
            j.accepted.get_ref(),
            j.done.get_ref()
        ))
}

/// Deleting an object another still references answers the reference's `on_delete`.
fn reference(api: &str, r: &Reference) -> Option<PlanEntry> {
    let on_delete = r.on_delete.as_ref()?;
    Some(
        PlanEntry::new(
            api,
            RuleKind::Reference,
            format!("{api}/reference/{}/delete-referenced", r.name.get_ref()),
            Exercise::Reference,
        )
        .expect(vec![on_delete.get_ref().clone()])
        .safety(Safety::Write)
        .source(r.provenance.describe())
        .summary(format!(
            "a `{}` still referenced by a `{}` cannot be deleted",
            r.to.get_ref(),
            r.from.get_ref()
        )),
    )
}
