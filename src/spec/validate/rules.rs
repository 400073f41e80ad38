//! Explicit rules: their ids, what they send, and the endpoint, path, role, state and
//! outcomes they name.

use super::{id_ok, Ctx};
use crate::spec::model::steps::Control;
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
        check_steps(cx, f, r);
        check_covers(cx, f, r);
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

/// A rule's steps: each well formed, its roles and bases defined, every variable it uses
/// captured by an earlier step; and `untestable` alone, with a reason.
fn check_steps(cx: &mut Ctx, f: usize, r: &Rule) {
    let id = r.id.get_ref();
    let off = r.id.span().start;
    if let Some(why) = &r.untestable {
        if why.trim().is_empty() {
            cx.err(
                f,
                off,
                "S012",
                format!("rule `{id}`: `untestable` needs its reason"),
                None,
            );
        }
        if r.send.is_some() || !r.steps.is_empty() {
            cx.err(
                f,
                off,
                "S012",
                format!(
                    "rule `{id}` is `untestable` but also says how to test it (`send` or `step`)"
                ),
                Some("drop `untestable`, or the request".into()),
            );
        }
    }
    if !r.steps.is_empty() && r.send.is_some() {
        cx.err(
            f,
            off,
            "S013",
            format!("rule `{id}` has both `send` and `[[rule.step]]`"),
            Some("move the request under test into a step".into()),
        );
    }
    let mut vars: Vec<String> = vec!["prefix".into()];
    for (i, s) in r.steps.iter().enumerate() {
        let at = format!("rule `{id}`, step {} (`{}`)", i + 1, s.name);
        for p in s.problems() {
            cx.err(f, off, "S013", format!("{at}: {p}"), None);
        }
        if let Some(role) = &s.role {
            if role != "none" && role != "bad-credentials" && !cx.roles.contains(role.as_str()) {
                cx.err(
                    f,
                    off,
                    "R001",
                    format!("{at}: undefined role `{role}`"),
                    None,
                );
            }
        }
        if let Some(b) = &s.base {
            if !cx.bases.contains(&b.as_str()) {
                cx.err(f, off, "R010", format!("{at}: undefined base `{b}`"), None);
            }
        }
        if let Some(Control::Enter(st) | Control::Leave(st)) = &s.control {
            if !cx.states.contains(st.as_str()) {
                cx.err(
                    f,
                    off,
                    "R007",
                    format!("{at}: undefined state `{st}`"),
                    None,
                );
            }
        }
        let mut used: Vec<&str> = Vec::new();
        for a in &s.assert {
            used.extend(a.same_as.as_deref());
            used.extend(a.differs_from.as_deref());
            used.extend(a.since.as_deref());
        }
        for u in used {
            if !vars.iter().any(|v| v == u) {
                cx.err(
                    f,
                    off,
                    "S014",
                    format!("{at}: `{u}` is not captured by an earlier step"),
                    None,
                );
            }
        }
        vars.extend(s.capture.keys().cloned());
    }
}

/// Each digest number a rule `covers` is one the spec's `[[digest]]` tables define.
fn check_covers(cx: &mut Ctx, f: usize, r: &Rule) {
    let raw = cx.raw;
    if raw.digests.is_empty() {
        return;
    }
    for c in &r.covers {
        let known = c.rsplit_once('-').is_some_and(|(prefix, n)| {
            let n: u32 = n.parse().unwrap_or(0);
            raw.digests
                .iter()
                .any(|d| d.value.prefix.get_ref() == prefix && (1..=d.value.rules).contains(&n))
        });
        if !known {
            let have: Vec<String> = raw
                .digests
                .iter()
                .map(|d| {
                    format!(
                        "{p}-1 to {p}-{}",
                        d.value.rules,
                        p = d.value.prefix.get_ref()
                    )
                })
                .collect();
            cx.err(
                f,
                r.id.span().start,
                "R017",
                format!(
                    "rule `{}` covers `{c}`, which no `[[digest]]` numbers",
                    r.id.get_ref()
                ),
                Some(format!("the digests number {}", have.join(", "))),
            );
        }
    }
}
