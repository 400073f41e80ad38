//! Write-fuzzing on a device (`--allow write`): writes go only to objects the fuzzer
//! creates itself, marked with the run's prefix.
//!
//! * A create is fuzzed with a body whose client-chosen text key and unique fields (or,
//!   with a server-assigned key, one name-like text field) carry the prefix; mutations
//!   leave those fields, and the fields around them, alone.
//! * An update or delete is fuzzed on a seed object of the collection, created first;
//!   the fields and path parameters that name it are never mutated, and a method
//!   mutation picks only the operation's own method or a safe one.
//! * After every write that may have changed the device, the collection is listed: new
//!   records of the fuzzer's own (marked, not listed before) are remembered, and a seed
//!   object that is gone is created again. When the run ends, every object it created is
//!   deleted; what could not be is reported in [`FuzzReport::left`](super::FuzzReport).
//!
//! Operations that would change objects the fuzzer cannot create (replaces, settings,
//! actions, records named otherwise) stay read-only against a device.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::mutate::Draft;
use crate::runner::http::{Auth, Req};
use crate::runner::outcome::{parse, text_of};
use crate::runner::Session;
use crate::sample;
use crate::spec::model::*;
use crate::spec::Spec;

/// What kind of own-object write a seed is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kind {
    /// A create of new, marked records.
    Create,
    /// An update or delete of the collection's seed object.
    Record,
}

/// A write seed's object: its collection and how it is named.
#[derive(Debug, Clone)]
pub(super) struct OwnSeed {
    pub(super) collection: String,
    pub(super) kind: Kind,
    /// Body fields the mutations leave alone (the prefixed fields and the key).
    pub(super) protected: Vec<String>,
}

/// Whether `op` may be write-fuzzed on a device, and how: `None` when it may not.
pub(super) fn own_seed(spec: &Spec, ep: &Endpoint, op: &Operation) -> Option<OwnSeed> {
    let c = spec.collection(ep.collection.as_ref()?.get_ref())?;
    let keys = spec.collection_keys(c);
    if keys.is_empty() {
        return None;
    }
    let params = crate::spec::template_params(&spec.full_path(ep)).unwrap_or_default();
    let schema = spec.request_schema(op);
    let named_in_path = |p: &String| keys.contains(p) || Some(p) == c.scope_param.as_ref();
    let kind = match op.effect? {
        Effect::Create => {
            // A create that names its record in the URL is not fuzzed.
            if params.iter().any(|p| keys.contains(p)) {
                return None;
            }
            schema?;
            Kind::Create
        }
        Effect::Update | Effect::Delete | Effect::Upsert => {
            let in_path = !params.is_empty() && params.iter().all(named_in_path);
            let in_body = params.is_empty()
                && schema.is_some_and(|s| {
                    keys.iter()
                        .all(|k| s.field.iter().any(|f| f.name.get_ref() == k))
                });
            if !(in_path || in_body) {
                return None;
            }
            Kind::Record
        }
        _ => return None,
    };
    let mut protected = keys.clone();
    protected.extend(marks(spec, c));
    if kind == Kind::Create && marks(spec, c).is_empty() && !assigned_key(spec, c) {
        return None;
    }
    Some(OwnSeed {
        collection: c.name.get_ref().clone(),
        kind,
        protected,
    })
}

fn assigned_key(spec: &Spec, c: &Collection) -> bool {
    let keys = spec.collection_keys(c);
    spec.schema(c.schema.get_ref()).is_some_and(|s| {
        s.field
            .iter()
            .any(|f| f.server_assigned && keys.contains(f.name.get_ref()))
    })
}

/// The text fields a create marks with the prefix: the client-chosen key and unique
/// ones; with none and a server-assigned key, the first free text field.
pub(super) fn marks(spec: &Spec, c: &Collection) -> Vec<String> {
    let Some(schema) = spec.schema(c.schema.get_ref()) else {
        return vec![];
    };
    let keys = spec.collection_keys(c);
    let text = |f: &Field| {
        f.ty == FieldType::String
            && !f.server_assigned
            && f.enum_values.is_empty()
            && f.max_len.is_none_or(|m| m > 12)
    };
    let m: Vec<String> = schema
        .field
        .iter()
        .filter(|f| text(f) && (f.key || f.unique || keys.contains(f.name.get_ref())))
        .map(|f| f.name.get_ref().clone())
        .collect();
    if !m.is_empty() || !assigned_key(spec, c) {
        return m;
    }
    let mut free: Vec<&Field> = schema.field.iter().filter(|f| text(f)).collect();
    free.sort_by_key(|f| !f.required);
    free.first()
        .map(|f| vec![f.name.get_ref().clone()])
        .unwrap_or_default()
}

/// The prefix on the marked fields of `obj`.
pub(super) fn mark(spec: &Spec, c: &Collection, prefix: &str, obj: &mut Map<String, Value>) {
    let schema = spec.schema(c.schema.get_ref());
    for m in marks(spec, c) {
        let max = schema
            .and_then(|s| s.field.iter().find(|f| *f.name.get_ref() == m))
            .and_then(|f| f.max_len);
        let v = obj
            .get(&m)
            .map(text_of)
            .unwrap_or_else(|| "fuzz".to_string());
        if v.starts_with(prefix) {
            continue;
        }
        let mut marked = format!("{prefix}{v}");
        if let Some(max) = max {
            marked = marked.chars().take(max as usize).collect();
        }
        obj.insert(m, Value::String(marked));
    }
}

/// A listed record: its key values and fields.
pub(super) type Listed = (Vec<String>, Map<String, Value>);

/// The first page of `collection` as its list (or query) answers it, read as `role`.
pub(super) async fn list(
    session: &Session,
    spec: &Spec,
    collection: &str,
    auth: &Auth,
) -> Option<Vec<Listed>> {
    let c = spec.collection(collection)?;
    let keys = spec.collection_keys(c);
    let (ep, op) = op_of(
        spec,
        collection,
        &[Effect::List, Effect::Query],
        Some("GET"),
    )?;
    let mut req = Req::new("GET", sample::target(spec, ep, op));
    req.auth = auth.clone();
    for (h, v) in &spec.auth().required_headers {
        if !h.eq_ignore_ascii_case("content-type") {
            req = req.header(h, v);
        }
    }
    if let Some(a) = op.response.as_ref().and_then(|r| r.content_types.first()) {
        req = req.header("Accept", a);
    }
    let (_, r) = session.client.send(&req).await;
    let tree = parse(&r.ok()?).ok()?;
    let mut out = Vec::new();
    records(&tree, &keys, &mut out);
    Some(out)
}

/// The first operation of `collection` with one of `effects` (and `method`).
pub(super) fn op_of<'s>(
    spec: &'s Spec,
    collection: &str,
    effects: &[Effect],
    method: Option<&str>,
) -> Option<(&'s Endpoint, &'s Operation)> {
    spec.endpoints()
        .filter(|ep| ep.collection.as_ref().map(|c| c.get_ref().as_str()) == Some(collection))
        .find_map(|ep| {
            ep.op
                .iter()
                .find(|o| {
                    o.effect.is_some_and(|e| effects.contains(&e))
                        && method.is_none_or(|m| o.method.get_ref() == m)
                        && (o.effect != Some(Effect::Create) || o.request.is_some())
                })
                .map(|o| (ep, o))
        })
}

fn records(v: &Value, keys: &[String], out: &mut Vec<Listed>) {
    match v {
        Value::Object(o) => {
            if keys
                .iter()
                .all(|k| o.get(k).is_some_and(|x| !x.is_object() && !x.is_array()))
            {
                out.push((keys.iter().map(|k| text_of(&o[k])).collect(), o.clone()));
            } else {
                o.values().for_each(|x| records(x, keys, out));
            }
        }
        Value::Array(a) => a.iter().for_each(|x| records(x, keys, out)),
        _ => {}
    }
}

/// A draft of `op` on `ep` for the record with key values `kv` and fields `fields`: path
/// parameters from the key, the body the sample overlaid with the fields and the key.
pub(super) fn record_draft(
    spec: &Spec,
    ep: &Endpoint,
    op: &Operation,
    kv: &[(String, String)],
    fields: &Map<String, Value>,
) -> Draft {
    let params = crate::spec::template_params(&spec.full_path(ep)).unwrap_or_default();
    let value_of = |name: &str, v: String| {
        let i = params.iter().position(|p| p == name);
        kv.iter()
            .find(|(k, _)| k == name)
            .or_else(|| i.and_then(|i| kv.get(i)))
            .map(|(_, v)| sample::encode(v))
            .unwrap_or(v)
    };
    let (pieces, _) = super::seed::path_pieces_with(spec, ep, &value_of);
    let mut draft = Draft {
        method: op.method.get_ref().to_ascii_uppercase(),
        pieces,
        query: super::seed::sample_query(spec, ep, op),
        headers: super::seed::headers(spec, op),
        content_type: None,
        body: None,
    };
    let (ct, body) = super::seed::body(spec, op);
    draft.content_type = ct;
    let schema = spec.request_schema(op);
    draft.body = match schema {
        Some(schema) => {
            let mut obj = sample::object(spec, schema);
            for (k, v) in fields {
                if schema.field.iter().any(|f| f.name.get_ref() == k) {
                    obj.insert(k.clone(), v.clone());
                }
            }
            for (k, v) in kv {
                if schema.field.iter().any(|f| f.name.get_ref() == k) {
                    obj.insert(k.clone(), Value::String(v.clone()));
                }
            }
            match sample::encode_object(spec, op, obj) {
                Some((ct, b)) => {
                    draft.content_type = Some(ct);
                    Some(b)
                }
                None => body,
            }
        }
        None => body,
    };
    draft
}

/// The draft of a marked create of `collection` (the sample, its marked fields prefixed).
pub(super) fn create_draft(
    spec: &Spec,
    c: &Collection,
    ep: &Endpoint,
    op: &Operation,
    prefix: &str,
) -> Option<(Draft, Map<String, Value>)> {
    let schema = op
        .request
        .as_ref()
        .and_then(|r| r.schema.as_ref())
        .and_then(|s| spec.schema(s.get_ref()))?;
    let mut obj = sample::object(spec, schema);
    mark(spec, c, prefix, &mut obj);
    let mut d = record_draft(spec, ep, op, &[], &Map::new());
    let (ct, b) = sample::encode_object(spec, op, obj.clone())?;
    d.content_type = Some(ct);
    d.body = Some(b);
    Some((d, obj))
}

/// Whether a listed record is the fuzzer's own: not listed before it began and, when
/// the collection has fields to mark, marked.
pub(super) fn is_own(
    spec: &Spec,
    c: &Collection,
    prefix: &str,
    before: &HashSet<Vec<String>>,
    rec: &Listed,
) -> bool {
    if before.contains(&rec.0) {
        return false;
    }
    let m = marks(spec, c);
    m.iter()
        .all(|f| rec.1.get(f).is_some_and(|v| text_of(v).starts_with(prefix)))
}

/// `d` as a request of `role` with `auth`.
pub(super) fn request(d: &Draft, role: &str, auth: &Auth) -> Req {
    let mut req = Req::new(&d.method, d.target());
    req.who = role.to_string();
    req.headers = d.headers.clone();
    if let Some(ct) = &d.content_type {
        req.headers.push(("Content-Type".into(), ct.clone()));
    }
    req.body = d.body.clone();
    req.auth = auth.clone();
    req
}
