//! Body-level faults: an answer the engine built correctly, spoiled afterwards the way a
//! device bug would spoil it. Each fault picks what it spoils from the spec alone (the
//! first resource whose response has what the fault breaks), so a run with the fault is
//! deterministic and breaks one thing the response oracle checks.

use axum::body::Body;
use axum::http::{header, HeaderValue, Response};
use serde_json::Value;

use super::ctx::Ctx;
use crate::codec;
use crate::emulator::faults::FaultId;
use crate::emulator::render;
use crate::spec::model::{
    Code, CodeClass, Endpoint, Field, FieldType, Operation, Response as Documented,
};
use crate::spec::Spec;

/// The faults this file commits.
const BODY_FAULTS: [FaultId; 13] = [
    FaultId::DropRequiredField,
    FaultId::NumberAsString,
    FaultId::ValueOutsideEnum,
    FaultId::MalformedDate,
    FaultId::ListAsObject,
    FaultId::ExtraWrapper,
    FaultId::XmlElementRenamed,
    FaultId::CodeSwappedMessageKept,
    FaultId::MissingLocation,
    FaultId::LocationNowhere,
    FaultId::ErrorWithoutCode,
    FaultId::SuccessAsError,
    FaultId::DropOptionalField,
];

/// Which field of a schema a fault spoils.
type FieldPick = fn(&Field) -> bool;

/// A spoilt date: no month 13, no day 45, no hour 25.
const BAD_DATE: &str = "2026-13-45T25:61:00";

/// Whether a body-level fault is on: the answer is rewritten once built, so a list is not
/// streamed.
pub(super) fn active(ctx: &Ctx<'_>) -> bool {
    BODY_FAULTS.iter().any(|f| ctx.fault(*f))
}

/// Spoil `resp`, the answer to `ctx`'s request, as the faults switched on say.
pub(super) async fn spoil(ctx: &Ctx<'_>, resp: Response<Body>) -> Response<Body> {
    if !active(ctx) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let status = parts.status.as_u16();
    let ok = (200..300).contains(&status);
    if ok && ctx.fault(FaultId::MissingLocation) {
        parts.headers.remove(header::LOCATION);
    }
    if ok && ctx.fault(FaultId::LocationNowhere) && parts.headers.contains_key(header::LOCATION) {
        parts.headers.insert(
            header::LOCATION,
            HeaderValue::from_static("/dialtone-nowhere/1"),
        );
    }
    let ct = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let read = ctx.op.method.get_ref() == "GET" && ok;
    let mut out = bytes.to_vec();
    if read && ctx.fault(FaultId::SuccessAsError) && has_schema(ctx.op) {
        if let Some(env) = ctx.spec().default_envelope() {
            out = render::envelope_body(env, None, "OK", status, None);
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(&env.content_type)
                    .unwrap_or(HeaderValue::from_static("text/plain")),
            );
        }
    } else if let Some(mut tree) = Tree::parse(&ct, &bytes) {
        if spoil_tree(ctx, status, &mut tree) {
            out = tree.render();
        }
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(out))
}

/// A body the faults can reach into: JSON, or XML under its root element.
enum Tree {
    Json(Value),
    Xml(String, Value),
}

impl Tree {
    fn parse(ct: &str, body: &[u8]) -> Option<Tree> {
        if ct.contains("json") {
            codec::from_json(body).ok().map(Tree::Json)
        } else if ct.contains("xml") {
            codec::from_xml(body).ok().map(|(r, v)| Tree::Xml(r, v))
        } else {
            None
        }
    }
    fn render(&self) -> Vec<u8> {
        match self {
            Tree::Json(v) => serde_json::to_vec(v).unwrap_or_default(),
            Tree::Xml(r, v) => codec::to_xml(r, v).into_bytes(),
        }
    }
    /// The content, XML under a `{root: ...}` wrapper so envelope paths reach it.
    fn value_mut(&mut self) -> &mut Value {
        match self {
            Tree::Json(v) | Tree::Xml(_, v) => v,
        }
    }
}

/// Apply the tree-level faults; whether anything changed.
fn spoil_tree(ctx: &Ctx, status: u16, tree: &mut Tree) -> bool {
    let spec = ctx.spec();
    let eid = ctx.ep.id.get_ref().as_str();
    let read = ctx.op.method.get_ref() == "GET" && (200..300).contains(&status);
    let mut changed = false;
    if ctx.fault(FaultId::CodeSwappedMessageKept) || ctx.fault(FaultId::ErrorWithoutCode) {
        changed |= spoil_code(ctx, status, tree);
    }
    if !read {
        return changed;
    }
    if ctx.fault(FaultId::XmlElementRenamed) && has_schema(ctx.op) {
        if let Tree::Xml(root, _) = tree {
            root.push_str("-renamed");
            changed = true;
        }
    }
    let json = matches!(tree, Tree::Json(_));
    let v = tree.value_mut();
    let field_faults: [(FaultId, FieldPick); 4] = [
        (FaultId::DropRequiredField, |f| f.required && !f.key),
        (FaultId::NumberAsString, |f| {
            matches!(f.ty, FieldType::Integer | FieldType::Number)
        }),
        (FaultId::ValueOutsideEnum, |f| !f.enum_values.is_empty()),
        (FaultId::MalformedDate, |f| {
            matches!(f.ty, FieldType::Date | FieldType::Datetime)
        }),
    ];
    for (fault, pick) in field_faults {
        if !ctx.fault(fault) {
            continue;
        }
        let Some((victim, field)) = victim_field(spec, pick) else {
            continue;
        };
        // XML carries every value as text: a number sent as text is no fault there.
        if victim == eid && (json || fault != FaultId::NumberAsString) {
            changed |= spoil_field(v, &field, fault);
        }
    }
    // Every optional field of the documented records goes, on every read: the oracle lets
    // an optional field be absent; only a rule that names the field's presence notices.
    if ctx.fault(FaultId::DropOptionalField) {
        let schema = ctx.response_schema();
        for f in schema.iter().flat_map(|s| &s.field) {
            if !f.required && !f.key {
                changed |= spoil_field(v, f.name.get_ref(), FaultId::DropOptionalField);
            }
        }
    }
    if ctx.fault(FaultId::ListAsObject) && json && victim_op(spec, |r| r.many) == Some(eid) {
        changed |= first_list_to_object(v);
    }
    if ctx.fault(FaultId::ExtraWrapper) && victim_op(spec, |_| true) == Some(eid) {
        *v = serde_json::json!({ "result": v.take() });
        changed = true;
    }
    changed
}

/// Swap a result code for another of the same status, its message kept; or drop the
/// code from an error (a 4xx, or a failure code in a 2xx).
fn spoil_code(ctx: &Ctx, status: u16, tree: &mut Tree) -> bool {
    let spec = ctx.spec();
    let env = ctx
        .op
        .response
        .as_ref()
        .and_then(|r| r.envelope.as_ref())
        .and_then(|e| spec.envelope(e.get_ref()))
        .filter(|e| e.code_path.is_some())
        .or_else(|| spec.default_envelope().filter(|e| e.code_path.is_some()));
    let Some(path) = env.and_then(|e| e.code_path.as_ref()) else {
        return false;
    };
    let (parent, leaf) = match path.rsplit_once('.') {
        Some((p, l)) => (Some(p), l),
        None => (None, path.as_str()),
    };
    let v = tree.value_mut();
    let holder = match parent {
        Some(p) => locate(v, p),
        None => Some(v),
    };
    let Some(Value::Object(holder)) = holder else {
        return false;
    };
    let Some(now) = holder.get(leaf).and_then(crate::spec::check::scalar_text) else {
        return false;
    };
    let code = spec
        .codes()
        .find(|c| c.status == status && value_of(c) == now);
    if ctx.fault(FaultId::ErrorWithoutCode) {
        let failure = status >= 400
            || code.is_some_and(|c| {
                !matches!(
                    c.class,
                    CodeClass::Success | CodeClass::Empty | CodeClass::Partial
                )
            });
        if failure {
            holder.remove(leaf);
            return true;
        }
    }
    // A failure's code swapped (a duplicate answered as "created"), its message kept.
    let failure_code = code.is_some_and(|c| {
        !matches!(
            c.class,
            CodeClass::Success | CodeClass::Empty | CodeClass::Partial
        )
    });
    if ctx.fault(FaultId::CodeSwappedMessageKept) && failure_code {
        let other = spec
            .codes()
            .filter(|c| c.status == status && c.envelope == code.and_then(|k| k.envelope.clone()))
            .map(value_of)
            .find(|o| *o != now);
        if let Some(o) = other {
            holder.insert(leaf.to_string(), Value::String(o));
            return true;
        }
    }
    false
}

/// A dotted path, also under the single root of a parsed XML document.
fn locate<'v>(v: &'v mut Value, path: &str) -> Option<&'v mut Value> {
    let direct = path.split('.').try_fold(&*v, |cur, p| cur.get(p)).is_some();
    if direct {
        return path.split('.').try_fold(v, |cur, p| cur.get_mut(p));
    }
    // XML: the first segment names the root element, which the content sits under.
    match path.split_once('.') {
        Some((_, rest)) => rest.split('.').try_fold(v, |cur, p| cur.get_mut(p)),
        None => Some(v),
    }
}

fn value_of(c: &Code) -> String {
    c.value.clone().unwrap_or_else(|| c.id.get_ref().clone())
}

/// Whether `op`'s answer documents a schema (a body the oracle checks record by record).
fn has_schema(op: &Operation) -> bool {
    op.response.as_ref().is_some_and(|r| r.schema.is_some())
}

/// The JSON reads of the spec, in spec order, with their response.
fn reads(spec: &Spec) -> impl Iterator<Item = (&Endpoint, &Documented)> {
    spec.endpoints().filter_map(|ep| {
        let op = ep.operation("GET")?;
        let r = op.response.as_ref()?;
        let structured = r
            .content_types
            .iter()
            .any(|c| c.contains("json") || c.contains("xml"));
        (structured && r.schema.is_some()).then_some((ep, r))
    })
}

/// The first read whose response fits `pick`: the one resource a fault spoils.
fn victim_op(spec: &Spec, pick: impl Fn(&Documented) -> bool) -> Option<&str> {
    reads(spec)
        .find(|(_, r)| pick(r))
        .map(|(ep, _)| ep.id.get_ref().as_str())
}

/// The first read whose schema has a field `pick` chooses, and that field's name.
fn victim_field(spec: &Spec, pick: FieldPick) -> Option<(&str, String)> {
    reads(spec).find_map(|(ep, r)| {
        let schema = spec.schema(r.schema.as_ref()?.get_ref())?;
        let f = schema.field.iter().find(|f| pick(f))?;
        Some((ep.id.get_ref().as_str(), f.name.get_ref().clone()))
    })
}

/// Spoil `field` wherever an object in `v` holds it.
fn spoil_field(v: &mut Value, field: &str, fault: FaultId) -> bool {
    let mut changed = false;
    match v {
        Value::Object(o) => {
            if let Some(x) = o.get_mut(field) {
                match fault {
                    FaultId::DropRequiredField | FaultId::DropOptionalField => {
                        o.remove(field);
                        changed = true;
                    }
                    FaultId::NumberAsString if x.is_number() => {
                        *x = Value::String(x.to_string());
                        changed = true;
                    }
                    FaultId::ValueOutsideEnum => {
                        *x = Value::String("dialtone-unlisted".into());
                        changed = true;
                    }
                    FaultId::MalformedDate => {
                        *x = Value::String(BAD_DATE.into());
                        changed = true;
                    }
                    _ => {}
                }
            }
            for x in o.values_mut() {
                changed |= spoil_field(x, field, fault);
            }
        }
        Value::Array(a) => {
            for x in a {
                changed |= spoil_field(x, field, fault);
            }
        }
        _ => {}
    }
    changed
}

/// Replace the first list of records in `v` by its first record (an empty object when
/// it is empty).
fn first_list_to_object(v: &mut Value) -> bool {
    match v {
        Value::Array(a) if a.iter().all(Value::is_object) => {
            let first = a
                .first()
                .cloned()
                .unwrap_or_else(|| Value::Object(Default::default()));
            *v = first;
            true
        }
        Value::Object(o) => o.values_mut().any(first_list_to_object),
        _ => false,
    }
}
