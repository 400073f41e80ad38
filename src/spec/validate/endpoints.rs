//! Endpoints and their operations: ids, path templates and their parameters, methods,
//! who may call them, and the request and response they describe.

use std::collections::{HashMap, HashSet};

use super::{id_ok, is_method, Ctx};
use crate::diag::did_you_mean;
use crate::spec::model::{Endpoint, FieldType, Operation, Request, Response};
use crate::spec::{template_params, template_shape};

pub(super) fn check_endpoints(cx: &mut Ctx) {
    let raw = cx.raw;
    let mut templates: HashMap<(String, String), (usize, usize)> = HashMap::new();
    for ep in &raw.endpoints {
        let f = ep.file;
        let eid = ep.id.get_ref();
        let off = ep.id.span().start;
        if !id_ok(eid) {
            cx.err(
                f,
                off,
                "I001",
                format!("endpoint id `{eid}` must be segments of [A-Za-z0-9_.-] joined by `/`"),
                None,
            );
        }
        check_path(cx, f, ep, &mut templates);
        if let Some(c) = &ep.collection {
            cx.refer(f, c, "collection", "R006");
        }
        check_owned(cx, f, ep);
        check_lookups(cx, f, ep);
        check_settings(cx, f, ep);
        check_unsupported(cx, f, ep);
        cx.provenance(f, off, &ep.provenance, &format!("endpoint `{eid}`"));
        let mut methods = HashSet::new();
        for op in &ep.op {
            check_op(cx, f, eid, op, &mut methods);
        }
    }
}

/// An `owned` endpoint exposes a collection whose records name their `owner`, and its
/// `param` is one of the endpoint's parameters.
fn check_owned(cx: &mut Ctx, f: usize, ep: &Endpoint) {
    let Some(o) = &ep.owned else { return };
    let raw = cx.raw;
    let off = ep.id.span().start;
    let eid = ep.id.get_ref();
    let owner = ep.collection.as_ref().and_then(|c| {
        raw.collections
            .iter()
            .find(|x| x.name.get_ref() == c.get_ref())
            .map(|x| x.owner.is_some())
    });
    if owner != Some(true) {
        cx.err(
            f,
            off,
            "E021",
            format!("endpoint `{eid}` is `owned` but its collection names no `owner`"),
            Some("give the endpoint a `collection` whose records name an `owner`".into()),
        );
    }
    if let Some(p) = o.param.as_ref().filter(|p| !ep.params.contains_key(*p)) {
        cx.err(
            f,
            off,
            "E021",
            format!("`owned.param` `{p}` is not a parameter of endpoint `{eid}`"),
            None,
        );
    }
}

/// The path: its form, its base, that no other endpoint declares the same template, and
/// that its parameters and `params` agree.
fn check_path(
    cx: &mut Ctx,
    f: usize,
    ep: &Endpoint,
    templates: &mut HashMap<(String, String), (usize, usize)>,
) {
    let raw = cx.raw;
    let off = ep.id.span().start;
    let path = ep.path.get_ref();
    let poff = ep.path.span().start;
    if !path.is_empty() && !path.starts_with('/') {
        cx.err(
            f,
            poff,
            "E001",
            format!("path `{path}` must start with `/`"),
            None,
        );
    }
    if let Some(b) = &ep.base {
        cx.base(f, b);
    }
    let base = ep
        .base
        .as_ref()
        .map(|b| b.get_ref().clone())
        .unwrap_or_else(|| cx.bases.first().map(|s| s.to_string()).unwrap_or_default());
    // Normalise parameter names so `/a/{x}` and `/a/{y}` count as the same template.
    let shape: String = template_shape(path);
    if let Some((pf, po)) = templates.get(&(base.clone(), shape.clone())) {
        let (l, c) = raw.files[*pf].line_col(*po);
        cx.err(
            f,
            poff,
            "D004",
            format!("path template `{path}` (base `{base}`) is declared by two endpoints"),
            Some(format!(
                "the other is at {}:{l}:{c}; merge their operations",
                raw.files[*pf].path.display()
            )),
        );
    } else {
        templates.insert((base, shape), (f, poff));
    }
    match template_params(path) {
        Err(e) => cx.err(
            f,
            poff,
            "E002",
            format!("bad path template `{path}`: {e}"),
            None,
        ),
        Ok(names) => {
            for n in &names {
                if !ep.params.contains_key(n) {
                    cx.err(
                        f,
                        poff,
                        "E003",
                        format!("path parameter `{{{n}}}` has no type in `params`"),
                        Some(format!(
                            "add `params = {{ {n} = \"string\" }}` (or its real type)"
                        )),
                    );
                }
            }
            for k in ep.params.keys() {
                if !names.contains(k) {
                    cx.err(
                        f,
                        off,
                        "E003",
                        format!("`params.{k}` is not a parameter of `{path}`"),
                        did_you_mean(k, names.iter().map(String::as_str)),
                    );
                }
            }
        }
    }
}

/// Parameters that look their values up in a `[data]` table name an array of tables.
fn check_lookups(cx: &mut Ctx, f: usize, ep: &Endpoint) {
    let raw = cx.raw;
    let eid = ep.id.get_ref();
    let off = ep.id.span().start;
    for (pname, p) in &ep.params {
        if let Some(n) = p.spec().names {
            let ok = match (&n.collection, &n.data, &n.rows) {
                (Some(c), None, None) => cx.collections.contains(c.as_str()),
                (None, Some(d), Some(r)) => raw
                    .data
                    .iter()
                    .find(|(_, _, k, _)| k == d)
                    .and_then(|(_, _, _, v)| v.get(r))
                    .is_some_and(|v| v.is_array()),
                _ => false,
            };
            if !ok || n.match_fields.is_empty() {
                cx.err(
                    f,
                    off,
                    "R016",
                    format!(
                        "parameter `{pname}` of endpoint `{eid}` names records of no known collection or `[data]` array, or matches no field"
                    ),
                    Some("give `collection`, or `data` and `rows`, and at least one `match` field".into()),
                );
            }
        }
        if let Some(l) = p.spec().lookup {
            let rows = raw
                .data
                .iter()
                .find(|(_, _, k, _)| *k == l.data)
                .and_then(|(_, _, _, v)| v.get(&l.rows))
                .and_then(|v| v.as_array());
            if rows.is_none() {
                cx.err(
                    f,
                    off,
                    "R016",
                    format!(
                        "parameter `{pname}` of endpoint `{eid}` looks up `[data.{}].{}`, which is not an array of tables",
                        l.data, l.rows
                    ),
                    None,
                );
            }
        }
    }
}

/// A settings tree names a `[data]` table, and its `{param}` keys and setting-path
/// parameter are parameters of the endpoint.
fn check_settings(cx: &mut Ctx, f: usize, ep: &Endpoint) {
    let Some(t) = &ep.settings else { return };
    let eid = ep.id.get_ref();
    let off = ep.id.span().start;
    let mut wrong = Vec::new();
    if !cx.raw.data.iter().any(|(_, _, k, _)| *k == t.data) {
        wrong.push(format!("names `[data.{}]`, which does not exist", t.data));
    }
    let params =
        t.at.split('.')
            .filter_map(|k| k.strip_prefix('{')?.strip_suffix('}'))
            .chain(t.path.as_deref());
    for p in params {
        if !ep.params.contains_key(p) {
            wrong.push(format!("uses `{p}`, which is not a parameter of the path"));
        }
    }
    for w in wrong {
        cx.err(
            f,
            off,
            "R016",
            format!("the settings tree of endpoint `{eid}` {w}"),
            None,
        );
    }
}

/// Methods listed as unsupported are method tokens, are not also supported, and carry
/// their source.
fn check_unsupported(cx: &mut Ctx, f: usize, ep: &Endpoint) {
    let eid = ep.id.get_ref();
    let off = ep.id.span().start;
    for m in &ep.unsupported {
        if !is_method(m) {
            cx.err(
                f,
                off,
                "E004",
                format!("`{m}` in `unsupported` is not an upper-case HTTP method"),
                None,
            );
        }
        if ep.op.iter().any(|o| o.method.get_ref() == m) {
            cx.err(
                f,
                off,
                "E006",
                format!("endpoint `{eid}` both supports and lists as unsupported `{m}`"),
                Some(
                    "keep the reading you chose and record the conflict as a `[[decision]]`".into(),
                ),
            );
        }
    }
    if !ep.unsupported.is_empty() && ep.unsupported_source.is_none() {
        cx.err(
            f,
            off,
            "P001",
            format!("endpoint `{eid}` lists `unsupported` methods without `unsupported_source`"),
            None,
        );
    }
}

fn check_op(cx: &mut Ctx, f: usize, eid: &str, op: &Operation, methods: &mut HashSet<String>) {
    let m = op.method.get_ref();
    let off = op.method.span().start;
    let what = format!("{m} `{eid}`");
    check_method(cx, f, eid, op, methods);
    check_callers(cx, f, eid, op);
    if let Some(s) = &op.success {
        cx.outcome(f, s);
    }
    for a in &op.accept {
        cx.outcome(f, a);
    }
    if let Some(fb) = &op.forbidden {
        cx.cell(f, off, fb, &format!("`forbidden` of {m} `{eid}`"));
    }
    if let Some(nf) = &op.not_found {
        cx.cell(f, off, nf, &format!("`not_found` of {m} `{eid}`"));
    }
    if let Some(p) = &op.pagination {
        cx.refer(f, p, "pagination", "R003");
    }
    for c in &op.codes {
        cx.refer(f, c, "code", "R004");
    }
    if let Some(j) = &op.job {
        cx.refer(f, j, "job", "R008");
    }
    if let Some(d) = &op.decision {
        cx.refer(f, d, "decision", "R009");
    }
    if let Some(req) = &op.request {
        check_request(cx, f, off, &what, req);
    }
    if let Some(resp) = &op.response {
        check_response(cx, f, off, &what, resp);
    }
    for (name, p) in &op.query {
        let spec = p.spec();
        if spec.ty == FieldType::Enum && spec.enum_values.is_empty() {
            cx.err(
                f,
                off,
                "F001",
                format!("query parameter `{name}` of {m} `{eid}` is an enum without values"),
                None,
            );
        }
        for o in [&spec.missing, &spec.invalid].into_iter().flatten() {
            cx.outcome_at(f, off, o);
        }
    }
    cx.provenance(f, off, &op.provenance, &what);
}

/// The method is a token, is declared once per endpoint, and is one the matrix tests.
fn check_method(cx: &mut Ctx, f: usize, eid: &str, op: &Operation, methods: &mut HashSet<String>) {
    let m = op.method.get_ref();
    let off = op.method.span().start;
    if !is_method(m) {
        cx.err(
            f,
            off,
            "E004",
            format!("`{m}` is not an upper-case HTTP method token"),
            None,
        );
    }
    if !methods.insert(m.clone()) {
        cx.err(
            f,
            off,
            "D005",
            format!("endpoint `{eid}` declares `{m}` twice"),
            None,
        );
    }
    if !cx.methods.is_empty() && !cx.methods.contains(m) {
        cx.err(
            f,
            off,
            "E005",
            format!("method `{m}` of `{eid}` is not in `[matrix].methods`, so its matrix cells would never be tested"),
            Some(format!("add `{m}` to `[matrix].methods`")),
        );
    }
}

/// Who may call the operation: public, a lowest role, or a list of roles (exactly one).
fn check_callers(cx: &mut Ctx, f: usize, eid: &str, op: &Operation) {
    let m = op.method.get_ref();
    let off = op.method.span().start;
    match (&op.min_role, op.roles.is_empty()) {
        _ if op.public => {
            if op.min_role.is_some() || !op.roles.is_empty() {
                cx.err(
                    f,
                    off,
                    "E007",
                    format!("{m} `{eid}` is `public` and also names roles"),
                    Some("a public operation needs no credentials; drop `min_role`/`roles`".into()),
                );
            }
        }
        (Some(r), true) => cx.refer(f, r, "role", "R001"),
        (None, false) => {
            for r in &op.roles {
                cx.refer(f, r, "role", "R001");
            }
        }
        (Some(_), false) => cx.err(
            f,
            off,
            "E007",
            format!("{m} `{eid}` sets both `min_role` and `roles`"),
            Some("keep one".into()),
        ),
        (None, true) => cx.err(
            f,
            off,
            "E007",
            format!("{m} `{eid}` says nobody may call it: set `min_role` or `roles`"),
            None,
        ),
    }
}

/// The request body: its schema and reject outcome, and the settings that need others.
/// `what` names the operation, as in "GET `users`".
fn check_request(cx: &mut Ctx, f: usize, off: usize, what: &str, req: &Request) {
    if let Some(s) = &req.schema {
        cx.refer(f, s, "schema", "R005");
    }
    if let Some(r) = &req.reject {
        cx.outcome(f, r);
    }
    if req.content_types.is_empty() && !req.empty {
        cx.err(f, off, "E008", format!("{what}: `request.content_types` is empty; use `empty = true` for a body-less request"), None);
    }
    if req.completeness.is_some() && req.schema.is_none() {
        cx.err(
            f,
            off,
            "E009",
            format!("{what}: `completeness` needs a `request.schema` to count fields against"),
            None,
        );
    }
    if req
        .content_types
        .iter()
        .any(|c| c.starts_with("multipart/"))
        && req.file_field.is_none()
    {
        cx.err(
            f,
            off,
            "E010",
            format!("{what}: a multipart request needs `file_field`"),
            None,
        );
    }
}

/// The response: its schema and envelope, and that a fixed JSON body parses.
fn check_response(cx: &mut Ctx, f: usize, off: usize, what: &str, resp: &Response) {
    if let Some(s) = &resp.schema {
        cx.refer(f, s, "schema", "R005");
    }
    if let Some(e) = &resp.envelope {
        cx.refer(f, e, "envelope", "R002");
    }
    if let Some(b) = &resp.body {
        let ct = resp.content_types.first().map(String::as_str).unwrap_or("");
        if ct.contains("json") && serde_json::from_str::<serde_json::Value>(b).is_err() {
            cx.err(
                f,
                off,
                "E011",
                format!("{what}: `response.body` is served as JSON but does not parse as JSON"),
                None,
            );
        }
    }
}
