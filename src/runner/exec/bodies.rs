//! Request bodies and the records they create: a body missing a required field, a full
//! body that must read back as sent, an unknown field that must not be stored, and the
//! helpers these share with the property tests (the runner's own marks on what it
//! creates, read-backs, key tuples, and the requests that delete a created record).

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{caller_role, describe, Ctx, Judgement, Step};
use crate::runner::http::{Req, Resp};
use crate::runner::outcome::{self, find_object, text_of};
use crate::runner::Verdict;
use crate::sample;
use crate::spec::model::*;

impl<'a> Ctx<'a> {
    pub(super) fn op_target(&self, op: &Operation) -> Step<String> {
        let (Some(ep), _) = self.endpoint_op() else {
            return Err(Judgement::error("the entry names no endpoint"));
        };
        if op.effect != Some(Effect::Create) {
            return Ok(sample::target(self.spec, ep, op));
        }
        // A create that names its new record in the URL names one of the runner's own.
        let prefix = self.s.opts.prefix.clone();
        let text_param = |name: &str| {
            ep.params
                .get(name)
                .is_none_or(|p| p.spec().ty == FieldType::String)
        };
        Ok(sample::target_with(self.spec, ep, op, &|name, v| {
            if text_param(name) && !v.starts_with(&prefix) {
                format!("{prefix}{v}")
            } else {
                v
            }
        }))
    }

    /// The sample object for `op`'s schema, edited, encoded as the op takes it.
    pub(super) fn object_body(
        &self,
        op: &Operation,
        edit: impl FnOnce(&mut Map<String, Value>),
    ) -> Step<(String, Vec<u8>)> {
        let schema = op
            .request
            .as_ref()
            .and_then(|r| r.schema.as_ref())
            .and_then(|s| self.spec.schema(s.get_ref()))
            .ok_or_else(|| Judgement::skip("the operation's body has no schema"))?;
        let mut obj = sample::object(self.spec, schema);
        if op.effect == Some(Effect::Create) {
            self.mark_own(schema, &mut obj);
        }
        edit(&mut obj);
        sample::encode_object(self.spec, op, obj)
            .ok_or_else(|| Judgement::skip("the operation takes no schema-shaped body"))
    }

    /// Give the unique and key text fields of an object the runner creates its prefix, so
    /// it never collides with (or is mistaken for) an object it did not create.
    /// On a real target, an object whose schema has no such field (server-assigned ids
    /// only) gets the prefix in its first free text field (required ones first) instead.
    pub(super) fn mark_own(&self, schema: &Schema, obj: &mut Map<String, Value>) {
        let prefix = &self.s.opts.prefix;
        let mark = |f: &Field, obj: &mut Map<String, Value>| -> bool {
            let Some(Value::String(v)) = obj.get_mut(f.name.get_ref()) else {
                return false;
            };
            if !v.starts_with(prefix.as_str()) {
                let mut marked = format!("{prefix}{v}");
                if let Some(max) = f.max_len {
                    marked = marked.chars().take(max as usize).collect();
                }
                *v = marked;
            }
            true
        };
        let mut marked = false;
        for f in &schema.field {
            if !(f.key || f.unique) || f.server_assigned || f.ty != FieldType::String {
                continue;
            }
            marked |= mark(f, obj);
        }
        if marked || self.s.emulator() {
            return;
        }
        let free = |f: &&Field| {
            f.ty == FieldType::String && !f.server_assigned && f.enum_values.is_empty()
        };
        let mut text: Vec<&Field> = schema.field.iter().filter(free).collect();
        text.sort_by_key(|f| !f.required);
        for f in text {
            if mark(f, obj) {
                break;
            }
        }
    }

    /// On a real target, queue the deletion of a record the test created (identified by
    /// the collection's key, read back from the target).
    pub(super) fn undo_create(&mut self, collection: &Collection, found: &Map<String, Value>) {
        if self.s.emulator() {
            return;
        }
        if let Some(req) = self.delete_request(collection, found) {
            self.undo.push(req);
        }
    }

    /// The request that deletes `found` (a record of `collection`, identified by its key).
    pub(super) fn delete_request(
        &self,
        collection: &Collection,
        found: &Map<String, Value>,
    ) -> Option<Req> {
        let (dep, dop) = self.deleter(collection.name.get_ref())?;
        let key = self.spec.collection_keys(collection);
        let kv: Vec<(String, String)> = key
            .iter()
            .filter_map(|k| found.get(k).map(|v| (k.clone(), text_of(v))))
            .collect();
        if kv.is_empty() || kv.len() != key.len() {
            return None;
        }
        let scalars: Map<String, Value> = found
            .iter()
            .filter(|(_, v)| !v.is_object() && !v.is_array())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.record_request(dep, dop, &kv, &scalars).ok()
    }

    /// A request of `op` on `ep` for the record whose key fields have the values `kv`:
    /// path parameters from the key (by name, else by position) and the sample's required
    /// query (a scope); the body, if the operation takes one, is the sample overlaid with
    /// `fields` and the key. With no `kv`, the URL is the sample's (a create).
    pub(super) fn record_request(
        &self,
        ep: &Endpoint,
        op: &'a Operation,
        kv: &[(String, String)],
        fields: &Map<String, Value>,
    ) -> Step<Req> {
        let sample_target = sample::target(self.spec, ep, op);
        let mut path = self.spec.full_path(ep);
        let params = crate::spec::template_params(&path).unwrap_or_default();
        if params.is_empty() || !kv.is_empty() {
            for (i, p) in params.iter().enumerate() {
                let v = kv
                    .iter()
                    .find(|(k, _)| k == p)
                    .or(kv.get(i))
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| Judgement::skip("the record's key does not fill the URL"))?;
                path = path.replace(&format!("{{{p}}}"), &sample::encode(&v));
            }
            if let Some((_, q)) = sample_target.split_once('?') {
                path = format!("{path}?{q}");
            }
        } else {
            path = sample_target;
        }
        let req = self.request(op.method.get_ref(), &path, &caller_role(self.spec, op))?;
        let takes_body = op
            .request
            .as_ref()
            .is_some_and(|r| !r.empty && r.schema.is_some());
        if !takes_body {
            return Ok(self.with_body(req, None));
        }
        let schema = self.request_schema(op)?;
        let mut obj = sample::object(self.spec, schema);
        for (k, v) in fields {
            obj.insert(k.clone(), v.clone());
        }
        for (k, v) in kv {
            if !fields.contains_key(k) && schema.field.iter().any(|f| f.name.get_ref() == k) {
                obj.insert(k.clone(), Value::String(v.clone()));
            }
        }
        let body = sample::encode_object(self.spec, op, obj)
            .ok_or_else(|| Judgement::skip("the operation takes no schema-shaped body"))?;
        Ok(self.with_body(req, Some(body)))
    }

    /// The key values of every record a read-back of `collection` shows.
    pub(super) fn key_tuples(
        &self,
        collection: &Collection,
        resp: &Resp,
    ) -> Option<HashSet<Vec<String>>> {
        let keys = self.spec.collection_keys(collection);
        if keys.is_empty() {
            return None;
        }
        let tree = outcome::parse(resp).ok()?;
        let mut out = Vec::new();
        records(&tree, &keys, &mut out);
        Some(
            out.iter()
                .map(|o| keys.iter().map(|k| text_of(&o[k])).collect())
                .collect(),
        )
    }

    /// The list operation of the endpoint's collection: (path, op).
    pub(super) fn reader(&self, collection: &str) -> Option<(String, &'a Operation)> {
        self.spec
            .endpoints()
            .find_map(|ep| {
                if ep.collection.as_ref().map(|c| c.get_ref().as_str()) != Some(collection) {
                    return None;
                }
                ep.op
                    .iter()
                    .find(|o| o.effect == Some(Effect::List) && o.method.get_ref() == "GET")
                    .map(|o| (sample::target(self.spec, ep, o), o))
            })
            .or_else(|| {
                // No listing: a query with only its required parameters.
                self.spec.endpoints().find_map(|ep| {
                    if ep.collection.as_ref().map(|c| c.get_ref().as_str()) != Some(collection) {
                        return None;
                    }
                    ep.op
                        .iter()
                        .find(|o| o.effect == Some(Effect::Query) && o.method.get_ref() == "GET")
                        .map(|o| (sample::target(self.spec, ep, o), o))
                })
            })
    }

    /// Read the collection back (first page), as its lowest allowed role.
    pub(super) async fn read_back(&mut self) -> Step<Option<Resp>> {
        let Some(c) = self.collection() else {
            return Ok(None);
        };
        let Some((target, op)) = self.reader(c.name.get_ref()) else {
            return Ok(None);
        };
        let role = caller_role(self.spec, op);
        let mut req = self.with_body(self.request("GET", &target, &role)?, None);
        if let Some(a) = Self::accept_for(Some(op)) {
            req = req.header("Accept", &a);
        }
        let was = self.dirty;
        let r = self.send(&req).await?;
        self.dirty = was;
        Ok(Some(r))
    }

    pub(super) async fn omit(&mut self) -> Step<Judgement> {
        let e = self.t.entry.clone();
        let op = self.op()?;
        self.real_target_write(op)?;
        let field = e.field.clone().unwrap_or_default();
        let (ct, body) = self.object_body(op, |o| {
            o.remove(&field);
        })?;
        let before = self.read_back().await?;
        let resp = self.send_to_op(op, &ct, body).await?;
        let o = self.judge(&resp, &e.expect);
        if o.verdict != Verdict::Pass {
            return Ok(o);
        }
        let after = self.read_back().await?;
        if let (Some(b), Some(a)) = (before, after) {
            if b.status != a.status || b.body != a.body {
                return Ok(Judgement::fail(
                    "the rejected request changed the collection",
                    format!("read-back unchanged ({})", describe(&b)),
                    format!("read-back now {}", describe(&a)),
                ));
            }
        }
        Ok(o)
    }

    /// A create or update with every field: accepted, it must not overwrite the record
    /// whose server-assigned ids the body carries, and the record reads back as sent.
    pub(super) async fn full(&mut self) -> Step<Judgement> {
        let e = self.t.entry.clone();
        let op = self.op()?;
        self.real_target_write(op)?;
        let mut sent = Map::new();
        let (ct, body) = self.object_body(op, |o| sent = o.clone())?;
        let before = self.before_create(op, &sent).await?;
        let resp = self.send_to_op(op, &ct, body).await?;
        let o = self.judge(&resp, &e.expect);
        let undone = resp.status < 300 && self.undo_added(op, &sent, before.keys.as_ref()).await?;
        if o.verdict != Verdict::Pass || resp.status >= 300 {
            return Ok(o);
        }
        if let Some(existing) = &before.existing {
            if let Some(f) = self.overwritten(existing, &before.assigned_ident).await? {
                return Ok(f);
            }
        }
        self.reads_back_as_sent(op, &sent, o, undone).await
    }

    /// What the full-body check reads before its request.
    async fn before_create(
        &mut self,
        op: &Operation,
        sent: &Map<String, Value>,
    ) -> Step<BeforeCreate> {
        // A create that carries server-assigned ids (the sample does) must not touch the
        // record that already has them: remember it to compare afterwards.
        let assigned_ident: Vec<(String, String)> = self
            .collection()
            .and_then(|c| self.spec.schema(c.schema.get_ref()))
            .map(|s| {
                s.field
                    .iter()
                    .filter(|f| f.server_assigned && f.key)
                    .filter_map(|f| {
                        sent.get(f.name.get_ref())
                            .map(|v| (f.name.get_ref().clone(), text_of(v)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let existing = if op.effect == Some(Effect::Create) && !assigned_ident.is_empty() {
            self.read_back()
                .await?
                .and_then(|r| outcome::parse(&r).ok())
                .and_then(|t| find_object(&t, &assigned_ident).cloned())
        } else {
            None
        };
        // On a real target, the keys the collection holds before the create: the record the
        // create adds is the one with a new key, which is how it is found for deletion when
        // the client chooses none of its identifying fields (server-assigned ids).
        let keys = match self.collection() {
            Some(c) if !self.s.emulator() && op.effect == Some(Effect::Create) => {
                match self.read_back().await? {
                    Some(r) => self.key_tuples(c, &r),
                    None => None,
                }
            }
            _ => None,
        };
        Ok(BeforeCreate {
            assigned_ident,
            existing,
            keys,
        })
    }

    /// After an accepted write, queue the deletion of what it added on a real target: the
    /// records with a key the collection lacked before (`keys_before`), or, with no such
    /// read-back, the record whose whole key the client chose. Whether one was queued.
    async fn undo_added(
        &mut self,
        op: &Operation,
        sent: &Map<String, Value>,
        keys_before: Option<&HashSet<Vec<String>>>,
    ) -> Step<bool> {
        let Some(c) = self.collection() else {
            return Ok(false);
        };
        let mut undone = false;
        let keys = self.spec.collection_keys(c);
        if let Some(before) = keys_before {
            if let Some(tree) = self
                .read_back()
                .await?
                .and_then(|r| outcome::parse(&r).ok())
            {
                let mut found = Vec::new();
                records(&tree, &keys, &mut found);
                for rec in found {
                    let k: Vec<String> = keys.iter().map(|k| text_of(&rec[k])).collect();
                    if !before.contains(&k) {
                        let rec = rec.clone();
                        self.undo_create(c, &rec);
                        undone = true;
                    }
                }
            }
            return Ok(undone);
        }
        // No read-back to find it by, but the client chose its whole key: delete it by that.
        let assigned = |k: &String| {
            self.spec.schema(c.schema.get_ref()).is_some_and(|s| {
                s.field
                    .iter()
                    .any(|f| f.name.get_ref() == k && f.server_assigned)
            })
        };
        if !self.s.emulator()
            && op.effect == Some(Effect::Create)
            && !keys.is_empty()
            && keys.iter().all(|k| sent.contains_key(k) && !assigned(k))
        {
            self.undo_create(c, sent);
            undone = true;
        }
        Ok(undone)
    }

    /// The finding when the record that had the server-assigned ids `ident` (`before`) is
    /// gone or changed after the create.
    async fn overwritten(
        &mut self,
        before: &Map<String, Value>,
        ident: &[(String, String)],
    ) -> Step<Option<Judgement>> {
        let after = self
            .read_back()
            .await?
            .and_then(|r| outcome::parse(&r).ok())
            .and_then(|t| find_object(&t, ident).cloned());
        let changed = match &after {
            None => true,
            Some(a) => before.iter().any(|(k, v)| {
                !v.is_object() && !v.is_array() && a.get(k).map(text_of) != Some(text_of(v))
            }),
        };
        if !changed {
            return Ok(None);
        }
        Ok(Some(Judgement::fail(
            "the create used the id the client sent and overwrote the record that had it",
            format!("record {ident:?} unchanged"),
            match after {
                Some(a) => serde_json::to_string(&a).unwrap_or_default(),
                None => "gone".into(),
            },
        )))
    }

    /// After an accepted create, update or upsert: the record, found on the read-back by
    /// its unique and key fields, holds what was sent (`o` when it does, or when there is
    /// nothing to compare). Queues its deletion unless `undone`.
    async fn reads_back_as_sent(
        &mut self,
        op: &Operation,
        sent: &Map<String, Value>,
        o: Judgement,
        undone: bool,
    ) -> Step<Judgement> {
        let Some(c) = self.collection() else {
            return Ok(o);
        };
        if !matches!(
            op.effect,
            Some(Effect::Create | Effect::Update | Effect::Upsert)
        ) {
            return Ok(o);
        }
        let Some(back) = self.read_back().await? else {
            return Ok(o);
        };
        let Ok(tree) = outcome::parse(&back) else {
            return Ok(o);
        };
        let schema = self.spec.schema(c.schema.get_ref());
        let assigned = self.spec.server_assigned(c);
        // Identify the record by the scalar fields that are unique or part of the key.
        let ident: Vec<(String, String)> = schema
            .map(|s| {
                s.field
                    .iter()
                    .filter(|f| (f.key || f.unique) && !f.server_assigned)
                    .filter_map(|f| {
                        sent.get(f.name.get_ref())
                            .map(|v| (f.name.get_ref().clone(), text_of(v)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if ident.is_empty() {
            return Ok(o);
        }
        let Some(found) = find_object(&tree, &ident) else {
            // The first page may not hold it; only a missing record on a complete read is a
            // finding, and the read is one page.
            return Ok(Judgement {
                note: Some("the record was not on the first page of the read-back".into()),
                ..o
            });
        };
        let found = found.clone();
        if !undone {
            self.undo_create(c, &found);
        }
        for (k, v) in sent {
            if assigned.contains(k.as_str()) || v.is_object() || v.is_array() {
                continue;
            }
            if let Some(got) = found.get(k) {
                if text_of(got) != text_of(v) {
                    return Ok(Judgement::fail(
                        format!("`{k}` reads back different from what was sent"),
                        format!("{k} = {}", text_of(v)),
                        format!("{k} = {}", text_of(got)),
                    ));
                }
            }
        }
        Ok(o)
    }

    pub(super) async fn unknown_field(&mut self) -> Step<Judgement> {
        const FIELD: &str = "dialtoneUnknownField";
        let e = self.t.entry.clone();
        let op = self.op()?;
        self.real_target_write(op)?;
        let (ct, body) = self.object_body(op, |o| {
            o.insert(FIELD.into(), Value::String("dialtone".into()));
        })?;
        let resp = self.send_to_op(op, &ct, body).await?;
        let o = self.judge(&resp, &e.expect);
        if o.verdict != Verdict::Pass || resp.status >= 300 {
            return Ok(o);
        }
        if let Some(back) = self.read_back().await? {
            if back.text().contains(FIELD) {
                return Ok(Judgement::fail(
                    "a field the schema does not list was stored",
                    format!("no `{FIELD}` on read-back"),
                    describe(&back),
                ));
            }
        }
        Ok(o)
    }
}

/// What the full-body check reads before its request.
struct BeforeCreate {
    /// The server-assigned key fields the body carries (the sample fills them in).
    assigned_ident: Vec<(String, String)>,
    /// The record that already has those ids.
    existing: Option<Map<String, Value>>,
    /// On a real target, before a create: the key tuples of the collection's first page.
    keys: Option<HashSet<Vec<String>>>,
}

/// The objects in `v` (at any depth) that carry every field of `keys` as a scalar; the
/// objects inside one are not searched.
pub(super) fn records<'v>(v: &'v Value, keys: &[String], out: &mut Vec<&'v Map<String, Value>>) {
    match v {
        Value::Object(o) => {
            if keys
                .iter()
                .all(|k| o.get(k).is_some_and(|x| !x.is_object() && !x.is_array()))
            {
                out.push(o);
            } else {
                o.values().for_each(|x| records(x, keys, out));
            }
        }
        Value::Array(a) => a.iter().for_each(|x| records(x, keys, out)),
        _ => {}
    }
}
