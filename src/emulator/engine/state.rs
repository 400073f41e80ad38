//! Device states: the active state that blocks (or reports on) an operation, and the
//! `[[state.also]]` cases that answer a matching request outright.

use axum::http::header;

use super::ctx::Ctx;
use crate::emulator::faults::FaultId;
use crate::spec::model::{State, StateCase};
use crate::spec::Spec;

/// Active state that applies to this operation, if any.
pub(super) fn blocking_state<'a>(ctx: &'a Ctx) -> Option<&'a State> {
    if ctx.fault(FaultId::StateIgnored) {
        return None;
    }
    let device = ctx.api.device.lock();
    let active = &device.states;
    if active.is_empty() {
        return None;
    }
    let eid = ctx.ep.id.get_ref();
    ctx.spec().states().find(|st| {
        active.contains(st.name.get_ref())
            && !st.except.iter().any(|x| x.get_ref() == eid)
            && (st.endpoints.iter().any(|x| x.get_ref() == eid)
                || st.applies_to.contains(&Spec::safety(ctx.op)))
    })
}

/// A `[[state.also]]` case of an active state that matches this request.
pub(super) fn state_case<'a>(ctx: &'a Ctx) -> Option<&'a StateCase> {
    if ctx.fault(FaultId::StateIgnored) {
        return None;
    }
    let device = ctx.api.device.lock();
    let eid = ctx.ep.id.get_ref();
    let method = ctx.op.method.get_ref();
    let ct = ctx
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    ctx.spec()
        .states()
        .filter(|st| device.states.contains(st.name.get_ref()))
        .flat_map(|st| st.also.iter())
        .find(|c| {
            c.endpoints.iter().any(|e| e.get_ref() == eid)
                && (c.methods.is_empty() || c.methods.iter().any(|m| m == method))
                && (c.content_types.is_empty()
                    || c.content_types
                        .iter()
                        .any(|t| ct.starts_with(&t.to_ascii_lowercase())))
        })
}
