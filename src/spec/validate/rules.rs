//! Explicit rules: their ids, what they send, and the endpoint, path, role, state and
//! outcomes they name.

use super::{id_ok, Ctx};
use crate::spec::model::{Rule, RuleSend};

pub(super) fn check_rules(cx: &mut Ctx) {
    let raw = cx.raw;
    for r in &raw.rules {
        let f = r.file;
        let off = r.id.span().start;
        let id = r.id.get_ref();
        if !id_ok(id) {
            cx.err(
                f,
                off,
                "I001",
                format!("rule id `{id}` must be segments of [A-Za-z0-9_.-] joined by `/`"),
                None,
            );
        }
        if let Some(api) = raw.api.first() {
            if id.starts_with(&format!("{}/", api.name.get_ref())) {
                cx.err(
                    f,
                    off,
                    "I004",
                    format!("rule id `{id}` repeats the API name; ids are relative to the API"),
                    Some(format!("write `{}`", &id[api.name.get_ref().len() + 1..])),
                );
            }
        }
        if r.summary.trim().is_empty() {
            cx.err(
                f,
                off,
                "S011",
                format!("rule `{id}` has an empty summary"),
                None,
            );
        }
        if let Some(send) = &r.send {
            check_send(cx, f, r, send);
        }
        check_target(cx, f, r);
        if let Some(role) = &r.role {
            if role.get_ref() != "none" && role.get_ref() != "bad-credentials" {
                cx.refer(f, role, "role", "R001");
            }
        }
        for o in &r.expect {
            cx.outcome(f, o);
        }
        if let Some(s) = &r.state {
            cx.refer(f, s, "state", "R007");
        }
        if let Some(d) = &r.decision {
            cx.refer(f, d, "decision", "R009");
        }
        cx.provenance(f, off, &r.provenance, &format!("rule `{id}`"));
    }
}

/// What a rule sends: a whole body or edits to the sample, and path parameters its
/// endpoint has.
fn check_send(cx: &mut Ctx, f: usize, r: &Rule, send: &RuleSend) {
    let raw = cx.raw;
    let off = r.id.span().start;
    let id = r.id.get_ref();
    if send.body.is_some() && (!send.set.is_empty() || !send.omit.is_empty()) {
        cx.err(
            f,
            off,
            "E015",
            format!("rule `{id}`: `send.body` replaces the sample body; it cannot be combined with `set` or `omit`"),
            None,
        );
    }
    if r.endpoint.is_none() && !send.params.is_empty() {
        cx.err(
            f,
            off,
            "E015",
            format!("rule `{id}`: `send.params` needs an `endpoint` whose path has them"),
            None,
        );
    }
    if let (Some(e), false) = (&r.endpoint, send.params.is_empty()) {
        if let Some(ep) = raw.endpoints.iter().find(|x| x.id.get_ref() == e.get_ref()) {
            let names = crate::spec::template_params(ep.path.get_ref()).unwrap_or_default();
            for p in send.params.keys() {
                if !names.contains(p) {
                    cx.err(
                        f,
                        off,
                        "E015",
                        format!(
                            "rule `{id}`: `send.params.{p}` is not a parameter of `{}`",
                            ep.path.get_ref()
                        ),
                        Some(format!("parameters: {}", names.join(", "))),
                    );
                }
            }
        }
    }
}

/// Where a rule is aimed: an endpoint (with a method it has or tests) or a bare path, and
/// its base.
fn check_target(cx: &mut Ctx, f: usize, r: &Rule) {
    let raw = cx.raw;
    let off = r.id.span().start;
    let id = r.id.get_ref();
    if let Some(e) = &r.endpoint {
        cx.refer(f, e, "endpoint", "R010");
        if let (Some(m), Some(ep)) = (
            &r.method,
            raw.endpoints.iter().find(|x| x.id.get_ref() == e.get_ref()),
        ) {
            let known = ep.op.iter().any(|o| o.method.get_ref() == m)
                || ep.unsupported.contains(m)
                || cx.methods.contains(m);
            if !known {
                cx.err(
                    f,
                    off,
                    "E012",
                    format!(
                        "rule `{id}` uses method `{m}`, which endpoint `{}` neither has nor tests",
                        e.get_ref()
                    ),
                    None,
                );
            }
        }
    } else if r.method.is_some() && r.path.is_none() {
        cx.err(
            f,
            off,
            "E013",
            format!("rule `{id}` names a method but no endpoint or path"),
            Some(
                "add `endpoint = \"...\"`, or `path = \"/...\"` for a path that is not an endpoint"
                    .into(),
            ),
        );
    }
    if let Some(p) = &r.path {
        if r.endpoint.is_some() {
            cx.err(
                f,
                p.span().start,
                "E014",
                format!("rule `{id}` sets both `endpoint` and `path`"),
                Some("keep one".into()),
            );
        }
        if !p.get_ref().starts_with('/') {
            cx.err(
                f,
                p.span().start,
                "E001",
                format!("path `{}` must start with `/`", p.get_ref()),
                None,
            );
        }
    }
    if let Some(b) = &r.base {
        cx.base(f, b);
    }
}
