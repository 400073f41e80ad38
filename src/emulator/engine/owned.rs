//! Endpoints that act on the caller's own records (`owned`, sipXconfig's `/my/...`): the
//! collection's `owner` field says whose each record is. Lists keep the caller's records,
//! a path naming another account's record answers the endpoint's `others` outcome, a new
//! record belongs to its creator, and without a path key the caller's one record is what
//! a read answers and a write changes.

use axum::body::Body;
use axum::http::Response;
use serde_json::{Map, Value};

use super::auth::{credentials, Caller};
use super::ctx::{Ctx, Parsed};
use super::list::render_one;
use crate::codec;
use crate::emulator::render::{self, Fmt};
use crate::emulator::store::{scalar_text, Fields, Key, Row, Table};
use crate::spec::model::{Effect, Owner};

/// The collection's owner rule, when the endpoint is `owned`.
fn owner<'a>(ctx: &'a Ctx, collection: &str) -> Option<&'a Owner> {
    ctx.ep.owned.as_ref()?;
    ctx.spec().collection(collection)?.owner.as_ref()
}

/// The field naming a record's owner, when the endpoint is `owned`.
pub(super) fn owner_field<'a>(ctx: &'a Ctx, collection: &str) -> Option<&'a str> {
    owner(ctx, collection).map(|o| o.field.as_str())
}

/// What the owner field of the caller's records holds: the account's user name, or the
/// key of its record in the `via` collection.
fn caller_value(ctx: &Ctx, o: &Owner) -> Option<Value> {
    let Caller::Role(i) = credentials(ctx.api, ctx.headers, &ctx.emu.faults) else {
        return None;
    };
    let user = ctx.api.accounts.get(i)?.user.clone();
    let Some(via) = &o.via else {
        return Some(Value::String(user));
    };
    let by = o.by.as_deref().unwrap_or("username");
    let table = ctx.api.tables.get(via)?;
    let rows = table.snapshot();
    let (k, _) = rows
        .iter()
        .find(|(_, r)| r.field(by).and_then(scalar_text).as_deref() == Some(user.as_str()))?;
    Some(k.to_value())
}

/// [`caller_value`], and its text (empty for no account: it owns nothing).
fn caller(ctx: &Ctx, o: &Owner) -> (String, Value) {
    let v = caller_value(ctx, o).unwrap_or(Value::Null);
    (scalar_text(&v).unwrap_or_default(), v)
}

/// Whether `row` belongs to the caller (`want` from [`caller_value`]).
fn holds(o: &Owner, row: &Row, want: &str) -> bool {
    row.field(&o.field).and_then(scalar_text).as_deref() == Some(want)
}

/// The caller's rows of `rows`, for lists; `None` when the endpoint is not `owned`.
pub(super) fn keep(ctx: &Ctx, collection: &str, rows: &mut Vec<Row>) -> Option<()> {
    let o = owner(ctx, collection)?;
    let (want, _) = caller(ctx, o);
    rows.retain(|r| holds(o, r, &want));
    Some(())
}

/// The path parameter naming the record: `owned.param`, else the last (none when an
/// operation of the endpoint assigns a path value).
fn named<'a>(ctx: &'a Ctx) -> Option<&'a str> {
    let p = ctx.ep.owned.as_ref()?.param.as_deref();
    match p {
        Some(p) => ctx.param(p),
        // Path values an operation assigns name no record: the caller's is meant.
        None if ctx.ep.op.iter().any(|o| o.assign.is_some()) => None,
        None => ctx.params.last().map(|(_, v)| v.as_str()),
    }
}

/// The caller's one record (its key and row), for an endpoint without a path key.
fn own_row(ctx: &Ctx, collection: &str, o: &Owner, want: &str) -> Option<(Key, Row)> {
    let rows = ctx.api.tables.get(collection)?.snapshot();
    rows.iter()
        .find(|(_, r)| holds(o, r, want))
        .map(|(k, r)| (k.clone(), r.clone()))
}

/// The request before its effect: an answer when it names another account's record (or,
/// without a path key, the caller has no record to read); else the body, the owner
/// filled in and (without a path key) the caller's record named.
pub(super) fn before(
    ctx: &Ctx,
    collection: &str,
    effect: Effect,
    parsed: Parsed,
    fmt: &Option<(Fmt, String)>,
) -> Result<Parsed, Response<Body>> {
    let Some(o) = owner(ctx, collection) else {
        return Ok(parsed);
    };
    let (want, value) = caller(ctx, o);
    let table = &ctx.api.tables[collection];
    if ctx.op.assign.is_some() {
        return Err(assign(ctx, collection, o, &want));
    }
    if let Some(v) = named(ctx) {
        let row = table.get(&Key::parse(v)).or_else(|| {
            // The name may be another field than the key (a conference's name).
            let rows = table.snapshot();
            rows.values()
                .find(|r| {
                    r.fields()
                        .any(|(_, x)| scalar_text(x).as_deref() == Some(v))
                })
                .cloned()
        });
        return match row {
            Some(r) if !holds(o, &r, &want) => Err(others(ctx)),
            Some(r) if effect == Effect::Get => {
                Err(empty_answer(ctx, &r).unwrap_or_else(|| render_own(ctx, o, &r, fmt)))
            }
            None if !matches!(effect, Effect::Create | Effect::Upsert) => Err(ctx.not_found()),
            _ => Ok(with_owner(table, o, &value, parsed)),
        };
    }
    // A collection keyed by its owner holds one record per account; others are lists.
    if table.key_fields() != std::slice::from_ref(&o.field) {
        return match parsed {
            Parsed::Items(items) => check_named(ctx, table, o, (&want, &value), items),
            p => Ok(p),
        };
    }
    let items = match parsed {
        Parsed::Items(items) => items,
        p => {
            return match (effect, own_row(ctx, collection, o, &want)) {
                (Effect::Get, Some((_, r))) => Err(render_own(ctx, o, &r, fmt)),
                (Effect::Get, None) => Err(ctx.not_found()),
                _ => Ok(p),
            }
        }
    };
    // The body is the caller's one record (a list under the request's wrapper: the
    // forwarding rings).
    let Some((_, mine)) = own_row(ctx, collection, o, &want) else {
        return Err(ctx.not_found());
    };
    let wrapper = ctx
        .op
        .request
        .as_ref()
        .filter(|r| r.many)
        .and_then(|r| r.wrapper.clone());
    let mut new = match wrapper {
        Some(w) => {
            let list = items.iter().map(Row::to_value).collect();
            let mut m = Map::new();
            m.insert(w, Value::Array(list));
            m
        }
        None => match items.into_iter().next().map(|r| r.to_value()) {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        },
    };
    for k in table.key_fields().iter().chain(std::iter::once(&o.field)) {
        if let Some(v) = mine.field(k) {
            new.insert(k.clone(), v.clone());
        }
    }
    Ok(Parsed::Items(vec![table.row(Value::Object(new))]))
}

/// A body naming records by their keys (a schedule): each must be the caller's, and what
/// it writes stays the caller's.
fn check_named(
    ctx: &Ctx,
    table: &Table,
    o: &Owner,
    (want, value): (&str, &Value),
    items: Vec<Row>,
) -> Result<Parsed, Response<Body>> {
    let theirs = items
        .iter()
        .filter_map(|it| table.key_of(it).and_then(|k| table.get(&k)))
        .any(|r| !holds(o, &r, want));
    if theirs {
        return Err(others(ctx));
    }
    Ok(with_owner(table, o, value, Parsed::Items(items)))
}

/// Items of a write, the caller's whatever they say (the device takes the owner from the
/// session, not the body).
fn with_owner(table: &Table, o: &Owner, owner: &Value, p: Parsed) -> Parsed {
    match p {
        Parsed::Items(items) => Parsed::Items(
            items
                .into_iter()
                .map(|it| {
                    let mut v = it.to_value();
                    if let Some(m) = v.as_object_mut() {
                        m.insert(o.field.clone(), owner.clone());
                    }
                    table.row(v)
                })
                .collect(),
        ),
        p => p,
    }
}

/// Another account's record: the endpoint's `others` outcome, else "not found".
fn others(ctx: &Ctx) -> Response<Body> {
    match ctx.ep.owned.as_ref().and_then(|o| o.others.as_ref()) {
        Some(out) => ctx.outcome(out, Some("the object belongs to another user")),
        None => ctx.not_found(),
    }
}

/// The caller's record as a read answers it: without the owner field unless the response
/// documents it, and a list under the response's wrapper as that list.
fn render_own(ctx: &Ctx, o: &Owner, row: &Row, fmt: &Option<(Fmt, String)>) -> Response<Body> {
    let resp = ctx.op.response.as_ref();
    let schema = ctx.response_schema();
    let documented =
        |n: &str| schema.is_some_and(|s| s.field.iter().any(|f| f.name.get_ref() == n));
    let mut v = row.to_value();
    if let (Some(m), Some(s)) = (v.as_object_mut(), schema) {
        // Only what the response documents (a conference's details, not its access code).
        let wrapper = resp.filter(|r| r.many).and_then(|r| r.wrapper.as_deref());
        if !s.field.is_empty() && wrapper.is_none() {
            m.retain(|k, _| documented(k));
        }
    }
    if let Some(m) = v.as_object_mut() {
        if !documented(&o.field) {
            m.remove(&o.field);
        }
    }
    let wrapper = resp.filter(|r| r.many).and_then(|r| r.wrapper.clone());
    let Some(w) = wrapper else {
        return render_one(ctx, &v, fmt.clone());
    };
    let list = v.get(&w).cloned().unwrap_or(Value::Array(vec![]));
    let (f, ct) = fmt
        .clone()
        .unwrap_or((Fmt::Json, "application/json".into()));
    let status = ctx.success().status;
    let body = match f {
        Fmt::Xml => {
            let item = render::item_name(schema);
            codec::to_xml(&w, &serde_json::json!({ item: list })).into_bytes()
        }
        _ => serde_json::to_vec(&serde_json::json!({ w: list })).unwrap_or_default(),
    };
    render::raw(status, Some(&ct), body)
}

/// `assign`: set one field of the caller's record (or the one `owned.param` names, which
/// must be the caller's) from the path.
fn assign(ctx: &Ctx, collection: &str, o: &Owner, want: &str) -> Response<Body> {
    let Some(a) = ctx.op.assign.as_ref() else {
        return ctx.outcome(&ctx.success(), None);
    };
    let table = &ctx.api.tables[collection];
    let named = ctx.ep.owned.as_ref().and_then(|w| w.param.as_deref());
    let target = match named.and_then(|p| ctx.param(p)) {
        Some(v) => match table.get(&Key::parse(v)) {
            Some(r) if holds(o, &r, want) => table.key_of(&r).map(|k| (k, r)),
            Some(_) => return others(ctx),
            None => return ctx.not_found(),
        },
        None => own_row(ctx, collection, o, want),
    };
    let Some((key, row)) = target else {
        return ctx.not_found();
    };
    let value = match (&a.value, &a.map) {
        (toml::Value::String(t), Some(map)) => {
            let text = render::fill(t, &|n| ctx.param(n).map(str::to_string));
            // A command's name, before its `&` arguments, picks the value.
            let name = text.split('&').next().unwrap_or_default();
            match map.get(name) {
                Some(v) => serde_json::to_value(v).unwrap_or(Value::Null),
                None => return ctx.outcome(&ctx.success(), None),
            }
        }
        (toml::Value::String(t), None) => {
            let text = render::fill(t, &|n| ctx.param(n).map(str::to_string));
            // A flag or a number stays one (`showContactsOnPhone/false`).
            match row.field(&a.field) {
                Some(Value::Bool(_) | Value::Number(_)) => {
                    serde_json::from_str(&text).unwrap_or(Value::String(text))
                }
                _ => Value::String(text),
            }
        }
        (v, _) => serde_json::to_value(v).unwrap_or(Value::Null),
    };
    let mut new = row.to_value();
    if let Some(m) = new.as_object_mut() {
        m.insert(a.field.clone(), value);
    }
    let new = table.row(new);
    table.update(|rows| rows.insert(key, new));
    ctx.outcome(&ctx.success(), None)
}

/// The fields of the caller's record in the response's `caller_fields` collection, added
/// to a list answer's metadata (its owner field left out).
pub(super) fn caller_fields(ctx: &Ctx, meta: &mut Map<String, Value>) {
    let Some(c) = ctx
        .op
        .response
        .as_ref()
        .and_then(|r| r.caller_fields.as_deref())
    else {
        return;
    };
    let Some(o) = ctx.spec().collection(c).and_then(|x| x.owner.as_ref()) else {
        return;
    };
    let (want, _) = caller(ctx, o);
    if let Some((_, row)) = own_row(ctx, c, o, &want) {
        for (k, v) in row.fields().filter(|(k, _)| *k != o.field) {
            meta.insert(k.to_string(), v.clone());
        }
    }
}

/// `when_empty`: the answer to reading a record whose named field is empty.
pub(super) fn empty_answer(ctx: &Ctx, row: &Row) -> Option<Response<Body>> {
    let w = ctx.op.when_empty.as_ref()?;
    let empty = match row.field(&w.field) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(m)) => m.is_empty(),
        Some(_) => false,
    };
    empty.then(|| ctx.outcome(&w.outcome, Some(&format!("`{}` is empty", w.field))))
}
