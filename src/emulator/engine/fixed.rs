//! Answers of operations without a table: the vendor module's answer, a documented body
//! or example (converted to the representation negotiated, and cut to a cursor page when
//! the operation documents one), a record built from the schema's examples, or a
//! placeholder in the negotiated type.

use axum::body::Body;
use axum::http::Response;
use serde_json::Value;

use super::ctx::{empty_answer, invalid_paging, Ctx};
use crate::codec;
use crate::emulator::faults::FaultId;
use crate::emulator::paging::{self, PageKind};
use crate::emulator::render::{self, Fmt};
use crate::spec::model::{Pagination, PaginationStyle};

/// Keep, of a documented body, the records the request's selecting path parameters
/// (`filter`) select: `None` when there is no such parameter, else whether any is left.
fn select_documented(ctx: &Ctx, v: &mut Value) -> Option<bool> {
    let filters: Vec<(crate::spec::model::ParamFilter, String)> = ctx
        .params
        .iter()
        .filter_map(|(n, val)| Some((ctx.ep.params.get(n)?.spec().filter?, val.clone())))
        .collect();
    if filters.is_empty() {
        return None;
    }
    let keep = |r: &Value| {
        filters.iter().all(|(f, val)| {
            let field = r.get(&f.field).and_then(crate::spec::check::scalar_text);
            f.holds(field.as_deref(), val)
        })
    };
    let wrapper = ctx.op.response.as_ref().and_then(|r| r.wrapper.clone());
    let list = match (v, wrapper) {
        (Value::Array(a), _) => Some(a),
        (Value::Object(o), Some(w)) => o.get_mut(&w).and_then(Value::as_array_mut),
        (one @ Value::Object(_), None) => return Some(keep(one)),
        _ => None,
    };
    let list = list?;
    list.retain(|r| keep(r));
    Some(!list.is_empty())
}

/// Answer of an operation without a table: its documented body, or its success outcome.
pub(super) fn static_answer(ctx: &Ctx, fmt: Option<(Fmt, String)>) -> Response<Body> {
    if let Some(r) = ctx.api.vendor.static_answer(ctx) {
        return r;
    }
    let success = ctx.success();
    let resp = ctx.op.response.as_ref();
    if let Some(r) = resp {
        // A result envelope (message or code) with nothing else documented: the outcome.
        let result_envelope = r
            .envelope
            .as_ref()
            .and_then(|e| ctx.spec().envelope(e.get_ref()))
            .is_some_and(|e| e.message_path.is_some() || e.code_path.is_some());
        if result_envelope && r.body.is_none() && r.example.is_none() {
            return ctx.outcome(&success, None);
        }
        if let (Some(body), Some((f, ct))) = (r.body.as_ref().or(r.example.as_ref()), fmt.clone()) {
            let body = stamped(ctx, rebased(ctx, body));
            return static_body(ctx, success.status, &body, f, &ct);
        }
        // No fixed body: one record built from the schema's examples, in the format asked.
        let schema = r
            .schema
            .as_ref()
            .and_then(|s| ctx.spec().schema(s.get_ref()));
        if let (Some(schema), Some((f @ (Fmt::Json | Fmt::Xml), ct))) = (schema, fmt.clone()) {
            let obj = Value::Object(crate::sample::object(ctx.spec(), schema));
            let item = render::item_name(Some(schema));
            let bytes = match (f, r.many, &r.wrapper) {
                (Fmt::Json, true, Some(w)) => serde_json::to_vec(&serde_json::json!({ w: [obj] })),
                (Fmt::Json, true, None) => serde_json::to_vec(&serde_json::json!([obj])),
                (Fmt::Json, false, _) => serde_json::to_vec(&obj),
                (_, true, w) => Ok(codec::to_xml(
                    w.as_deref().unwrap_or(&format!("{item}s")),
                    &serde_json::json!({ item: obj }),
                )
                .into_bytes()),
                (_, false, _) => Ok(codec::to_xml(&item, &obj).into_bytes()),
            }
            .unwrap_or_default();
            return render::raw(success.status, Some(&ct), bytes);
        }
        // Nothing documented to serve: a placeholder in the representation negotiated, so a
        // download is never answered in a type the resource does not produce.
        if let (None, None, Some((f, ct))) = (&r.body, &r.example, fmt) {
            if r.envelope.is_none() && success.status != 204 {
                let bytes: Vec<u8> = match f {
                    Fmt::Json => b"{}".to_vec(),
                    Fmt::Xml => b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><dialtone/>".to_vec(),
                    Fmt::Zip => {
                        codec::write_zip(&[("dialtone.txt".into(), b"dialtone\n".to_vec())])
                    }
                    _ => b"dialtone sample content\n".to_vec(),
                };
                return render::raw(success.status, Some(&ct), bytes);
            }
        }
    }
    ctx.outcome(&success, None)
}

/// A documented body whose links name the path's own records: the endpoint's path with its
/// parameters' example values (`/files/tls/2/`) becomes the path asked (`/files/tls/0/`).
fn rebased<'b>(ctx: &Ctx, body: &'b str) -> std::borrow::Cow<'b, str> {
    if ctx.params.is_empty() {
        return body.into();
    }
    let mut example = ctx.ep.path.get_ref().clone();
    let mut asked = example.clone();
    for (name, value) in &ctx.params {
        let Some(ex) = ctx.ep.params.get(name).and_then(|p| p.spec().example) else {
            return body.into();
        };
        let ex = match ex {
            toml::Value::String(s) => s,
            other => other.to_string(),
        };
        example = example.replace(&format!("{{{name}}}"), &ex);
        asked = asked.replace(&format!("{{{name}}}"), value);
    }
    if example == asked {
        return body.into();
    }
    body.replace(&format!("{example}/"), &format!("{asked}/"))
        .into()
}

/// A documented JSON body whose schema fields hold a collection's change time
/// (`changed_at`) gets that time once the collection has changed, as UTC RFC 3339.
fn stamped<'b>(ctx: &Ctx, body: std::borrow::Cow<'b, str>) -> std::borrow::Cow<'b, str> {
    let schema = ctx.response_schema();
    let times: Vec<(&str, u64)> = schema
        .iter()
        .flat_map(|s| &s.field)
        .filter_map(|f| {
            let t = ctx.api.tables.get(f.changed_at.as_deref()?)?.changed_at()?;
            Some((f.name.get_ref().as_str(), t))
        })
        .collect();
    if times.is_empty() {
        return body;
    }
    let Ok(Value::Object(mut o)) = serde_json::from_str::<Value>(&body) else {
        return body;
    };
    for (name, t) in times {
        o.insert(name.into(), Value::from(rfc3339(t)));
    }
    serde_json::to_string(&o).map_or(body, Into::into)
}

/// Unix milliseconds as `YYYY-MM-DDTHH:MM:SS.mmm+00:00`.
fn rfc3339(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

/// A fixed body, in the representation negotiated (a JSON body served as XML and the other
/// way round), and paged when the operation documents a cursor over its items.
fn static_body(ctx: &Ctx, status: u16, body: &str, f: Fmt, ct: &str) -> Response<Body> {
    let t = body.trim_start();
    let parsed: Option<(Option<String>, Value)> = if t.starts_with('{') || t.starts_with('[') {
        codec::from_json(body.as_bytes()).ok().map(|v| (None, v))
    } else if t.starts_with('<') {
        codec::from_xml(body.as_bytes())
            .ok()
            .map(|(root, v)| (Some(root), v))
    } else {
        None
    };
    let Some((root, mut v)) = parsed else {
        if f == Fmt::Zip && !body.starts_with("PK") {
            // A documented text served as an archive: one member, named after the
            // resource (the last segment of its path).
            let name = ctx
                .ep
                .path
                .get_ref()
                .rsplit('/')
                .next()
                .unwrap_or("content");
            let zip = codec::write_zip(&[(name.to_string(), body.as_bytes().to_vec())]);
            return render::raw(status, Some(ct), zip);
        }
        return render::raw(status, Some(ct), body.as_bytes().to_vec());
    };
    // A path parameter that selects records selects among the documented ones; selecting
    // none is "no such object" (an unknown setting path).
    let filtered = match select_documented(ctx, &mut v) {
        Some(true) => true,
        Some(false) => return ctx.not_found(),
        None => false,
    };
    let pagination = ctx
        .op
        .pagination
        .as_ref()
        .and_then(|p| ctx.spec().pagination(p.get_ref()))
        .filter(|p| p.style == PaginationStyle::Cursor);
    let mut paged = false;
    if let Some(p) = pagination {
        match static_page(ctx, p, &mut v) {
            Ok(true) => paged = true,
            Ok(false) => {}
            Err(r) => return r,
        }
    }
    let same = match f {
        Fmt::Json => root.is_none(),
        Fmt::Xml => root.is_some(),
        _ => true,
    };
    if same && !paged && !filtered {
        return render::raw(status, Some(ct), body.as_bytes().to_vec());
    }
    let resp = ctx.op.response.as_ref();
    let schema = ctx.response_schema();
    let bytes = match f {
        Fmt::Xml => {
            // A JSON list under its wrapper becomes `<wrapper><item/>…</wrapper>`.
            let wrapped = resp
                .and_then(|r| r.wrapper.as_ref().filter(|_| r.many))
                .filter(|w| v.get(w.as_str()).is_some_and(Value::is_array));
            match (root, wrapped) {
                (None, Some(w)) => {
                    let list = v.get(w.as_str()).cloned().unwrap_or_default();
                    codec::to_xml(w, &serde_json::json!({ render::item_name(schema): list }))
                }
                (root, _) => codec::to_xml(&root.unwrap_or_else(|| render::item_name(None)), &v),
            }
            .into_bytes()
        }
        _ => {
            // XML text read back as JSON takes the schema's types (`"false"` → `false`).
            if let (Some(schema), false) = (schema, resp.is_some_and(|r| r.many)) {
                if v.is_object() {
                    let _ = crate::spec::check::check_item(
                        ctx.spec(),
                        schema,
                        None,
                        &mut v,
                        true,
                        true,
                    );
                }
            }
            serde_json::to_vec(&v).unwrap_or_default()
        }
    };
    render::raw(status, Some(ct), bytes)
}

/// Cut the items of a fixed list body down to one cursor page. Cursors are 1-based item
/// positions. `Ok(false)` when the body has no item list at the documented place.
fn static_page(ctx: &Ctx, p: &Pagination, v: &mut Value) -> Result<bool, Response<Body>> {
    let Some(items_path) = p.fields.get("items") else {
        return Ok(false);
    };
    let Some(Value::Array(items)) = render::get_path(v, items_path).cloned() else {
        return Ok(false);
    };
    let sentinel = p.sentinel.unwrap_or(-1);
    let req =
        paging::parse(p, &ctx.query, PageKind::Cursor).map_err(|e| invalid_paging(ctx, p, &e.0))?;
    // Cursors naming an item field (`cursor_field`) become positions: after a value, the
    // items up to it are passed; before a value, the page ends at the last item below it.
    let key = |it: &Value| {
        let f = p.cursor_field.as_deref()?;
        crate::spec::check::scalar_text(it.get(f)?)?
            .parse::<i64>()
            .ok()
    };
    let below = |c: i64, strict: bool| {
        let n = items
            .iter()
            .take_while(|it| key(it).is_some_and(|k| k < c || (!strict && k == c)));
        i64::try_from(n.count()).unwrap_or(i64::MAX)
    };
    let by_field = p.cursor_field.is_some();
    let (after, before) = match by_field {
        true => (
            req.after
                .map(|a| if a == sentinel { a } else { below(a, false) }),
            req.before
                .map(|b| if b == sentinel { b } else { below(b, true) + 1 }),
        ),
        false => (req.after, req.before),
    };
    // A fixed list is cut by the limit as given: `max_limit` is not applied here.
    let limit = req.effective_limit(p, false).unwrap_or(usize::MAX);
    let limit = if ctx.fault(FaultId::LimitIgnored) {
        1000
    } else {
        limit
    };
    let n = items.len();
    // Positions (1-based) of the window.
    let (from, to) = if after == Some(sentinel) || before == Some(sentinel) {
        (n + 1, n)
    } else if let Some(b) = before {
        let end = (b.max(1) as usize - 1).min(n);
        (end.saturating_sub(limit) + 1, end)
    } else {
        let start = after.map_or(1, |a| a.max(0) as usize + 1);
        (start, (start + limit.min(n)).saturating_sub(1).min(n))
    };
    let window: Vec<Value> = if from > to || from > n {
        vec![]
    } else {
        items[from - 1..to].to_vec()
    };
    if window.is_empty() {
        if let Some(r) = empty_answer(ctx, Some(p)) {
            return Err(r);
        }
    }
    let end_mark = if ctx.fault(FaultId::MissingSentinel) {
        0
    } else {
        sentinel
    };
    let prev = if !window.is_empty() && from > 1 {
        Value::from(from as i64)
    } else {
        Value::from(end_mark)
    };
    let next = if !window.is_empty() && to < n {
        Value::from(to as i64)
    } else {
        Value::from(end_mark)
    };
    // Positions handed out as cursors name their item's field under `cursor_field`.
    let named = |v: Value| match (by_field, v.as_i64()) {
        (true, Some(i)) if i >= 1 => items
            .get(usize::try_from(i).unwrap_or(usize::MAX) - 1)
            .and_then(key)
            .map_or(v, Value::from),
        _ => v,
    };
    let (prev, next) = (named(prev), named(next));
    let (first_mark, last_mark) = (named(Value::from(1)), named(Value::from(n as i64)));
    let (prev, next) = (
        super::list::cursor_value(p, prev),
        super::list::cursor_value(p, next),
    );
    if let Value::Object(obj) = v {
        render::set_path(obj, items_path, Value::Array(window));
        for (k, path) in &p.fields {
            match k.as_str() {
                "prev" => render::set_path(obj, path, prev.clone()),
                "next" => render::set_path(obj, path, next.clone()),
                "start" if n > 0 => render::set_path(obj, path, first_mark.clone()),
                "end" if n > 0 => render::set_path(obj, path, last_mark.clone()),
                "start" | "end" => render::set_path(obj, path, Value::from(end_mark)),
                _ => {}
            }
        }
    }
    Ok(true)
}
