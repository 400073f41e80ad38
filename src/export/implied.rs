//! What the spec says of an operation beyond its plan entries, in the terms OpenAPI has:
//! the statuses its general rules let the operation answer (an unknown record, a body that
//! does not validate, a media type it does not take) and the types of its paging
//! parameters. A peer tool such as Schemathesis reads an undeclared status as a fault, and an
//! untyped paging parameter as an invitation to send `pagesize=0`.

use serde_json::{json, Value};

use crate::spec::model::*;
use crate::spec::{PathFill, Spec};

/// The statuses the spec's general rules let `op` answer, with why, in a stable order.
/// The caller adds those no plan entry already declares.
pub(super) fn statuses(spec: &Spec, ep: &Endpoint, op: &Operation) -> Vec<(u16, String)> {
    let m = spec.matrix();
    let mut out: Vec<(u16, String)> = Vec::new();
    let mut add = |o: &Outcome, why: &str| out.push((o.status, why.to_string()));
    if !ep.params.is_empty() {
        // The emulator's order: the operation's own rule, its own 404 code, the matrix.
        let o = op
            .not_found
            .as_ref()
            .map(|c| c.expect.get_ref().clone())
            .unwrap_or_else(|| m.not_found.expect.get_ref().clone());
        add(&o, "a path parameter names no record");
        for p in ep.params.values() {
            let s = p.spec();
            for o in [&s.invalid, &s.empty].into_iter().flatten() {
                add(o, "a path parameter the device does not take");
            }
        }
    }
    for p in op.query.values() {
        let s = p.spec();
        for o in [&s.invalid, &s.missing, &s.empty].into_iter().flatten() {
            add(o, "a query parameter the device does not take");
        }
        if s.required && s.missing.is_none() {
            add(
                &op.reject_outcome(),
                "a required query parameter is missing",
            );
        }
    }
    if let Some(p) = op
        .pagination
        .as_ref()
        .and_then(|p| spec.pagination(p.get_ref()))
    {
        let bad = p
            .invalid
            .as_ref()
            .map(|o| o.get_ref().clone())
            .unwrap_or_else(|| op.reject_outcome());
        add(&bad, "a paging parameter the device does not take");
        if let Some(o) = &p.empty {
            add(o.get_ref(), "the page or the collection is empty");
        }
    }
    if let Some(req) = &op.request {
        add(&op.reject_outcome(), "the request does not validate");
        add(
            &spec.unsupported_media_type(req),
            "a body of a media type the operation does not take",
        );
        if req.max_bytes.is_some() || m.payload_too_large.is_some() {
            add(
                &spec.payload_too_large(),
                "a body larger than the device takes",
            );
        }
    }
    // A create that names its own key, or a copy onto a key: a key in use is a conflict
    // (the key field's `on_duplicate`, else 409).
    let schema = ep
        .collection
        .as_ref()
        .and_then(|c| spec.collection(c.get_ref()))
        .and_then(|c| spec.schema(c.schema.get_ref()));
    let creates =
        matches!(op.effect, Some(Effect::Create | Effect::Upsert)) || op.copy_to.is_some();
    for f in schema.iter().flat_map(|s| &s.field) {
        if creates && f.key && !f.server_assigned {
            add(&f.duplicate_outcome(), "a key already in use");
        }
    }
    if let (Some(c), Some(_)) = (&m.not_acceptable, &op.response) {
        add(c.expect.get_ref(), "an Accept the operation cannot produce");
    }
    for o in &op.accept {
        add(o.get_ref(), "another outcome the operation documents");
    }
    out.retain(|(s, _)| (100..=599).contains(s));
    let mut seen = Vec::new();
    out.retain(|(s, _)| {
        let new = !seen.contains(s);
        seen.push(*s);
        new
    });
    out
}

/// The schema of the paging parameter playing `role` in `p`: counts are positive integers,
/// page numbers start at the style's first index, row numbers at 0, and a cursor is never
/// empty.
pub(super) fn paging_schema(p: &Pagination, role: &str) -> Value {
    match role {
        // The device reads counts as signed 64-bit integers.
        "limit" | "pagesize" => json!({"type": "integer", "minimum": 1, "maximum": i64::MAX}),
        // Page and row numbers as unsigned ones.
        "page" => {
            json!({"type": "integer", "minimum": p.first_index.unwrap_or(0), "maximum": u64::MAX})
        }
        "start" | "end" | "offset" => json!({"type": "integer", "minimum": 0, "maximum": u64::MAX}),
        // A cursor is a record's number (alarms), an interval's index (`cursor_field`), or a
        // name the device looks up (KPI discovery): text that names an item.
        "after" | "before" if p.cursor_strings || p.cursor_field.is_some() => {
            json!({"type": "string", "pattern": "^-?[0-9]{1,18}$"})
        }
        "after" | "before" => json!({"type": "string", "minLength": 1}),
        _ => json!({"type": "string"}),
    }
}

/// The schema of an XML request body: the document's root element is the request's
/// wrapper (else the record's element), holding the record's fields, or one element per
/// record for a many-body. OpenAPI's `xml.name` says so; a bare reference would name the
/// root after the component.
pub(super) fn xml_body(spec: &Spec, req: &Request, inner_ref: Value) -> Value {
    let schema = req.schema.as_ref().and_then(|s| spec.schema(s.get_ref()));
    let item = crate::spec::item_name(schema);
    if req.many {
        let root = req.wrapper.clone().unwrap_or_else(|| format!("{item}s"));
        // A root element without item elements is an empty list, whatever text it holds.
        json!({
            "type": ["array", "string", "null"],
            "items": {"allOf": [inner_ref], "xml": {"name": item}},
            "xml": {"name": root, "wrapped": true},
        })
    } else {
        let root = req.wrapper.clone().unwrap_or(item);
        json!({"allOf": [inner_ref], "xml": {"name": root}})
    }
}

/// A path or query parameter's schema. The device checks a value against the parameter's
/// type, enumeration, length and pattern only where the spec says what a bad value gets
/// (`invalid`); otherwise any text is taken (a filter that matches nothing, a key that names
/// no record), and the export says so, keeping the documented type in `x-dialtone-type`.
///
/// A path parameter of a write keeps its type: its value fills the key field of the record
/// the body describes, which the device does check.
pub(super) fn param_schema(s: &ParamSpec, checked: bool) -> Value {
    let mut nominal = super::openapi::field_type(s.ty);
    if !s.enum_values.is_empty() {
        super::openapi::with_enum(&mut nominal, &s.enum_values);
    }
    if s.invalid.is_some() || checked {
        if let (Some(n), Some(o)) = (s.min_len, nominal.as_object_mut()) {
            o.insert("minLength".into(), json!(n));
        }
        // The device matches the whole value; a JSON Schema pattern matches anywhere.
        if let (Some(p), Some(o)) = (&s.pattern, nominal.as_object_mut()) {
            o.insert("pattern".into(), json!(format!("^(?:{p})$")));
        }
        if let (FieldType::Integer, Some(o)) = (s.ty, nominal.as_object_mut()) {
            o.insert("minimum".into(), json!(i64::MIN));
            o.insert("maximum".into(), json!(i64::MAX));
        }
        return nominal;
    }
    let mut text = json!({"type": "string", "x-dialtone-type": nominal});
    if s.empty.is_some() {
        text["minLength"] = json!(1);
    }
    if let Some(e) = &s.example {
        text["examples"] = json!([crate::spec::check::scalar_text(
            &serde_json::to_value(e).unwrap_or(Value::Null)
        )
        .unwrap_or_default()]);
    }
    text
}

/// Whether a write's body takes the path value into a field (as the emulator fills it)
/// that checks it: the owner field a filter names; the key of a create or a replacement,
/// unless the server assigns it. An update finds its record by the path as a read does (by
/// key or another name; none is not found), so any text may name it.
pub(super) fn path_value_checked(
    spec: &Spec,
    ep: &Endpoint,
    op: &Operation,
    fill: PathFill,
) -> bool {
    match (fill, op.effect) {
        (
            PathFill::Field(_),
            Some(Effect::Create | Effect::Update | Effect::Upsert | Effect::Replace),
        ) => true,
        (PathFill::Key, Some(Effect::Create)) => {
            let schema = spec.request_schema(op).or_else(|| {
                let c = spec.collection(ep.collection.as_ref()?.get_ref())?;
                spec.schema(c.schema.get_ref())
            });
            let keys: Vec<&Field> = schema
                .map(|s| s.field.iter().filter(|f| f.key).collect())
                .unwrap_or_default();
            matches!(&keys[..], [k] if !k.server_assigned)
        }
        (PathFill::Key, Some(Effect::Upsert | Effect::Replace)) => true,
        _ => false,
    }
}
