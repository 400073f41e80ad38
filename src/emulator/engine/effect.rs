//! Writing and reading one table: the effects `get`, `create`, `update`, `upsert`,
//! `delete` and `replace` (lists go to `list`), with the checks a write makes first
//! (unique fields, dangling and live references) and the success answer it gives.

use axum::body::Body;
use axum::http::Response;
use serde_json::{Map, Value};

use super::ctx::{path_key, Ctx, Parsed};
use super::fixed::static_answer;
use super::list::{list, render_one};
use super::records;
use crate::emulator::faults::FaultId;
use crate::emulator::render::{self, Fmt};
use crate::emulator::store::{scalar_text, Fields, Key, Row, Rows, Table};
use crate::spec::model::{Completeness, Effect, Outcome, Schema};
use crate::spec::PathFill;

/// How the path names rows: by key, or by another field of the schema.
enum Sel {
    Key(Key),
    Field(String, String),
    /// The parameter is neither a key nor a field (sipXconfig's "user id, name or alias"):
    /// rows holding the value as a scalar field, or as a delimited part of one.
    Any(String),
}

fn path_sel(ctx: &Ctx, collection: &str) -> Option<Sel> {
    let key = path_key(ctx)?;
    let (name, value) = ctx.params.last()?;
    let keys = ctx.api.key_fields(collection);
    let is_field = ctx
        .api
        .collection_schema(collection)
        .is_some_and(|s| s.field.iter().any(|f| f.name.get_ref() == name));
    let single_key_named_otherwise =
        keys.len() == 1 && !keys.contains(name) && ctx.params.len() == 1;
    if is_field && !keys.contains(name) {
        Some(Sel::Field(name.clone(), value.clone()))
    } else if single_key_named_otherwise && ctx.api.tables[collection].get(&key).is_none() {
        let alias = ctx
            .ep
            .params
            .get(name)
            .and_then(|p| p.spec().lookup)
            .and_then(|l| l.resolve(ctx.spec(), value));
        Some(Sel::Any(alias.unwrap_or_else(|| value.clone())))
    } else {
        Some(Sel::Key(key))
    }
}

/// The key of the stored record the path names (by its key, by a field, or by any of its
/// identities, as a read finds it), if one is stored.
pub(in crate::emulator) fn named_record(ctx: &Ctx, collection: &str) -> Option<Key> {
    let table = ctx.api.tables.get(collection)?;
    match path_sel(ctx, collection)? {
        Sel::Key(k) => table.get(&k).map(|_| k),
        sel => table
            .snapshot()
            .iter()
            .find(|(k, r)| sel_matches(&sel, k, r))
            .map(|(k, _)| k.clone()),
    }
}

/// An update whose path names no stored record: answered not-found before its body is
/// read, as a read of that path is. The body of such a request describes nothing.
pub(in crate::emulator) fn update_of_nothing(ctx: &Ctx) -> Option<Response<Body>> {
    // Cheapest first: most requests are not updates, and `path_fill` reads the template.
    if ctx.op.effect != Some(Effect::Update) || ctx.table().is_none() || path_key(ctx).is_none() {
        return None;
    }
    let collection = ctx.ep.collection.as_ref()?.get_ref();
    let by_path = matches!(ctx.ep.path_fill(ctx.spec()), Some((_, PathFill::Key)));
    (by_path && named_record(ctx, collection).is_none()).then(|| ctx.not_found())
}

fn sel_matches(sel: &Sel, k: &Key, row: &Row) -> bool {
    match sel {
        Sel::Key(want) => want == k,
        Sel::Field(f, v) => row.field(f).and_then(scalar_text).as_deref() == Some(v.as_str()),
        // Identities are names, aliases and numbers; a flag (`true`) never names a row.
        Sel::Any(v) => row
            .fields()
            .filter(|(_, x)| !x.is_boolean())
            .filter_map(|(_, x)| scalar_text(x))
            .any(|t| {
                // The whole value, or one delimited part of it (the host of a contact URI),
                // never a substring: `/pagegroups/2` must not match a timeout of 286694.
                t == *v
                    || t.split(|c: char| !(c.is_alphanumeric() || matches!(c, '.' | '-' | '_')))
                        .any(|part| part == v)
            }),
    }
}

/// Apply a table effect to the endpoint's collection. Items arrive checked (see `body`);
/// nothing below fails half-way through a write.
pub(super) fn table_effect(
    ctx: &Ctx,
    collection: &str,
    effect: Effect,
    parsed: Parsed,
    fmt: Option<(Fmt, String)>,
) -> Response<Body> {
    let table = &ctx.api.tables[collection];
    let items = items(ctx, table, effect, parsed);
    match effect {
        Effect::List | Effect::Query => list(ctx, collection, fmt),
        Effect::Get => get(ctx, collection, fmt),
        Effect::Create => create(ctx, collection, items),
        Effect::Update => update(ctx, collection, items),
        Effect::Upsert => upsert(ctx, table, items),
        Effect::Delete => delete(ctx, collection, &items),
        Effect::Replace => replace(ctx, table, items),
        _ => static_answer(ctx, fmt),
    }
}

/// The rows a request carries: its checked items, or a raw body.
fn items(ctx: &Ctx, table: &Table, effect: Effect, parsed: Parsed) -> Vec<Row> {
    match parsed {
        Parsed::Items(v) => v,
        // A raw body (a vCard, a file) written to a path-named object is stored as text.
        Parsed::Raw(b) if matches!(effect, Effect::Upsert | Effect::Update | Effect::Create) => {
            match (ctx.params.last(), table.key_fields().first()) {
                (Some((_, v)), Some(kf)) => {
                    let mut o = Map::new();
                    o.insert(kf.clone(), Value::String(v.clone()));
                    let field = ctx.op.request.as_ref().and_then(|r| r.raw_field.clone());
                    o.insert(
                        field.unwrap_or_else(|| "content".into()),
                        Value::String(String::from_utf8_lossy(&b).into_owned()),
                    );
                    vec![table.row(Value::Object(o))]
                }
                _ => vec![],
            }
        }
        _ => vec![],
    }
}

/// One record, as the path names it; the whole list when the path names none.
fn get(ctx: &Ctx, collection: &str, fmt: Option<(Fmt, String)>) -> Response<Body> {
    let table = &ctx.api.tables[collection];
    let Some(sel) = path_sel(ctx, collection) else {
        return list(ctx, collection, fmt);
    };
    let row = match &sel {
        Sel::Key(k) => table.get(k),
        Sel::Field(..) | Sel::Any(_) => table
            .snapshot()
            .iter()
            .find(|(k, r)| sel_matches(&sel, k, r))
            .map(|(_, r)| r.clone()),
    };
    match row {
        // A read whose answer documents another shape than the record (a context's list
        // of sub-resources) serves that documented answer once the record exists.
        Some(_) if answers_other_shape(ctx, collection) => super::fixed::static_answer(ctx, fmt),
        Some(row) => super::owned::empty_answer(ctx, &row)
            .unwrap_or_else(|| render_one(ctx, &row.to_value(), fmt)),
        None => ctx.not_found(),
    }
}

/// Whether `ctx`'s response documents a list of another schema than `collection`'s, with
/// a body or example to serve.
fn answers_other_shape(ctx: &Ctx, collection: &str) -> bool {
    let Some(r) = ctx.op.response.as_ref() else {
        return false;
    };
    let own = ctx
        .spec()
        .collection(collection)
        .map(|c| c.schema.get_ref());
    r.many
        && (r.body.is_some() || r.example.is_some())
        && r.schema.as_ref().map(|s| s.get_ref()) != own
}

/// Store a new record: server-assigned fields dropped, unique fields and references
/// checked, keyed (see [`create_key`]), documented defaults filled in.
fn create(ctx: &Ctx, collection: &str, mut items: Vec<Row>) -> Response<Body> {
    let table = &ctx.api.tables[collection];
    let keys = table.key_fields();
    let schema = ctx
        .op
        .request
        .as_ref()
        .and_then(|r| r.schema.as_ref())
        .and_then(|s| ctx.spec().schema(s.get_ref()))
        .or_else(|| ctx.api.collection_schema(collection));
    let Some(mut item) = items.pop().map(|r| r.to_value()) else {
        return ctx.reject("empty body");
    };
    if let Some(s) = schema {
        if !ctx.fault(FaultId::ClientIdsHonoured) {
            if let Some(o) = item.as_object_mut() {
                // The owner of an `owned` endpoint's record is the server's to set: the caller.
                let owner = super::owned::owner_field(ctx, collection);
                for f in s.field.iter().filter(|f| f.server_assigned) {
                    if Some(f.name.get_ref().as_str()) != owner {
                        o.remove(f.name.get_ref());
                    }
                }
            }
        }
        if let Some(r) = unique_conflict(ctx, collection, s, &item, None) {
            return r;
        }
    }
    if let Some(r) = dangling(ctx, collection, &item) {
        return r;
    }
    let key = match create_key(ctx, collection, schema, &mut item) {
        Ok(k) => k,
        Err(r) => return r,
    };
    // Fill documented defaults.
    if let (Some(s), Some(o)) = (schema, item.as_object_mut()) {
        for f in &s.field {
            if let (Some(d), false) = (&f.default, o.contains_key(f.name.get_ref())) {
                if let Ok(v) = serde_json::to_value(d) {
                    o.insert(f.name.get_ref().clone(), v);
                }
            }
        }
    }
    // The new id as the record holds it, typed as its schema types it (a numeric string
    // for a `digits` key), not as the table orders it.
    let name = keys.first().cloned().unwrap_or_else(|| "id".into());
    let shown = item.get(&name).cloned().unwrap_or_else(|| key.to_value());
    let row = table.row(item);
    table.update(|rows| rows.insert(key.clone(), row));
    write_ok(ctx, Some((name, shown)))
}

/// The key of a new record: the one its URL names, the client's own (refused when taken),
/// or the table's next number, written into the item.
fn create_key(
    ctx: &Ctx,
    collection: &str,
    schema: Option<&Schema>,
    item: &mut Value,
) -> Result<Key, Response<Body>> {
    let table = &ctx.api.tables[collection];
    let keys = table.key_fields();
    // A create whose URL names the new record (`POST .../entry/{entryId}`) keys it
    // by that name, when the key is the client's to choose.
    let from_path = keys
        .first()
        .filter(|kf| {
            keys.len() == 1
                && schema.is_some_and(|s| {
                    s.field
                        .iter()
                        .any(|f| f.name.get_ref() == *kf && !f.server_assigned)
                })
        })
        .and_then(|kf| ctx.params.last().map(|(_, v)| (kf.clone(), v.clone())));
    if let (Some((kf, v)), Some(o)) = (&from_path, item.as_object_mut()) {
        o.insert(kf.clone(), Value::String(v.clone()));
    }
    // The key is the client's when no key field is server-assigned.
    let key_field =
        |k: &String| schema.and_then(|s| s.field.iter().find(|f| f.name.get_ref() == k));
    let client_key = !keys.is_empty()
        && keys
            .iter()
            .all(|k| key_field(k).is_some_and(|f| !f.server_assigned));
    match table.key_of(&*item) {
        Some(k) if client_key && from_path.is_none() && table.get(&k).is_some() => {
            let o = keys
                .iter()
                .find_map(|k| key_field(k).and_then(|f| f.on_duplicate.as_ref()))
                .map(|o| o.get_ref().clone())
                .unwrap_or(Outcome {
                    status: 409,
                    code: None,
                });
            Err(ctx.outcome(&o, Some("an object with this key exists")))
        }
        Some(k) if ctx.fault(FaultId::ClientIdsHonoured) || from_path.is_some() || client_key => {
            Ok(k)
        }
        _ => {
            let n = table.next_int();
            if let (Some(o), Some(kf)) = (item.as_object_mut(), keys.first()) {
                o.insert(kf.clone(), ctx.api.numbered_key(collection, kf, n));
            }
            Ok(Key::Int(n))
        }
    }
}

/// Change the record the path (or the item's key) names: the item replaces it, or merges
/// into it for a partial update; keys and server-assigned fields keep their stored values.
fn update(ctx: &Ctx, collection: &str, mut items: Vec<Row>) -> Response<Body> {
    let table = &ctx.api.tables[collection];
    let Some(item) = items.pop() else {
        return ctx.reject("empty body");
    };
    let (key, from_path) = match path_key(ctx) {
        Some(k) => (named_record(ctx, collection).unwrap_or(k), true),
        None => match table.key_of(&item) {
            Some(k) => (k, false),
            None => return ctx.reject("no key given"),
        },
    };
    let Some(old) = table.get(&key) else {
        return if from_path {
            ctx.not_found()
        } else {
            ctx.reject("no such object")
        };
    };
    let partial =
        ctx.op.request.as_ref().and_then(|r| r.completeness) == Some(Completeness::Partial);
    let mut new = if partial {
        old.to_value()
    } else {
        Value::Object(Map::new())
    };
    if let Some(n) = new.as_object_mut() {
        for (k, v) in item.fields() {
            let v = match (ctx.fault(FaultId::UpdateAppends), old.field(k), v) {
                // The fault: lists and text grow instead of being replaced.
                (true, Some(Value::Array(a)), Value::Array(b)) => {
                    Value::Array(a.iter().chain(b).cloned().collect())
                }
                (true, Some(Value::String(a)), Value::String(b)) => {
                    Value::String(format!("{a}{b}"))
                }
                _ => v.clone(),
            };
            n.insert(k.to_string(), v);
        }
        // Keys and server-assigned fields keep their stored values.
        if let Some(s) = ctx.api.collection_schema(collection) {
            for f in s.field.iter().filter(|f| f.server_assigned || f.key) {
                match old.field(f.name.get_ref()) {
                    Some(v) => n.insert(f.name.get_ref().clone(), v.clone()),
                    None => n.remove(f.name.get_ref()),
                };
            }
            // A field sent empty keeps its stored value where the schema says so.
            for f in s.field.iter().filter(|f| f.keep_if_empty) {
                let name = f.name.get_ref();
                let empty = n
                    .get(name)
                    .is_some_and(|v| v.is_null() || v.as_str().is_some_and(str::is_empty));
                if let (true, Some(v)) = (empty, old.field(name)) {
                    n.insert(name.clone(), v.clone());
                }
            }
            let (was, sent) = (old.to_value(), item.to_value());
            if let Err(e) = records::merge_keyed_lists(ctx.spec(), s, &was, &sent, partial, n) {
                return ctx.reject(&e);
            }
        }
    }
    if let Some(s) = ctx.api.collection_schema(collection) {
        if unique_conflict(ctx, collection, s, &new, Some(&key)).is_some() {
            return ctx.reject("another object already has this value");
        }
    }
    if let Some(r) = dangling(ctx, collection, &new) {
        return r;
    }
    let echo = documented_data(ctx).map(|_| {
        let name = table.key_fields().first().cloned().unwrap_or_default();
        let shown = new.get(&name).cloned().unwrap_or_else(|| key.to_value());
        (name, shown)
    });
    if ctx.fault(FaultId::UpdateNotKept) {
        // The fault: the success is answered, the change is dropped.
        return write_ok(ctx, echo);
    }
    let row = table.row(new);
    table.update(|rows| rows.insert(key, row));
    write_ok(ctx, echo)
}

/// The one field the response's schema documents as the answer's data (sipXconfig's
/// `<data><id>` of the object created or affected), if it documents exactly one.
fn documented_data(ctx: &Ctx) -> Option<String> {
    ctx.response_schema()
        .filter(|s| s.field.len() == 1)
        .map(|s| s.field[0].name.get_ref().clone())
}

/// Each item with its key, in order; an item without one refuses the request.
fn keyed(ctx: &Ctx, table: &Table, items: Vec<Row>) -> Result<Vec<(Key, Row)>, Response<Body>> {
    let mut keyed = Vec::with_capacity(items.len());
    for (i, it) in items.into_iter().enumerate() {
        match table.key_of(&it) {
            Some(k) => keyed.push((k, it)),
            None => return Err(ctx.reject(&format!("item {}: no key", i + 1))),
        }
    }
    Ok(keyed)
}

/// Store every item: an update merges into the stored row; a new key is stored as sent.
fn upsert(ctx: &Ctx, table: &Table, items: Vec<Row>) -> Response<Body> {
    if items.is_empty() {
        return ctx.reject("no items");
    }
    let keyed = match keyed(ctx, table, items) {
        Ok(k) => k,
        Err(r) => return r,
    };
    table.update(|rows| {
        for (k, it) in keyed {
            let merged = match rows.get(&k) {
                Some(old) => old.merged(&it),
                None => it,
            };
            rows.insert(k, merged);
        }
    });
    write_ok(ctx, None)
}

/// Remove the records the path names, or those the items name by key; all of them exist
/// and none is still referenced, or nothing is removed.
fn delete(ctx: &Ctx, collection: &str, items: &[Row]) -> Response<Body> {
    let table = &ctx.api.tables[collection];
    let targets: Vec<Key> = match path_sel(ctx, collection) {
        Some(Sel::Key(k)) => vec![k],
        Some(sel) => table
            .snapshot()
            .iter()
            .filter(|(k, r)| sel_matches(&sel, k, r))
            .map(|(k, _)| k.clone())
            .collect(),
        None => items.iter().filter_map(|it| table.key_of(it)).collect(),
    };
    let from_path = path_key(ctx).is_some();
    if targets.is_empty() {
        return if from_path {
            ctx.not_found()
        } else {
            ctx.reject("no key given")
        };
    }
    for k in &targets {
        if table.get(k).is_none() {
            return if from_path {
                ctx.not_found()
            } else {
                ctx.reject("no such object")
            };
        }
        if let Some(r) = referenced(ctx, collection, k) {
            return r;
        }
    }
    table.update(|rows| {
        for k in &targets {
            rows.remove(k);
        }
    });
    write_ok(ctx, None)
}

/// Swap the whole table for the items.
fn replace(ctx: &Ctx, table: &Table, items: Vec<Row>) -> Response<Body> {
    let keyed = match keyed(ctx, table, items) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let mut rows = Rows::new();
    for (k, it) in keyed {
        rows.insert(k, it);
    }
    table.replace(rows);
    write_ok(ctx, None)
}

fn write_ok(ctx: &Ctx, created: Option<(String, Value)>) -> Response<Body> {
    let mut o = ctx.success();
    if ctx.fault(FaultId::SwappedResultCode) && ctx.op.effect == Some(Effect::Update) {
        // Answer with the create operation's success outcome of the same collection.
        let coll = ctx.ep.collection.as_ref().map(|c| c.get_ref());
        if let Some(create) = ctx
            .spec()
            .endpoints()
            .filter(|e| e.collection.as_ref().map(|c| c.get_ref()) == coll)
            .flat_map(|e| e.op.iter())
            .find(|op| op.effect == Some(Effect::Create))
        {
            if let Some(s) = &create.success {
                o = s.get_ref().clone();
            }
        }
    }
    // A device that answers a create with the new key alone.
    if let (Some(r), Some((_, k))) = (ctx.op.response.as_ref().filter(|r| r.key_body), &created) {
        let text = match k {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let ct = r.content_types.first().map_or("text/plain", String::as_str);
        return render::raw(o.status, Some(ct), text.into_bytes());
    }
    let env = ctx.envelope();
    // The new key goes under its own name, unless the response's schema documents the
    // data with one other field (sipXconfig's `<data><id>` for a permission's name).
    let listed = documented_data(ctx);
    let data = created.map(|(f, k)| {
        let mut m = Map::new();
        let name = match listed {
            Some(l) if l != f => l,
            _ if f.is_empty() => "id".into(),
            _ => f,
        };
        m.insert(name, k);
        Value::Object(m)
    });
    render::outcome(ctx.spec(), &o, env, None, data)
}

fn unique_conflict(
    ctx: &Ctx,
    collection: &str,
    schema: &Schema,
    item: &Value,
    except: Option<&Key>,
) -> Option<Response<Body>> {
    let table = &ctx.api.tables[collection];
    let keys = ctx.api.key_fields(collection);
    for f in schema.field.iter().filter(|f| f.unique) {
        let Some(v) = item.get(f.name.get_ref()).and_then(scalar_text) else {
            continue;
        };
        let rows = table.snapshot();
        let clash = rows.iter().any(|(k, r)| {
            Some(k) != except
                && Key::of_row(r, keys).as_ref() != except
                && r.field(f.name.get_ref()).and_then(scalar_text).as_deref() == Some(v.as_str())
        });
        if clash {
            let o = f.duplicate_outcome();
            return Some(ctx.outcome(
                &o,
                Some(&format!("`{}` is already in use", f.name.get_ref())),
            ));
        }
    }
    None
}

fn dangling(ctx: &Ctx, collection: &str, item: &Value) -> Option<Response<Body>> {
    for r in ctx.spec().references() {
        if r.from.get_ref() != collection {
            continue;
        }
        let Some(o) = &r.on_dangling else { continue };
        let Some(v) = item.get(&r.field).and_then(scalar_text) else {
            continue;
        };
        let target = ctx.api.tables.get(r.to.get_ref())?;
        if target.get(&Key::parse(&v)).is_none() {
            let o = if ctx.op.effect == Some(Effect::Update) {
                ctx.op
                    .request
                    .as_ref()
                    .and_then(|q| q.reject.as_ref())
                    .map(|x| x.get_ref().clone())
                    .unwrap_or(o.get_ref().clone())
            } else {
                o.get_ref().clone()
            };
            return Some(ctx.outcome(&o, Some(&format!("`{}` names no existing object", r.field))));
        }
    }
    None
}

fn referenced(ctx: &Ctx, collection: &str, key: &Key) -> Option<Response<Body>> {
    if ctx.fault(FaultId::DeleteReferenced) {
        return None;
    }
    let want = key.to_string();
    for r in ctx.spec().references() {
        if r.to.get_ref() != collection {
            continue;
        }
        let Some(o) = &r.on_delete else { continue };
        let Some(from) = ctx.api.tables.get(r.from.get_ref()) else {
            continue;
        };
        let rows = from.snapshot();
        if rows
            .values()
            .any(|row| row.field(&r.field).and_then(scalar_text).as_deref() == Some(want.as_str()))
        {
            return Some(ctx.outcome(o.get_ref(), Some("the object is still referenced")));
        }
    }
    None
}
