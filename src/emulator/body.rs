//! Request bodies: content-type check, parsing (JSON, XML, CSV, zip, multipart), and the
//! check of every item against the request schema before anything is applied.
//!
//! Items become [`Row`]s as they are checked. A many-row XML upload is streamed: each item
//! is checked and stored as soon as its element closes, so a million-row replace never
//! exists as one JSON tree.

#![allow(clippy::result_large_err)] // early answers travel as `Err(Response)`

use std::io::Read;
use std::ops::ControlFlow;

use axum::body::{Body, Bytes};
use axum::http::{header, Response};
use serde_json::Value;

use super::engine::ctx::{Ctx, Parsed};
use super::faults::FaultId;
use super::render::{self, Fmt};
use super::store::{Columns, Fields, Row};
use super::ZIP_MAX_TOTAL;
use crate::codec;
use crate::spec::check::{check_item, check_value, file_format_problem};
use crate::spec::model::*;
use crate::spec::PathFill;

fn media_type(ct: &str) -> String {
    ct.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The large-upload turn a request waits for before its body is read: one that declares a
/// body over [`LARGE_BODY`], or sends one of no declared length. Uploads waiting their turn
/// so hold a connection, not their bodies: four 64 MiB zips at once held 256 MiB more than
/// one. A request with no body, or a small declared one, never waits.
pub(super) fn large_turn(body: &Body) -> impl std::future::Future<Output = Option<LargeTurn>> {
    use axum::body::HttpBody as _;
    // Decided before the wait: the body is not `Sync`, so it is not borrowed across it.
    let large = !body.is_end_stream()
        && body
            .size_hint()
            .exact()
            .is_none_or(|n| n > LARGE_BODY as u64);
    async move {
        if !large {
            return None;
        }
        LARGE_UPLOADS.acquire().await.ok().map(LargeTurn)
    }
}

/// Parse a request's body. `turn` is the large-upload turn taken before it was read
/// ([`large_turn`]), held until the body is parsed.
pub(super) async fn parse_body(
    ctx: &Ctx<'_>,
    body: &Bytes,
    turn: Option<LargeTurn>,
) -> Result<Parsed, Response<Body>> {
    let Some(req) = &ctx.op.request else {
        return Ok(Parsed::Nothing);
    };
    if req.empty {
        return Ok(Parsed::Nothing);
    }
    let ct_header = ctx
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mt = match param_media_type(ctx, req) {
        Some(named) => named?,
        None => {
            let mt = media_type(ct_header);
            // `none` among the content types: the body may be left out altogether.
            if mt.is_empty() && body.is_empty() && req.content_types.iter().any(|c| c == "none") {
                return Ok(Parsed::Nothing);
            }
            if !req.content_types.iter().any(|c| media_type(c) == mt) {
                return Err(unsupported(ctx, req, &mt));
            }
            mt
        }
    };
    // Large uploads are parsed one at a time: each may take hundreds of MiB while it is
    // checked, and four at once would not fit. The turn was taken before the body was read.
    let _one_at_a_time = turn;
    let mut sink = Sink::new(ctx, req);
    let item = render::item_name(sink.schema);
    let bad = |e: codec::CodecError| -> Response<Body> {
        if ctx.fault(FaultId::MalformedXml500) && e.format == "xml"
            || ctx.fault(FaultId::MalformedJson500) && e.format == "json"
        {
            return render::raw(
                500,
                Some("text/html"),
                b"<h1>Internal Server Error</h1>".to_vec(),
            );
        }
        ctx.reject(&e.to_string())
    };
    // A structured body the request also takes labelled `text/plain` (sipXconfig's "PUT data
    // is plain text", decision `phone-groups-plain-text`) is that JSON document.
    let json_as_text = mt == "text/plain"
        && sink.schema.is_some()
        && req.content_types.iter().any(|c| c.ends_with("json"));
    let fmt = if json_as_text {
        Fmt::Json
    } else {
        Fmt::of_content_type(&mt)
    };
    match fmt {
        Fmt::Json => {
            if body.is_empty() && sink.schema.is_none() {
                return Ok(Parsed::Nothing);
            }
            let v = codec::from_json(body).map_err(bad)?;
            sink.extend(unwrap_items(ctx, req, &item, None, v)?)?;
        }
        Fmt::Xml => member_items(ctx, req, &item, "xml", body, &mut sink, &bad)?,
        Fmt::Csv => {
            header_fits(ctx, sink.schema, body)?;
            let rows = codec::from_csv(body).map_err(bad)?;
            sink.extend(rows.into_iter().map(Value::Object))?;
        }
        Fmt::Zip if !req.zip_members.is_empty() => {
            zip_items(ctx, req, &item, body, &mut sink, &bad)?
        }
        _ if mt.starts_with("multipart/") => {
            let parts = codec::parse_multipart(ct_header, body.clone())
                .await
                .map_err(bad)?;
            let field = req.file_field.as_deref();
            // A form carries the file and nothing else.
            if let (Some(f), Some(other)) =
                (field, parts.iter().find(|p| Some(p.name.as_str()) != field))
            {
                return Err(ctx.reject(&format!(
                    "multipart body has a part `{}` besides `{f}`",
                    other.name
                )));
            }
            match parts
                .into_iter()
                .find(|p| field.is_none_or(|f| p.name == f))
            {
                Some(p) if !p.data.is_empty() => {
                    check_file(ctx, req, &p.data)?;
                    // An upload the collection records by file name is that record.
                    let record = req.file_record.as_ref().zip(p.filename.as_ref());
                    if let (Some((f, name)), Some(t)) = (record, ctx.table()) {
                        let row = t.row(serde_json::json!({ f: name }));
                        return Ok(Parsed::Items(vec![row]));
                    }
                    return Ok(Parsed::Raw(p.data));
                }
                _ => {
                    return Err(ctx.reject(&format!(
                        "multipart body has no non-empty `{}` part",
                        field.unwrap_or("file")
                    )))
                }
            }
        }
        _ => {
            if body.is_empty()
                && req.schema.is_none()
                && !req.content_types.is_empty()
                && ctx.op.effect == Some(Effect::Upload)
            {
                return Err(ctx.reject("empty upload"));
            }
            check_file(ctx, req, body)?;
            return Ok(Parsed::Raw(body.clone()));
        }
    }
    Ok(Parsed::Items(sink.rows))
}

/// The media type a body is read as when its request names a `format_param` and is not a
/// zip: the accepted type of the format that parameter names (its `default` when absent,
/// else the first accepted type), whatever the Content-Type says. `None` when Content-Type
/// decides.
fn param_media_type(ctx: &Ctx, req: &Request) -> Option<Result<String, Response<Body>>> {
    let p = req.format_param.as_ref()?;
    if !req.zip_members.is_empty() {
        return None;
    }
    let default = ctx
        .op
        .query
        .get(p)
        .and_then(|q| q.spec().default)
        .and_then(|d| d.as_str().map(str::to_string));
    let Some(v) = ctx.query(p).map(str::to_string).or(default) else {
        return req.content_types.first().map(|c| Ok(media_type(c)));
    };
    let f = match v.to_ascii_lowercase().as_str() {
        "json" => Fmt::Json,
        "xml" => Fmt::Xml,
        "csv" => Fmt::Csv,
        _ => return Some(Err(ctx.reject(&format!("unknown {p} `{v}`")))),
    };
    Some(
        req.content_types
            .iter()
            .find(|c| Fmt::of_content_type(c) == f)
            .map(|c| media_type(c))
            .ok_or_else(|| ctx.reject(&format!("{p}={v} is not accepted here"))),
    )
}

/// The items of a zip upload's members, each member in the format its name ends with (else
/// the one the request asks for, XML by default).
fn zip_items(
    ctx: &Ctx,
    req: &Request,
    item: &str,
    body: &[u8],
    sink: &mut Sink,
    bad: &dyn Fn(codec::CodecError) -> Response<Body>,
) -> Result<(), Response<Body>> {
    let wanted = req
        .format_param
        .as_ref()
        .and_then(|p| ctx.query(p))
        .unwrap_or("xml")
        .to_ascii_lowercase();
    // A member's items go to the sink as the member inflates; a refused item stops
    // the walk and its answer is kept here.
    let mut failed: Option<Response<Body>> = None;
    let walked = codec::for_each_zip_member(body, ZIP_MAX_TOTAL, &mut |name, data| {
        let ext = name.rsplit('.').next().map(str::to_ascii_lowercase);
        let member_fmt = match ext.as_deref() {
            Some(f @ ("json" | "xml" | "csv")) => f,
            _ => wanted.as_str(),
        };
        let at = |mut e: codec::CodecError| {
            e.location = format!("{} in member {name}", e.location);
            e
        };
        let bad_here = |e| bad(at(e));
        let outcome = match member_fmt {
            "xml" if req.many => xml_items(ctx, req, item, sink, &bad_here, |s| {
                codec::xml_children_from(data, s)
            }),
            // Other members are parsed whole, so each is held to the limit the same
            // document sent unzipped has: a zip must not make a body larger than that.
            _ => {
                let limit = ctx.emu.max_body;
                let mut bytes = Vec::new();
                if let Err(e) = Read::take(&mut *data, limit as u64 + 1).read_to_end(&mut bytes) {
                    return Err(at(codec::CodecError {
                        format: "zip",
                        message: e.to_string(),
                        location: String::new(),
                    }));
                }
                if bytes.len() > limit {
                    Err(ctx.outcome(
                        &ctx.payload_too_large(),
                        Some(&format!(
                            "member {name} inflates past {limit} bytes, the body limit; \
                             only XML members are read as they inflate"
                        )),
                    ))
                } else {
                    member_items(ctx, req, item, member_fmt, &bytes, sink, &bad_here)
                }
            }
        };
        outcome.map_err(|r| {
            failed = Some(r);
            codec::CodecError {
                format: "zip",
                message: "item refused".into(),
                location: format!("member {name}"),
            }
        })
    });
    if let Some(r) = failed {
        return Err(r);
    }
    walked.map_err(bad)
}

/// The refusal of a body whose content type the operation does not take.
fn unsupported(ctx: &Ctx, req: &Request, mt: &str) -> Response<Body> {
    let o = ctx.spec().unsupported_media_type(req);
    let msg = if mt.is_empty() {
        "request has no Content-Type".to_string()
    } else {
        format!("Content-Type {mt} is not accepted here")
    };
    ctx.outcome(&o, Some(&msg))
}

/// Items of one whole document (a body, or a zip member read out) in `fmt`.
fn member_items(
    ctx: &Ctx,
    req: &Request,
    item: &str,
    fmt: &str,
    bytes: &[u8],
    sink: &mut Sink,
    bad: &dyn Fn(codec::CodecError) -> Response<Body>,
) -> Result<(), Response<Body>> {
    match fmt {
        "json" => {
            let v = codec::from_json(bytes).map_err(bad)?;
            sink.extend(unwrap_items(ctx, req, item, None, v)?)
        }
        "csv" => {
            header_fits(ctx, sink.schema, bytes)?;
            let rows = codec::from_csv(bytes).map_err(bad)?;
            sink.extend(rows.into_iter().map(Value::Object))
        }
        _ if req.many => xml_items(ctx, req, item, sink, bad, |s| codec::xml_children(bytes, s)),
        _ => {
            let (root, v) = codec::from_xml(bytes).map_err(bad)?;
            sink.extend(unwrap_items(ctx, req, item, Some(root), v)?)
        }
    }
}

/// A many-body in XML, streamed by `parse`: each item is checked and stored as its element
/// closes, so the whole document never exists as one tree.
fn xml_items(
    ctx: &Ctx,
    req: &Request,
    item: &str,
    sink: &mut Sink,
    bad: &dyn Fn(codec::CodecError) -> Response<Body>,
    parse: impl FnOnce(codec::ChildSink) -> Result<String, codec::CodecError>,
) -> Result<(), Response<Body>> {
    let mut failed: Option<Response<Body>> = None;
    let mut on_child = |root: &str, name: String, mut v: Value| {
        // An item element with no children is an item with no fields.
        if v.as_str() == Some("") {
            v = Value::Object(Default::default());
        }
        let outcome = if req.wrapper.as_deref().is_some_and(|w| w != root) {
            Err(ctx.reject(&format!(
                "root element is <{root}>, expected <{}>",
                req.wrapper.as_deref().unwrap_or_default()
            )))
        } else if name != item {
            Err(ctx.reject(&format!("<{name}> in <{root}>: expected <{item}> items")))
        } else {
            sink.push(v)
        };
        match outcome {
            Ok(()) => ControlFlow::Continue(()),
            Err(r) => {
                failed = Some(r);
                ControlFlow::Break(())
            }
        }
    };
    let root = parse(&mut on_child).map_err(bad)?;
    if let Some(r) = failed {
        return Err(r);
    }
    match &req.wrapper {
        Some(w) if *w != root => {
            Err(ctx.reject(&format!("root element is <{root}>, expected <{w}>")))
        }
        _ => Ok(()),
    }
}

/// Checks each item of a request and turns it into a row, in arrival order.
/// Refuse, before any row is read, a CSV whose header names more columns than the schema
/// has fields: no record of the table can fill them, and a header of 80,000 columns is an
/// attack, not an upload.
fn header_fits(ctx: &Ctx, schema: Option<&Schema>, bytes: &[u8]) -> Result<(), Response<Body>> {
    let Some(schema) = schema.filter(|s| !s.field.is_empty()) else {
        return Ok(());
    };
    let line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    // Commas outside quotes: the header's columns, counted without building them.
    let mut quoted = false;
    let mut columns = 1usize;
    for b in line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => columns += 1,
            _ => {}
        }
    }
    if columns > schema.field.len() {
        return Err(ctx.reject(&format!(
            "the CSV header has {columns} columns; `{}` has {} fields",
            schema.name.get_ref(),
            schema.field.len()
        )));
    }
    Ok(())
}

struct Sink<'c> {
    ctx: &'c Ctx<'c>,
    schema: Option<&'c Schema>,
    mode: Option<Completeness>,
    many: bool,
    cols: Columns,
    /// What the path names (the record's key, or the owner a filter compares) and its
    /// value, filled into items that omit it or give it as null (`Endpoint::path_fill`).
    path_fill: Option<(PathFill<'c>, String)>,
    rows: Vec<Row>,
    /// What the rows so far take, roughly ([`approx_size`]).
    bytes: usize,
}

/// A body above this size waits for [`LARGE_UPLOADS`].
const LARGE_BODY: usize = 64 << 10;

/// Large uploads parsed at once.
static LARGE_UPLOADS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// One large upload's turn. When it ends, whatever the upload's parsing freed goes back to the
/// OS at once: mimalloc (the binary's allocator) otherwise purges freed arena pages only when
/// it next allocates from the arena, so an idle emulator kept the hundreds of MiB a refused zip
/// bomb had taken. Under another global allocator (tests) this only collects mimalloc's own,
/// empty, heap. It runs before the turn passes on, and after the upload's scratch data is
/// dropped (the turn is taken first, so it is dropped last).
pub(super) struct LargeTurn(#[allow(dead_code)] tokio::sync::SemaphorePermit<'static>);

impl Drop for LargeTurn {
    fn drop(&mut self) {
        // SAFETY: `mi_collect` takes no pointers and may be called from any thread.
        unsafe { libmimalloc_sys::mi_collect(true) };
    }
}

/// Set `field` to `v` unless the item gives it (a `null` is not given).
fn fill_absent(o: &mut serde_json::Map<String, Value>, field: &str, v: Value) {
    let slot = o.entry(field.to_string()).or_insert(Value::Null);
    if slot.is_null() {
        *slot = v;
    }
}

/// Roughly what a parsed item takes in memory: its text plus a fixed cost per value.
fn approx_size(v: &Value) -> usize {
    match v {
        Value::Object(o) => {
            64 + o
                .iter()
                .map(|(k, x)| k.len() + approx_size(x))
                .sum::<usize>()
        }
        Value::Array(a) => 32 + a.iter().map(approx_size).sum::<usize>(),
        Value::String(s) => 32 + s.len(),
        _ => 32,
    }
}

impl<'c> Sink<'c> {
    fn new(ctx: &'c Ctx<'c>, req: &'c Request) -> Sink<'c> {
        let table = ctx.table();
        let writes = matches!(
            ctx.op.effect,
            Some(
                Effect::Create | Effect::Update | Effect::Upsert | Effect::Replace | Effect::Delete
            )
        );
        let collection_schema = ctx
            .ep
            .collection
            .as_ref()
            .filter(|_| writes)
            .and_then(|c| ctx.api.collection_schema(c.get_ref()));
        let schema = req
            .schema
            .as_ref()
            .and_then(|s| ctx.spec().schema(s.get_ref()))
            .or(collection_schema);
        let cols = match (table, schema) {
            (Some(t), _) => t.columns().clone(),
            (None, Some(s)) => s.field.iter().map(|f| f.name.get_ref().clone()).collect(),
            (None, None) => Columns::from(Vec::new()),
        };
        Sink {
            ctx,
            schema,
            mode: req.completeness,
            many: req.many,
            cols,
            path_fill: ctx.ep.path_fill(ctx.spec()).and_then(|(name, fill)| {
                let v = ctx.params.iter().find(|(n, _)| *n == name)?;
                Some((fill, v.1.clone()))
            }),
            rows: Vec::new(),
            bytes: 0,
        }
    }

    fn extend(&mut self, items: impl IntoIterator<Item = Value>) -> Result<(), Response<Body>> {
        items.into_iter().try_for_each(|v| self.push(v))
    }

    fn push(&mut self, mut v: Value) -> Result<(), Response<Body>> {
        let ctx = self.ctx;
        let replaced = self.fill_from_path(&mut v);
        let checked = match self.schema {
            Some(s) => check_item(
                ctx.spec(),
                s,
                self.mode,
                &mut v,
                ctx.fault(FaultId::SkipCompleteness),
                ctx.fault(FaultId::SkipValueChecks),
            ),
            None if v.is_object() => Ok(()),
            None => Err("item is not an object".into()),
        };
        // A value the path replaced is still checked as the body gave it.
        let checked = checked.and_then(|()| match self.schema {
            Some(s) if !ctx.fault(FaultId::SkipValueChecks) => {
                replaced.into_iter().try_for_each(|(name, given)| {
                    let Some(f) = s.field.iter().find(|f| *f.name.get_ref() == name) else {
                        return Ok(());
                    };
                    check_value(ctx.spec(), f, given)
                        .map(drop)
                        .map_err(|e| format!("field `{name}`: {e}"))
                })
            }
            _ => Ok(()),
        });
        if let Err(e) = checked {
            let msg = if self.many {
                format!("item {}: {e}", self.rows.len() + 1)
            } else {
                e
            };
            self.partial_apply();
            return Err(ctx.reject(&msg));
        }
        // The items of one request stay within a memory budget, however well their
        // upload compressed (a zip bomb of valid rows).
        self.bytes += approx_size(&v);
        let budget = ctx.emu.items_memory;
        if self.bytes > budget {
            self.rows = Vec::new();
            return Err(ctx.outcome(
                &ctx.payload_too_large(),
                Some(&format!(
                    "the upload's items need more than the {} KiB one request may hold",
                    budget >> 10
                )),
            ));
        }
        self.rows.push(Row::from_value(&self.cols, v));
        Ok(())
    }

    /// Fill in what the path names (`Endpoint::path_fill`). Returns the values the body gave
    /// for fields the path decides, which are replaced but must still be valid values.
    fn fill_from_path(&self, v: &mut Value) -> Vec<(String, Value)> {
        let ctx = self.ctx;
        let mut replaced = Vec::new();
        let (Some((fill, k)), Some(o), Some(t)) = (&self.path_fill, v.as_object_mut(), ctx.table())
        else {
            return replaced;
        };
        let sent = Value::String(k.clone());
        let has = |f: &str| {
            self.schema
                .is_none_or(|s| s.field.iter().any(|x| x.name.get_ref() == f))
        };
        let assigned = |f: &str| {
            self.schema.is_some_and(|s| {
                s.field
                    .iter()
                    .any(|x| x.name.get_ref() == f && x.server_assigned)
            })
        };
        let mut decide = |o: &mut serde_json::Map<String, Value>, f: &str| {
            if let Some(given) = o
                .insert(f.to_string(), sent.clone())
                .filter(|g| !g.is_null())
            {
                replaced.push((f.to_string(), given));
            }
        };
        match fill {
            // An update's record found by another of its names (a phone by its MAC) keeps
            // its own key.
            PathFill::Key if ctx.op.effect == Some(Effect::Update) => {
                let row = ctx.ep.collection.as_ref().and_then(|c| {
                    super::engine::named_record(ctx, c.get_ref()).and_then(|k| t.get(&k))
                });
                for kf in t.key_fields() {
                    let stored = row.as_ref().and_then(|r| r.field(kf)).cloned();
                    fill_absent(o, kf, stored.unwrap_or_else(|| sent.clone()));
                }
            }
            // A create keys the record by the path (`create_key`), unless the server assigns
            // the key: then neither the path nor the body decides it.
            PathFill::Key if ctx.op.effect == Some(Effect::Create) => {
                if let [kf] = t.key_fields() {
                    if !assigned(kf) {
                        decide(o, kf);
                    }
                }
            }
            // The path names the object: its key fields need not be repeated.
            PathFill::Key => t
                .key_fields()
                .iter()
                .for_each(|kf| fill_absent(o, kf, sent.clone())),
            // The path names the records' owner (`/schedules/user/{userId}/personal`): the
            // record is the path's, whatever the body says.
            PathFill::Field(f) if has(f) => decide(o, f),
            PathFill::Field(_) => {}
        }
        replaced
    }

    /// The `partial-apply` fault: the rows before a bad one are applied anyway.
    fn partial_apply(&mut self) {
        let Some(t) = self
            .ctx
            .table()
            .filter(|_| self.ctx.fault(FaultId::PartialApply))
        else {
            return;
        };
        let rows = std::mem::take(&mut self.rows);
        t.update(|stored| {
            for row in rows {
                if let Some(k) = t.key_of(&row) {
                    stored.insert(k, row);
                }
            }
        });
    }
}

/// Strip the wrapper and split a many-body into items.
fn unwrap_items(
    ctx: &Ctx,
    req: &crate::spec::model::Request,
    item: &str,
    xml_root: Option<String>,
    v: Value,
) -> Result<Vec<Value>, Response<Body>> {
    let mut v = v;
    match (&req.wrapper, &xml_root) {
        (Some(w), Some(root)) if root != w && root != item => {
            return Err(ctx.reject(&format!("root element is <{root}>, expected <{w}>")));
        }
        (Some(w), None) => {
            let inner = v.as_object_mut().and_then(|o| o.remove(w));
            match inner {
                Some(i) => v = i,
                None if req.many && v.is_array() => {}
                None => return Err(ctx.reject(&format!("body has no `{w}` member"))),
            }
        }
        _ => {}
    }
    if req.many {
        let list = match v {
            Value::Array(a) => a,
            Value::Object(mut o) => match o.remove(item) {
                Some(Value::Array(a)) => a,
                Some(one @ Value::Object(_)) => vec![one],
                Some(Value::String(s)) if s.is_empty() => vec![],
                None if o.is_empty() => vec![],
                _ => return Err(ctx.reject(&format!("expected a list of <{item}> items"))),
            },
            Value::String(s) if s.is_empty() => vec![],
            _ => return Err(ctx.reject("expected a list of items")),
        };
        Ok(list)
    } else {
        match v {
            Value::Object(_) => Ok(vec![v]),
            // An XML element with no children cannot say "an object with no fields" otherwise.
            Value::String(s) if s.is_empty() && xml_root.is_some() => {
                Ok(vec![Value::Object(Default::default())])
            }
            _ => Err(ctx.reject("expected an object")),
        }
    }
}

/// An uploaded file in the format its request names (`file_format`), or the request's
/// rejection.
fn check_file(ctx: &Ctx, req: &Request, bytes: &[u8]) -> Result<(), Response<Body>> {
    if let Some(Err(why)) = req.file_format.map(|f| file_format_problem(f, bytes)) {
        return Err(ctx.reject(&why));
    }
    if req.file_refused_commands.is_empty() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(bytes);
    let refused = text.lines().enumerate().find_map(|(n, l)| {
        let word = l.split_whitespace().next()?;
        req.file_refused_commands
            .iter()
            .any(|c| c == word)
            .then(|| format!("line {}: the command `{word}` is not supported here", n + 1))
    });
    match refused {
        Some(why) => Err(ctx.reject(&why)),
        None => Ok(()),
    }
}
