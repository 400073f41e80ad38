//! The top-level declarations: `[api]`, `[auth]`, `[matrix]`, the roles and the recorded
//! decisions.

use std::collections::HashSet;

use super::{id_ok, is_method, Ctx};
use crate::spec::model::{AuthScheme, Check};

/// `[api]`, `[auth]` and `[matrix]`, in that order.
pub(super) fn check_api(cx: &mut Ctx) {
    check_api_table(cx);
    check_auth(cx);
    check_matrix(cx);
}

fn check_api_table(cx: &mut Ctx) {
    let raw = cx.raw;
    if let Some(api) = raw.api.first() {
        let name = api.name.get_ref();
        if !id_ok(name) || name.contains('/') {
            cx.err(
                api.file,
                api.name.span().start,
                "I001",
                format!("API name `{name}` must be a single segment of [A-Za-z0-9_.-]"),
                None,
            );
        }
        if raw.path.is_dir() {
            if let Some(dir) = raw.path.file_name().and_then(|s| s.to_str()) {
                if dir != name {
                    cx.err(
                        api.file,
                        api.name.span().start,
                        "I002",
                        format!("API name `{name}` differs from its directory `{dir}`"),
                        Some("rule IDs start with the API name; keep them equal".into()),
                    );
                }
            }
        }
        if api.bases.is_empty() {
            cx.err(
                api.file,
                api.name.span().start,
                "S002",
                "`[api].bases` is empty; give at least one base path".into(),
                None,
            );
        }
        for (k, v) in &api.bases {
            if !v.is_empty() && (!v.starts_with('/') || v.ends_with('/')) {
                cx.err(
                    api.file,
                    api.name.span().start,
                    "E001",
                    format!(
                        "base `{k}` = `{v}` must start with `/` and not end with `/` (or be empty)"
                    ),
                    None,
                );
            }
        }
    }
}

fn check_auth(cx: &mut Ctx) {
    if let Some(auth) = cx.raw.auth.first() {
        cx.outcome(auth.file, &auth.missing);
        cx.outcome(auth.file, &auth.invalid);
        if let Some(u) = &auth.unknown_user {
            cx.outcome(auth.file, u);
        }
        for a in &auth.accept {
            cx.outcome(auth.file, a);
        }
        if let Some(d) = &auth.decision {
            cx.refer(auth.file, d, "decision", "R009");
        }
        cx.provenance(
            auth.file,
            auth.missing.span().start,
            &auth.provenance,
            "`[auth]`",
        );
        if auth.scheme == AuthScheme::Bearer && auth.prefix.is_none() {
            cx.err(
                auth.file,
                auth.missing.span().start,
                "S003",
                "bearer authentication needs a `prefix` (e.g. \"Bearer\")".into(),
                None,
            );
        }
    }
}

fn check_matrix(cx: &mut Ctx) {
    if let Some(m) = cx.raw.matrix.first() {
        let f = m.file;
        let off = m.method_not_allowed.expect.span().start;
        let moff = m.methods.span().start;
        let poff = m.precedence.span().start;
        if m.methods.get_ref().is_empty() {
            cx.err(f, moff, "S004", "`[matrix].methods` is empty".into(), None);
        }
        for meth in m.methods.get_ref() {
            if !is_method(meth) {
                cx.err(
                    f,
                    moff,
                    "E004",
                    format!("`{meth}` is not an upper-case HTTP method token"),
                    None,
                );
            }
        }
        let mut seen = HashSet::new();
        for c in m.precedence.get_ref() {
            if !seen.insert(*c) {
                cx.err(
                    f,
                    poff,
                    "D003",
                    format!(
                        "`{}` appears twice in `[matrix].precedence`",
                        format!("{c:?}").to_lowercase()
                    ),
                    None,
                );
            }
        }
        for needed in [Check::Auth, Check::Method, Check::Role] {
            if !seen.contains(&needed) {
                cx.err(
                    f,
                    poff,
                    "S005",
                    format!("`[matrix].precedence` must place `{needed:?}`").to_lowercase(),
                    Some("e.g. [\"route\", \"auth\", \"method\", \"role\", \"state\", \"validation\"]".into()),
                );
            }
        }
        cx.cell(f, off, &m.method_not_allowed, "`method_not_allowed`");
        cx.cell(
            f,
            m.forbidden.expect.span().start,
            &m.forbidden,
            "`forbidden`",
        );
        cx.cell(
            f,
            m.not_found.expect.span().start,
            &m.not_found,
            "`not_found`",
        );
        for c in [
            &m.unknown_leaf,
            &m.not_acceptable,
            &m.unsupported_media_type,
            &m.payload_too_large,
        ]
        .into_iter()
        .flatten()
        {
            cx.cell(f, c.expect.span().start, c, "matrix cell rule");
        }
    }
}

pub(super) fn check_roles(cx: &mut Ctx) {
    let raw = cx.raw;
    for r in &raw.roles {
        let n = r.name.get_ref();
        if n == "none" || n == "bad-credentials" {
            cx.err(
                r.file,
                r.name.span().start,
                "I003",
                format!("role name `{n}` is reserved for the unauthenticated matrix columns"),
                None,
            );
        }
        if !id_ok(n) || n.contains('/') {
            cx.err(
                r.file,
                r.name.span().start,
                "I001",
                format!("role name `{n}` must be one segment of [A-Za-z0-9_.-]"),
                None,
            );
        }
        cx.provenance(
            r.file,
            r.name.span().start,
            &r.provenance,
            &format!("role `{n}`"),
        );
    }
    if raw.roles.is_empty() && !raw.api.is_empty() {
        let f = raw.api[0].file;
        cx.err(f, 0, "S006", "the spec defines no `[[role]]`".into(), None);
    }
}

pub(super) fn check_decisions(cx: &mut Ctx) {
    let raw = cx.raw;
    for d in &raw.decisions {
        let off = d.id.span().start;
        if !id_ok(d.id.get_ref()) {
            cx.err(
                d.file,
                off,
                "I001",
                format!(
                    "decision id `{}` has characters outside [A-Za-z0-9_.-/]",
                    d.id.get_ref()
                ),
                None,
            );
        }
        if d.choice.trim().is_empty() {
            cx.err(
                d.file,
                off,
                "S010",
                format!("decision `{}` has an empty `choice`", d.id.get_ref()),
                None,
            );
        }
        cx.provenance(
            d.file,
            off,
            &d.provenance,
            &format!("decision `{}`", d.id.get_ref()),
        );
    }
}
