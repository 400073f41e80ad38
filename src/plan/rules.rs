//! Entries the spec states rather than implies: its explicit `[[rule]]`s, and the
//! snapshot entries a run adds when it has recorded baselines.

use super::matrix::method_safety;
use super::{highest_role, lowest_allowed, Exercise, PlanEntry};
use crate::spec::model::*;
use crate::spec::Spec;

/// One entry per `[[rule]]`, in spec order.
pub(super) fn explicit(spec: &Spec, api: &str, out: &mut Vec<PlanEntry>) {
    out.extend(spec.rules().map(|r| rule(spec, api, r)));
}

fn rule(spec: &Spec, api: &str, r: &Rule) -> PlanEntry {
    let id = format!("{api}/{}", r.id.get_ref());
    let mut e = PlanEntry::new(api, r.kind, id, Exercise::Rule);
    if let Some(ep) = r.endpoint.as_ref().and_then(|e| spec.endpoint(e.get_ref())) {
        let op = r.method.as_ref().and_then(|m| ep.operation(m));
        e = e
            .at(spec, ep)
            .safety(
                r.safety
                    .or(op.map(Operation::safety))
                    // A probe with a method the endpoint lacks is as risky as its verb.
                    .unwrap_or(method_safety(r.method.as_deref())),
            )
            // A rule about a method the endpoint lacks is probed as the most privileged
            // role, so that only the method can decide the answer.
            .role(
                r.role
                    .as_ref()
                    .map(|x| x.get_ref().clone())
                    .or_else(|| op.and_then(|o| lowest_allowed(spec, o)))
                    .or_else(|| highest_role(spec)),
            );
    } else {
        e = e
            .safety(r.safety.unwrap_or(method_safety(r.method.as_deref())))
            .role(r.role.as_ref().map(|x| x.get_ref().clone()));
        if let Some(p) = &r.path {
            let base = spec.base_path(r.base.as_ref().map(|b| b.get_ref().as_str()));
            e = e.path(format!("{base}{}", p.get_ref()));
        }
    }
    e.method = r.method.clone();
    e.state = r.state.as_ref().map(|s| s.get_ref().clone());
    e.expect(r.expect.iter().map(|o| o.get_ref().clone()).collect())
        .level(r.level)
        .decision(r.decision.as_ref())
        .source(r.provenance.describe())
        .summary(r.summary.clone())
}

/// One snapshot entry per readable operation: a `GET` of read safety that some role may
/// call. Not part of [`plan`](super::plan): snapshots need a baseline, so the runner adds
/// them only when asked (`--snapshots DIR`, `dialtone snapshot record`).
pub fn snapshots(spec: &Spec) -> Vec<PlanEntry> {
    let api = spec.name();
    let mut out = Vec::new();
    for ep in spec.endpoints() {
        for op in &ep.op {
            if op.method.get_ref() != "GET" || op.safety() != Safety::Read {
                continue;
            }
            if lowest_allowed(spec, op).is_none() {
                continue;
            }
            let id = format!("{api}/{}/snapshot/GET", ep.id.get_ref());
            out.push(
                PlanEntry::new(api, RuleKind::Behaviour, id, Exercise::Snapshot)
                    .about(spec, ep, op)
                    .success(op)
                    .level(Level::Must)
                    .source(
                        "inferred: a firmware build answers a read as the baseline build did, \
                         apart from the spec's [[volatile]] fields",
                    )
                    .summary("the normalised answer equals the recorded baseline"),
            );
        }
    }
    super::resolve::resolve(spec, &mut out);
    out
}
