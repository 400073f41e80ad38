//! The oracle: what an API's answers may be, read from its spec, and what is wrong with an
//! answer, if anything. It needs no expected answer for the request that was sent.

use std::collections::BTreeSet;

use super::Oracle;
use crate::runner::http::{Resp, TransportError};
use crate::runner::outcome;
use crate::spec::Spec;

/// Statuses of HTTP itself, which any server may answer whatever its API documents: a
/// request it cannot read (RFC 9110 §15.5.1), a body too slow (§15.5.9), too large (§15.5.14) or in a media
/// type it does not take (§15.5.16), a target too long (§15.5.15), headers too large
/// (RFC 6585 §5). The emulator's own fallbacks are among them.
pub(super) const PROTOCOL_STATUSES: [u16; 6] = [400, 408, 413, 414, 415, 431];

/// What an API's answers may be, from its spec.
#[derive(Debug, Clone, Default)]
pub(super) struct Judge {
    pub(super) statuses: BTreeSet<u16>,
    /// Content types of documented bodies (success and error).
    pub(super) content_types: Vec<String>,
    /// Content types of the error envelopes.
    pub(super) error_types: Vec<String>,
    /// Which operation a request reached, for the response oracle.
    pub(super) router: crate::oracle::Router,
}

/// What the response oracle finds wrong with an answer that passed [`judge`]: the first
/// breach of what the spec documents for the operation the request reached.
pub(super) fn judge_answer(
    j: &Judge,
    spec: &Spec,
    method: &str,
    target: &str,
    result: &Result<Resp, TransportError>,
) -> Option<(Oracle, String)> {
    let r = result.as_ref().ok()?;
    if method.eq_ignore_ascii_case("HEAD") {
        return None;
    }
    let op = j.router.reach(spec, method, target);
    let answer = crate::oracle::Answer {
        status: r.status,
        headers: &r.headers,
        body: &r.body,
    };
    crate::oracle::check(spec, op, &answer, crate::oracle::Mode::default())
        .into_iter()
        .find(|f| f.severity == crate::oracle::Severity::Breach)
        .map(|f| (Oracle::Response, f.line()))
}

/// The oracle: what is wrong with this answer, if anything.
pub(super) fn judge(
    j: &Judge,
    method: &str,
    result: &Result<Resp, TransportError>,
) -> Option<(Oracle, String)> {
    let r = match result {
        Ok(r) => r,
        Err(TransportError::Timeout(d)) => {
            return Some((Oracle::Hang, format!("no answer within {d:?}")))
        }
        Err(TransportError::TooLarge(n)) => {
            return Some((
                Oracle::TooLarge,
                format!("an answer over the body cap of {n} bytes (--max-body)"),
            ))
        }
        Err(e) => {
            return Some((
                Oracle::Connection,
                format!("the connection ended without an answer: {e}"),
            ))
        }
    };
    if r.status >= 500 {
        return Some((
            Oracle::No5xx,
            format!("status {} for a malformed request", r.status),
        ));
    }
    if !j.statuses.contains(&r.status) && !PROTOCOL_STATUSES.contains(&r.status) {
        return Some((
            Oracle::Status,
            format!("status {} is not one the spec documents", r.status),
        ));
    }
    if r.body.is_empty() || method == "HEAD" {
        return None;
    }
    let ct = outcome::essence(r.content_type());
    if !j.content_types.iter().any(|c| outcome::same_family(c, &ct)) {
        return Some((
            Oracle::ContentType,
            format!(
                "a body of type `{ct}`; documented: {}",
                j.content_types.join(", ")
            ),
        ));
    }
    if r.status >= 400 && !j.error_types.is_empty() {
        if !j.error_types.iter().any(|c| outcome::same_family(c, &ct)) {
            return Some((
                Oracle::ErrorEnvelope,
                format!(
                    "an error answer of type `{ct}`, not one of the error envelopes ({})",
                    j.error_types.join(", ")
                ),
            ));
        }
        if (ct.contains("json") || ct.contains("xml")) && outcome::parse(r).is_err() {
            return Some((
                Oracle::ErrorEnvelope,
                format!("an error answer of type `{ct}` that does not parse"),
            ));
        }
    }
    None
}

pub(super) fn judge_for(spec: &Spec) -> Judge {
    let mut statuses = BTreeSet::new();
    for e in crate::plan::plan(spec) {
        for x in &e.expect {
            statuses.insert(x.status);
        }
    }
    for c in spec.codes() {
        statuses.insert(c.status);
    }
    let mut content_types: Vec<String> = Vec::new();
    let mut error_types: Vec<String> = Vec::new();
    let add = |v: &mut Vec<String>, c: &str| {
        let c = outcome::essence(c);
        if !c.is_empty() && !v.contains(&c) {
            v.push(c);
        }
    };
    for env in spec.envelopes() {
        add(&mut content_types, &env.content_type);
        add(&mut error_types, &env.content_type);
    }
    for ep in spec.endpoints() {
        for op in &ep.op {
            if let Some(r) = &op.response {
                for c in &r.content_types {
                    add(&mut content_types, c);
                }
            }
        }
    }
    Judge {
        statuses: statuses.into_iter().filter(|s| *s < 500).collect(),
        content_types,
        error_types,
        router: crate::oracle::Router::new(spec),
    }
}
