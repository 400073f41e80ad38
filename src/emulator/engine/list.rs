//! Reading a table: the rows a list or query returns (scope, field filters, the vendor's
//! filter), cut to the requested page or cursor window, and rendered as one record or a
//! list in the representation negotiated.

use axum::body::Body;
use axum::http::Response;
use serde_json::{Map, Value};

use super::ctx::{empty_answer, invalid_paging, Ctx};
use crate::codec;
use crate::emulator::faults::FaultId;
use crate::emulator::paging::{self, PageKind};
use crate::emulator::render::{self, Fmt};
use crate::emulator::store::{scalar_text, Fields, Key, Row, Rows};
use crate::spec::model::{BodyFormat, Pagination, PaginationStyle, Schema};

/// Rows of the table visible under this request's scope parameter: those whose scope
/// field has the requested value, and those without one (the schema need not carry the
/// scope; such rows belong to every scope).
fn scoped(ctx: &Ctx, collection: &str, rows: &Rows) -> Option<Vec<Row>> {
    let c = ctx.spec().collection(collection)?;
    let sp = c.scope_param.as_ref()?;
    let want = ctx.param(sp).or_else(|| ctx.query(sp))?;
    Some(
        rows.values()
            .filter(|r| match r.field(sp) {
                None => true,
                Some(v) => scalar_text(v).is_some_and(|v| v == want),
            })
            .cloned()
            .collect(),
    )
}

/// Items after filtering by query parameters that name schema fields.
pub(super) fn list(ctx: &Ctx, collection: &str, fmt: Option<(Fmt, String)>) -> Response<Body> {
    let table = &ctx.api.tables[collection];
    let schema = ctx
        .response_schema()
        .or_else(|| ctx.api.collection_schema(collection));
    let pagination = ctx
        .op
        .pagination
        .as_ref()
        .and_then(|p| ctx.spec().pagination(p.get_ref()));
    let pag_params: Vec<&String> = pagination
        .map(|p| p.params.values().collect())
        .unwrap_or_default();
    let filters: Vec<(String, String)> = ctx
        .query
        .iter()
        .filter(|(k, _)| !pag_params.contains(&k))
        .filter(|(k, _)| {
            ctx.api
                .collection_schema(collection)
                .is_some_and(|s| s.field.iter().any(|f| f.name.get_ref() == k))
        })
        .cloned()
        .collect();
    let scoped_rows = scoped(ctx, collection, &table.snapshot());
    let path_filter = ctx.ep.params.values().any(|p| p.spec().filter.is_some())
        || ctx.op.query.values().any(|p| p.spec().filter.is_some());
    let sort = pagination.and_then(|p| sort_order(ctx, p, schema));
    let filtered = !filters.is_empty()
        || sort.is_some()
        || path_filter
        || scoped_rows.is_some()
        || ctx.ep.owned.is_some()
        || ctx.api.vendor.has_filter(ctx);
    if pagination.is_some_and(|p| p.style == PaginationStyle::Cursor) && !filtered {
        return cursor_page(ctx, collection, pagination.expect("checked"), schema, fmt);
    }
    let mut rows: Vec<Row> = match scoped_rows {
        Some(r) => r,
        None => table.snapshot().values().cloned().collect(),
    };
    let _ = super::owned::keep(ctx, collection, &mut rows);
    // Path parameters that select records (`/registrations/ip/{ip}`).
    for (name, value) in ctx
        .params
        .iter()
        .filter(|_| !ctx.fault(FaultId::PathFilterIgnored))
    {
        if let Some(f) = ctx.ep.params.get(name).and_then(|p| p.spec().filter) {
            // A parameter that names a record filters by what that record stands for.
            let value = match ctx.ep.params.get(name).and_then(|p| p.spec().names) {
                Some(n) => super::names::resolve(ctx, &n, value).unwrap_or_else(|| value.clone()),
                None => value.clone(),
            };
            rows.retain(|r| f.holds(r.field(&f.field).and_then(scalar_text).as_deref(), &value));
        }
    }
    // Query parameters that select records (a search term; field `*`: any field).
    for (name, value) in &ctx.query {
        if let Some(f) = ctx.op.query.get(name).and_then(|p| p.spec().filter) {
            rows.retain(|r| match f.field.as_str() {
                "*" => r
                    .fields()
                    .any(|(_, x)| f.holds(scalar_text(x).as_deref(), value)),
                field => f.holds(r.field(field).and_then(scalar_text).as_deref(), value),
            });
        }
    }
    if !filters.is_empty() {
        rows.retain(|r| {
            filters.iter().all(|(k, v)| {
                r.field(k)
                    .and_then(scalar_text)
                    .is_some_and(|x| x.trim() == v.trim())
            })
        });
    }
    if let Some(f) = ctx.api.vendor.row_filter(ctx) {
        match f {
            Ok(pred) => rows.retain(|r| pred(r)),
            Err(msg) => return ctx.reject(&msg),
        }
    }
    if let Some((field, descending)) = sort {
        rows.sort_by(|a, b| {
            let o = sort_cmp(
                a.field(&field).and_then(scalar_text).as_deref(),
                b.field(&field).and_then(scalar_text).as_deref(),
            );
            if descending {
                o.reverse()
            } else {
                o
            }
        });
    }
    if ctx.fault(FaultId::ListReversed) {
        rows.reverse();
    }
    let mut meta = Map::new();
    super::owned::caller_fields(ctx, &mut meta);
    if let Some(p) = pagination {
        match page_slice(ctx, p, &mut rows, &mut meta) {
            Ok(()) => {}
            Err(r) => return r,
        }
    }
    if rows.is_empty() {
        if let Some(r) = empty_answer(ctx, pagination) {
            return r;
        }
    }
    render_many(ctx, rows, schema, Some(meta).filter(|m| !m.is_empty()), fmt)
}

/// The field and direction a list is sorted by: the pagination's `sort` parameter (else its
/// `sort_default` when only the `order` parameter is given), read through `sort_fields`;
/// `None` when the request asks for no order.
fn sort_order(ctx: &Ctx, p: &Pagination, schema: Option<&Schema>) -> Option<(String, bool)> {
    let by = p.params.get("sort").and_then(|n| ctx.query(n));
    let order = p.params.get("order").and_then(|n| ctx.query(n));
    let by = match (by, order) {
        (Some(b), _) => b.to_string(),
        (None, Some(_)) => p.sort_default.clone()?,
        (None, None) => return None,
    };
    let has = |f: &String| schema.is_none_or(|s| s.field.iter().any(|x| x.name.get_ref() == f));
    let field = match p.sort_fields.get(&by) {
        Some(fields) => fields.iter().find(|f| has(f))?.clone(),
        None => by,
    };
    let descending = order.is_some_and(|o| p.sort_descending.iter().any(|d| d == o));
    Some((field, descending))
}

/// Numbers compare as numbers, other text byte by byte; a missing value first.
fn sort_cmp(a: Option<&str>, b: Option<&str>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(a), Some(b)) => match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
            _ => a.cmp(b),
        },
        (a, b) => a.is_some().cmp(&b.is_some()),
    }
}

/// Page, rows and offset styles: cut `rows` down to the requested window.
fn page_slice(
    ctx: &Ctx,
    p: &Pagination,
    rows: &mut Vec<Row>,
    meta: &mut Map<String, Value>,
) -> Result<(), Response<Body>> {
    let total = rows.len();
    let first = p.first_index.unwrap_or(0) as usize;
    let req =
        paging::parse(p, &ctx.query, PageKind::Window).map_err(|e| invalid_paging(ctx, p, &e.0))?;
    let (offset, size) = match p.style {
        PaginationStyle::Page => {
            let size = req.effective_limit(p, false);
            let page = req.page.map_or(0, |n| n - first);
            match size {
                Some(s) => (page.saturating_mul(s), Some(s)),
                None => (0, None),
            }
        }
        PaginationStyle::Rows => {
            let start = req.start.unwrap_or(first);
            let off = start.saturating_sub(first);
            (off, req.end.map(|e| e.saturating_sub(start)))
        }
        PaginationStyle::Offset | PaginationStyle::Cursor => {
            let start = req.start.unwrap_or(first);
            (start.saturating_sub(first), req.effective_limit(p, false))
        }
    };
    let size = size.map(|s| p.max_limit.map_or(s, |m| s.min(m as usize)));
    let size = if ctx.fault(FaultId::LimitIgnored) {
        size.map(|_| 1000)
    } else {
        size
    };
    let end = size.map_or(total, |s| offset.saturating_add(s).min(total));
    let window: Vec<_> = if offset >= total {
        vec![]
    } else {
        rows[offset..end].to_vec()
    };
    *rows = window;
    let page_size = size.unwrap_or(total.max(1));
    for (k, path) in &p.fields {
        let v = match k.as_str() {
            "total" => Value::from(total),
            "page" => Value::from((offset / page_size.max(1)).saturating_add(first)),
            "pages" => Value::from(total.div_ceil(page_size.max(1))),
            "size" if p.style == PaginationStyle::Page => Value::from(page_size),
            "size" => Value::from(total),
            "count" => Value::from(rows.len()),
            "start" => Value::from(offset.saturating_add(first)),
            "end" => Value::from(
                offset
                    .saturating_add(rows.len())
                    .saturating_sub(1)
                    .saturating_add(first),
            ),
            _ => continue,
        };
        render::set_path(meta, path, v);
    }
    Ok(())
}

/// A cursor page straight from the ordered table: cost grows with the page, not the table.
fn cursor_page(
    ctx: &Ctx,
    collection: &str,
    p: &Pagination,
    schema: Option<&Schema>,
    fmt: Option<(Fmt, String)>,
) -> Response<Body> {
    let table = &ctx.api.tables[collection];
    let sentinel = p.sentinel.unwrap_or(-1);
    let req = match paging::parse(p, &ctx.query, PageKind::Cursor) {
        Ok(r) => r,
        Err(e) => return invalid_paging(ctx, p, &e.0),
    };
    let after = req.after.map(Key::Int);
    let before = req.before.map(Key::Int);
    let limit = req.effective_limit(p, false).unwrap_or(usize::MAX);
    let limit = p.max_limit.map_or(limit, |m| limit.min(m as usize));
    let limit = if ctx.fault(FaultId::LimitIgnored) {
        1000
    } else {
        limit
    };
    let at_sentinel = |k: &Option<Key>| *k == Some(Key::Int(sentinel));
    let mut page = if at_sentinel(&after) || at_sentinel(&before) {
        table.page_after(Some(&Key::Int(i64::MAX)), 0)
    } else if let Some(b) = &before {
        table.page_before(b, limit)
    } else {
        let skip = after.is_some() && ctx.fault(FaultId::CursorSkipsItem);
        let mut pg = table.page_after(after.as_ref(), limit + usize::from(skip));
        if skip && !pg.items.is_empty() {
            pg.items.remove(0);
            pg.keys.remove(0);
            pg.more_before = true;
        }
        pg
    };
    if page.items.is_empty() {
        if let Some(r) = empty_answer(ctx, Some(p)) {
            return r;
        }
    }
    let end_mark = if ctx.fault(FaultId::MissingSentinel) {
        0
    } else {
        sentinel
    };
    // The cursor of each end: the key of the item there, or the sentinel when nothing lies
    // beyond it.
    let cursor = |more: bool, k: Option<&Key>| {
        let v = match (more, k) {
            (true, Some(k)) => k.to_value(),
            _ => Value::from(end_mark),
        };
        cursor_value(p, v)
    };
    let prev = cursor(page.more_before, page.keys.first());
    let next = cursor(page.more_after, page.keys.last());
    let mut meta = Map::new();
    for (k, path) in &p.fields {
        match k.as_str() {
            "prev" | "start" => render::set_path(&mut meta, path, prev.clone()),
            "next" | "end" => render::set_path(&mut meta, path, next.clone()),
            _ => {}
        }
    }
    let items = std::mem::take(&mut page.items);
    render_many(ctx, items, schema, Some(meta), fmt)
}

/// A cursor value as the pagination writes it: a number, or its text (`cursor_strings`).
pub(super) fn cursor_value(p: &Pagination, v: Value) -> Value {
    match v {
        Value::Number(n) if p.cursor_strings => Value::String(n.to_string()),
        v => v,
    }
}

pub(super) fn render_one(ctx: &Ctx, row: &Value, fmt: Option<(Fmt, String)>) -> Response<Body> {
    let resp = ctx.op.response.as_ref();
    let schema = ctx.response_schema();
    let (f, ct) = fmt.unwrap_or((Fmt::Json, "application/json".into()));
    let status = ctx.success().status;
    let wrapper = resp.and_then(|r| r.wrapper.clone());
    // Fields shown only when the query asks for them (`when_query`).
    let mut row = std::borrow::Cow::Borrowed(row);
    for fd in schema.iter().flat_map(|s| &s.field) {
        let asked = fd
            .when_query
            .iter()
            .all(|(k, v)| ctx.query(k).is_some_and(|q| q.trim() == v));
        if !asked {
            if let Some(o) = row.to_mut().as_object_mut() {
                o.remove(fd.name.get_ref());
            }
        }
    }
    let row = row.as_ref();
    let body = match f {
        Fmt::Xml => {
            let root = wrapper.unwrap_or_else(|| render::item_name(schema));
            let mut row = row.clone();
            render::xml_lists(ctx.spec(), schema, &mut row);
            codec::to_xml(&root, &row).into_bytes()
        }
        Fmt::Csv => codec::to_csv(
            &render::csv_columns(schema, Some(row)),
            std::slice::from_ref(row),
        )
        .into_bytes(),
        _ => {
            let v = match wrapper {
                Some(w) => serde_json::json!({ w: row }),
                None => row.clone(),
            };
            serde_json::to_vec(&v).unwrap_or_default()
        }
    };
    render::raw(status, Some(&ct), body)
}

/// The text standing for the rows in the shell of a streamed list: split out of the
/// rendered shell, the rows take its place.
const SENTINEL: &str = "dialtone-stream-rows-2f9c41d7e8";

/// What the body of a list is written as.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Json,
    Xml,
    Csv,
}

/// How a list shows each record: only the summary schema's fields, XML lists as elements.
/// Owned, so a streamed body can keep it after the request.
struct Project {
    summary: Option<Vec<String>>,
    xml: Option<(render::SchemaSet, Option<Schema>)>,
}

impl Project {
    fn value(&self, r: &Row) -> Value {
        let mut v = r.to_value();
        if let (Some(s), Some(o)) = (&self.summary, v.as_object_mut()) {
            o.retain(|k, _| s.iter().any(|f| f == k));
        }
        if let Some((set, schema)) = &self.xml {
            render::xml_lists(set, schema.as_ref(), &mut v);
        }
        v
    }
}

fn render_many(
    ctx: &Ctx,
    rows: Vec<Row>,
    schema: Option<&Schema>,
    meta: Option<Map<String, Value>>,
    fmt: Option<(Fmt, String)>,
) -> Response<Body> {
    let (f, ct) = fmt.unwrap_or((Fmt::Json, "application/json".into()));
    // A list that documents a summary schema (alarm id, description, url) shows only its
    // fields of each record.
    let own = ctx
        .ep
        .collection
        .as_ref()
        .and_then(|c| ctx.spec().collection(c.get_ref()))
        .map(|c| c.schema.get_ref());
    // So does an `owned` list: its records hold their owner's data beyond the summary.
    let summary = schema.filter(|s| {
        !s.field.is_empty() && (Some(s.name.get_ref()) != own || ctx.ep.owned.is_some())
    });
    let project = |r: &Row| {
        let mut v = r.to_value();
        if let (Some(s), Some(o)) = (summary, v.as_object_mut()) {
            o.retain(|k, _| s.field.iter().any(|f| f.name.get_ref() == k));
        }
        if f == Fmt::Xml {
            render::xml_lists(ctx.spec(), schema, &mut v);
        }
        v
    };
    if rows.len() > ctx.emu.stream_rows && !super::spoil::active(ctx) {
        let owned = Project {
            summary: summary.map(|s| s.field.iter().map(|f| f.name.get_ref().clone()).collect()),
            xml: (f == Fmt::Xml).then(|| {
                let set = schema
                    .map(|s| render::SchemaSet::reachable(ctx.spec(), s))
                    .unwrap_or_default();
                (set, schema.cloned())
            }),
        };
        match streamed_many(ctx, rows, schema, meta, (f, ct), owned) {
            Ok(r) => return r,
            // The shell did not split cleanly: build the answer whole.
            Err((rows, meta, fmt)) => {
                let array = || Value::Array(rows.iter().map(project).collect());
                let (status, ct, body) = many_body(ctx, schema, meta, fmt, &array);
                return render::raw(status, Some(&ct), body);
            }
        }
    }
    let array = || Value::Array(rows.iter().map(project).collect());
    let (status, ct, body) = many_body(ctx, schema, meta, (f, ct), &array);
    render::raw(status, Some(&ct), body)
}

/// What a list's body is written as: its data envelope's format, else the representation.
fn kind(ctx: &Ctx, f: Fmt) -> Kind {
    match data_envelope(ctx) {
        Some(env) if env.format == BodyFormat::Json => Kind::Json,
        Some(_) => Kind::Xml,
        None => match f {
            Fmt::Csv => Kind::Csv,
            Fmt::Xml => Kind::Xml,
            _ => Kind::Json,
        },
    }
}

/// The operation's envelope when it carries the rows under a data path (result code + rows).
fn data_envelope<'a>(ctx: &'a Ctx) -> Option<&'a crate::spec::model::Envelope> {
    ctx.op
        .response
        .as_ref()
        .and_then(|r| r.envelope.as_ref())
        .and_then(|n| ctx.spec().envelope(n.get_ref()))
        .filter(|env| {
            env.data_path.is_some() && matches!(env.format, BodyFormat::Json | BodyFormat::Xml)
        })
}

/// A list's whole answer: status, content type and body, with `array` the projected rows.
fn many_body(
    ctx: &Ctx,
    schema: Option<&Schema>,
    meta: Option<Map<String, Value>>,
    (f, ct): (Fmt, String),
    array: &dyn Fn() -> Value,
) -> (u16, String, Vec<u8>) {
    let resp = ctx.op.response.as_ref();
    let success = ctx.success();
    let item = render::item_name(schema);
    let items_path = ctx
        .op
        .pagination
        .as_ref()
        .and_then(|p| ctx.spec().pagination(p.get_ref()))
        .and_then(|p| p.fields.get("items").cloned());
    let wrapper = resp.and_then(|r| r.wrapper.clone());
    // Envelope with a data path (result code + rows).
    if let Some(env) = data_envelope(ctx) {
        let code = success.code.as_deref().and_then(|c| ctx.spec().code(c));
        let cv = code.map(|c| c.value.clone().unwrap_or_else(|| c.id.get_ref().clone()));
        let msg = code
            .and_then(|c| c.message.clone())
            .unwrap_or_else(|| "OK".into());
        let body = render::envelope_body(env, cv.as_deref(), &msg, success.status, Some(array()));
        return (success.status, env.content_type.clone(), body);
    }
    let body = match f {
        Fmt::Csv => {
            let values = match array() {
                Value::Array(a) => a,
                _ => Vec::new(),
            };
            codec::to_csv(&render::csv_columns(schema, values.first()), &values).into_bytes()
        }
        Fmt::Xml => {
            let mut obj = meta.unwrap_or_default();
            let list = serde_json::json!({ item.clone(): array() });
            match (&items_path, &wrapper) {
                (Some(p), _) => {
                    render::set_path(&mut obj, p, list);
                    codec::to_xml(
                        wrapper.as_deref().unwrap_or("response"),
                        &Value::Object(obj),
                    )
                }
                (None, Some(w)) if !obj.is_empty() => {
                    obj.insert(w.clone(), list);
                    codec::to_xml(&item, &Value::Object(obj))
                }
                (None, Some(w)) => codec::to_xml(w, &list),
                (None, None) if !obj.is_empty() => {
                    obj.insert(item.clone(), array());
                    codec::to_xml(&format!("{item}s"), &Value::Object(obj))
                }
                (None, None) => codec::to_xml(&format!("{item}s"), &list),
            }
            .into_bytes()
        }
        _ => {
            let mut obj = meta.unwrap_or_default();
            let v = match (&items_path, &wrapper) {
                (Some(p), _) => {
                    render::set_path(&mut obj, p, array());
                    Value::Object(obj)
                }
                (None, Some(w)) => {
                    obj.insert(w.clone(), array());
                    Value::Object(obj)
                }
                (None, None) if obj.is_empty() => array(),
                (None, None) => {
                    obj.insert("items".into(), array());
                    Value::Object(obj)
                }
            };
            serde_json::to_vec(&v).unwrap_or_default()
        }
    };
    (success.status, ct, body)
}

/// What a streamed list gives back when its shell does not split at the sentinel.
type Unsplit = (Vec<Row>, Option<Map<String, Value>>, (Fmt, String));

/// A list answer streamed in chunks: the shell ([`many_body`] with one sentinel row) split
/// at the sentinel, and between its halves each row written as the whole body would write
/// it, separators included. Byte for byte the body [`many_body`] builds.
fn streamed_many(
    ctx: &Ctx,
    rows: Vec<Row>,
    schema: Option<&Schema>,
    meta: Option<Map<String, Value>>,
    (f, ct): (Fmt, String),
    project: Project,
) -> Result<Response<Body>, Unsplit> {
    match kind(ctx, f) {
        Kind::Csv => {
            let first = rows.first().map(|r| project.value(r));
            let columns = render::csv_columns(schema, first.as_ref());
            let header = codec::to_csv(&columns, &[]).into_bytes();
            let skip = header.len();
            let render: render::RenderRows<Row> = Box::new(move |chunk, out| {
                let values: Vec<Value> = chunk.iter().map(|r| project.value(r)).collect();
                out.extend_from_slice(&codec::to_csv(&columns, &values).as_bytes()[skip..]);
            });
            let status = ctx.success().status;
            let body = render::Streamed::new(header, rows, render, Vec::new());
            Ok(render::streamed(status, Some(&ct), body))
        }
        kind => {
            let one = || Value::Array(vec![Value::String(SENTINEL.into())]);
            let (status, ct2, shell) = many_body(ctx, schema, meta.clone(), (f, ct.clone()), &one);
            let Some((prefix, suffix, element)) = split_shell(kind, &shell) else {
                return Err((rows, meta, (f, ct)));
            };
            let render: render::RenderRows<Row> = match (kind, element) {
                (Kind::Xml, Some(name)) => {
                    let decl = codec::to_xml("x", &Value::Null).len() - "<x/>".len();
                    Box::new(move |chunk, out| {
                        for r in chunk {
                            let doc = codec::to_xml(&name, &project.value(r));
                            out.extend_from_slice(&doc.as_bytes()[decl..]);
                        }
                    })
                }
                _ => {
                    // JSON: the first row follows `[`; every other one a comma.
                    let mut first = true;
                    Box::new(move |chunk, out| {
                        for r in chunk {
                            if !first {
                                out.push(b',');
                            }
                            first = false;
                            let _ = serde_json::to_writer(&mut *out, &project.value(r));
                        }
                    })
                }
            };
            let body = render::Streamed::new(prefix, rows, render, suffix);
            Ok(render::streamed(status, Some(&ct2), body))
        }
    }
}

/// A shell's bytes before and after its one sentinel row, and for XML the element name
/// each row is written under. `None` when the sentinel is not found exactly once where a
/// row would be.
fn split_shell(kind: Kind, shell: &[u8]) -> Option<(Vec<u8>, Vec<u8>, Option<String>)> {
    let find = |needle: &[u8]| -> Option<usize> {
        let mut at = shell
            .windows(needle.len())
            .enumerate()
            .filter(|(_, w)| *w == needle);
        let first = at.next()?.0;
        at.next().is_none().then_some(first)
    };
    match kind {
        Kind::Json => {
            let token = format!("\"{SENTINEL}\"");
            let at = find(token.as_bytes())?;
            let end = at + token.len();
            (shell.get(at.checked_sub(1)?) == Some(&b'[') && shell.get(end) == Some(&b']'))
                .then(|| (shell[..at].to_vec(), shell[end..].to_vec(), None))
        }
        Kind::Xml => {
            let at = find(SENTINEL.as_bytes())?;
            let before = std::str::from_utf8(&shell[..at]).ok()?;
            let open = before.rfind('<')?;
            let name = before[open..].strip_prefix('<')?.strip_suffix('>')?;
            if name.is_empty() || name.contains(['<', '>', '/', ' ']) {
                return None;
            }
            let close = format!("</{name}>");
            let end = at + SENTINEL.len();
            shell[end..].starts_with(close.as_bytes()).then(|| {
                (
                    shell[..open].to_vec(),
                    shell[end + close.len()..].to_vec(),
                    Some(name.to_string()),
                )
            })
        }
        Kind::Csv => None,
    }
}
