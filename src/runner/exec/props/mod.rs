//! The property tests. Values come from `crate::props::strategy` and a runner seeded by
//! the run's seed and the test id (`Ctx::case_runner`); a failing case is shrunk by
//! proptest's value tree, and the message names the case and seed that reproduce it.
//!
//! This file holds the properties over a collection's lifecycle (a generated valid
//! record reads back as sent; a deleted record is gone with the API's own "not found")
//! and the record helpers the stateful test shares; `writes` holds the properties of
//! invalid and repeated writes, `responses` the one over arbitrary requests.

use std::collections::HashSet;

use proptest::strategy::{Strategy, ValueTree};
use serde_json::{Map, Value};

use super::bodies::records;
use super::{caller_role, describe, either, success_outcomes, Ctx, Judgement, Step};
use crate::contract::Control;
use crate::runner::outcome::{self, find_object, text_of};
use crate::runner::Verdict;
use crate::sample;
use crate::spec::model::*;

mod responses;
mod writes;

/// What one create-and-read-back round found.
enum Created {
    /// The record as read back.
    Found(Map<String, Value>),
    /// A real target's first page did not show it; nothing to compare.
    NotShown,
    /// An invariant broke.
    Broken(Judgement),
}

impl<'a> Ctx<'a> {
    /// The endpoint an operation belongs to.
    fn endpoint_of(&self, op: &Operation) -> Option<&'a Endpoint> {
        self.spec
            .endpoints()
            .find(|ep| ep.op.iter().any(|o| std::ptr::eq(o, op)))
    }

    /// The fields a generated record varies: not assigned by the server, not a pointer to
    /// another record, not named by the create's URL.
    pub(super) fn generated_fields(&self, op: &'a Operation) -> Step<Vec<&'a Field>> {
        let schema = self.request_schema(op)?;
        let ep = self.endpoint_of(op);
        let collection = ep
            .and_then(|ep| ep.collection.as_ref())
            .map(|c| c.get_ref().clone());
        let referencing: Vec<String> = self
            .spec
            .references()
            .filter(|r| Some(r.from.get_ref()) == collection.as_ref())
            .map(|r| r.field.clone())
            .collect();
        let in_path: Vec<String> = ep
            .map(|ep| crate::spec::template_params(&self.spec.full_path(ep)).unwrap_or_default())
            .unwrap_or_default();
        Ok(schema
            .field
            .iter()
            .filter(|f| {
                !f.server_assigned
                    && !referencing.contains(f.name.get_ref())
                    && !in_path.contains(f.name.get_ref())
            })
            .collect())
    }

    /// On the emulator, empty the collection so a read-back shows only what the test makes.
    pub(super) async fn empty_collection(&mut self, c: &Collection) -> Step<()> {
        if !self.s.emulator() {
            return Ok(());
        }
        let api = self.t.entry.api.clone();
        self.control(
            Control::LoadRows {
                api: &api,
                collection: c.name.get_ref(),
            },
            Some(b"[]".to_vec()),
        )
        .await?;
        self.dirty = true;
        Ok(())
    }

    /// The key tuples on the collection's first page.
    async fn listed_keys(&mut self, c: &Collection) -> Step<HashSet<Vec<String>>> {
        Ok(match self.read_back().await? {
            Some(r) => self.key_tuples(c, &r).unwrap_or_default(),
            None => HashSet::new(),
        })
    }

    /// Create a record from the sample with `edits` applied through `create` (the entry's
    /// operation or the collection's create), then find it on the read-back.
    async fn create_and_find(
        &mut self,
        create: &'a Operation,
        c: &'a Collection,
        edits: &[(String, Value)],
    ) -> Step<(Created, Map<String, Value>)> {
        let before = if self.s.emulator() {
            self.empty_collection(c).await?;
            HashSet::new()
        } else {
            self.listed_keys(c).await?
        };
        let schema = self.request_schema(create)?;
        let mut obj = sample::object(self.spec, schema);
        for (k, v) in edits {
            obj.insert(k.clone(), v.clone());
        }
        self.mark_own(schema, &mut obj);
        let sent = obj.clone();
        let (ct, body) = sample::encode_object(self.spec, create, obj)
            .ok_or_else(|| Judgement::skip("the create takes no schema-shaped body"))?;
        let target = self.creator_target(create)?;
        let role = caller_role(self.spec, create);
        let req = self
            .request(create.method.get_ref(), &target, &role)?
            .body(&ct, body);
        let resp = self.send(&req).await?;
        if !self.succeeded(create, &resp) {
            return Ok((
                Created::Broken(Judgement::fail(
                    format!(
                        "a valid create was refused; values: {}",
                        serde_json::to_string(&Value::Object(edits.iter().cloned().collect()))
                            .unwrap_or_default()
                    ),
                    either(&success_outcomes(create)),
                    describe(&resp),
                )),
                sent,
            ));
        }
        let Some(back) = self.read_back().await? else {
            return Ok((Created::NotShown, sent));
        };
        let keys = self.spec.collection_keys(c);
        let tree = match outcome::parse(&back) {
            Ok(t) => t,
            Err(why) => {
                return Ok((
                    Created::Broken(Judgement::fail(
                        format!("the read-back does not parse: {why}"),
                        "a structured list",
                        describe(&back),
                    )),
                    sent,
                ))
            }
        };
        let mut found = Vec::new();
        records(&tree, &keys, &mut found);
        let new: Vec<Map<String, Value>> = found
            .into_iter()
            .filter(|r| {
                let k: Vec<String> = keys.iter().map(|k| text_of(&r[k])).collect();
                !before.contains(&k)
            })
            .cloned()
            .collect();
        match new.len() {
            1 => {
                let rec = new.into_iter().next().expect("one");
                if !self.s.emulator() {
                    self.undo_create(c, &rec);
                }
                Ok((Created::Found(rec), sent))
            }
            0 if !self.s.emulator() || self.reader_filters(c) => Ok((Created::NotShown, sent)),
            n => Ok((
                Created::Broken(Judgement::fail(
                    format!("one accepted create added {n} records to the collection"),
                    "1 new record on the read-back",
                    format!("{n} new records: {}", describe(&back)),
                )),
                sent,
            )),
        }
    }

    /// The URL a create is sent to (the runner's own name when the URL names the record).
    fn creator_target(&self, create: &Operation) -> Step<String> {
        let own = self.op()?;
        if std::ptr::eq(own, create) {
            return self.op_target(create);
        }
        let ep = self
            .spec
            .endpoints()
            .find(|ep| ep.op.iter().any(|o| std::ptr::eq(o, create)))
            .ok_or_else(|| Judgement::error("the create belongs to no endpoint"))?;
        Ok(sample::target(self.spec, ep, create))
    }

    /// Compare what was sent with what was read back (scalars the server does not assign).
    fn compare_record(
        &self,
        c: &Collection,
        sent: &Map<String, Value>,
        got: &Map<String, Value>,
    ) -> Option<Judgement> {
        let assigned = self.spec.server_assigned(c);
        for (k, v) in sent {
            if assigned.contains(k.as_str()) || v.is_object() || v.is_array() || v.is_null() {
                continue;
            }
            match got.get(k) {
                Some(g) if text_of(g) == text_of(v) => {}
                Some(g) => {
                    return Some(Judgement::fail(
                        format!("`{k}` reads back different from what was created"),
                        format!("{k} = {}", text_of(v)),
                        format!("{k} = {}", text_of(g)),
                    ))
                }
                None => {
                    return Some(Judgement::fail(
                        format!("`{k}` was created but the read-back lacks it"),
                        format!("{k} = {}", text_of(v)),
                        "no such field".to_string(),
                    ))
                }
            }
        }
        None
    }

    /// Property: a record created from generated valid values reads back as sent, apart
    /// from the fields the server assigns.
    pub(super) async fn property_create_read(&mut self) -> Step<Judgement> {
        let op = self.op()?;
        let c = self
            .collection()
            .ok_or_else(|| Judgement::skip("the operation has no collection"))?;
        if self.reader(c.name.get_ref()).is_none() {
            return Err(Judgement::skip(
                "the collection has no read to check against",
            ));
        }
        let fields = self.generated_fields(op)?;
        if fields.is_empty() {
            return Err(Judgement::skip(
                "no field of the record is the client's to choose",
            ));
        }
        let names: Vec<String> = fields.iter().map(|f| f.name.get_ref().clone()).collect();
        let strategies: Vec<_> = fields
            .iter()
            .map(|f| crate::props::strategy::valid(self.spec, f))
            .collect();
        let seed = self.seed();
        let mut runner = self.case_runner(21);
        let mut ran = 0;
        let mut shown = 0;
        let deadline = self.s.property_deadline();
        for case in 0..self.cases() as usize {
            if self.out_of_time(case, deadline) {
                break;
            }
            ran += 1;
            let mut tree = strategies
                .new_tree(&mut runner)
                .map_err(|r| Judgement::error(format!("generating values: {r}")))?;
            let edits: Vec<(String, Value)> = names.iter().cloned().zip(tree.current()).collect();
            let Some(first) = self.create_read_case(op, c, &edits, &mut shown).await? else {
                continue;
            };
            // Shrink to the simplest values that still fail.
            let mut best = (edits, first);
            let mut steps = 0;
            if tree.simplify() {
                while steps < 48 {
                    steps += 1;
                    let edits: Vec<(String, Value)> =
                        names.iter().cloned().zip(tree.current()).collect();
                    match self.create_read_case(op, c, &edits, &mut shown).await? {
                        Some(o) => {
                            best = (edits, o);
                            if !tree.simplify() {
                                break;
                            }
                        }
                        None => {
                            if !tree.complicate() {
                                break;
                            }
                        }
                    }
                }
            }
            let (edits, mut o) = best;
            // The evidence is one replay of the shrunk case, not every attempt.
            let mark = self.exchanges.len();
            if let Some(again) = self.create_read_case(op, c, &edits, &mut shown).await? {
                self.exchanges.drain(..mark);
                o = again;
            }
            o.message = Some(format!(
                "{} (case {} of seed {seed}, shrunk in {steps} steps to {}; `--seed {seed}` reproduces it)",
                o.message.clone().unwrap_or_default(),
                case + 1,
                serde_json::to_string(&Value::Object(edits.into_iter().collect()))
                    .unwrap_or_default()
            ));
            return Ok(o);
        }
        if shown == 0 {
            return Err(Judgement::skip(format!(
                "none of the {ran} created records was on the read-back (a filtered query, or beyond its first page): nothing to compare"
            )));
        }
        let mut o = Judgement::pass();
        if shown < ran {
            o.note = Some(format!(
                "{} of {ran} created records were not on the read-back's first page; only the others were compared",
                ran - shown
            ));
        }
        Ok(o)
    }

    async fn create_read_case(
        &mut self,
        op: &'a Operation,
        c: &'a Collection,
        edits: &[(String, Value)],
        shown: &mut usize,
    ) -> Step<Option<Judgement>> {
        let (created, sent) = self.create_and_find(op, c, edits).await?;
        match created {
            Created::Broken(o) => Ok(Some(o)),
            Created::NotShown => Ok(None),
            Created::Found(rec) => {
                *shown += 1;
                Ok(self.compare_record(c, &sent, &rec))
            }
        }
    }

    /// Whether the collection's read-back is a query with a required filter of its own
    /// (ROME's `queryString`): a new record need not match it.
    pub(super) fn reader_filters(&self, c: &Collection) -> bool {
        self.reader(c.name.get_ref()).is_some_and(|(_, op)| {
            op.effect == Some(Effect::Query)
                && op
                    .query
                    .iter()
                    .any(|(name, p)| p.spec().required && Some(name) != c.scope_param.as_ref())
        })
    }

    /// The collection's create operation, if the API has one.
    fn creator(&self, c: &Collection) -> Option<&'a Operation> {
        self.spec
            .endpoints()
            .filter(|ep| ep.collection.as_ref().map(|x| x.get_ref()) == Some(c.name.get_ref()))
            .flat_map(|ep| ep.op.iter())
            .find(|o| o.effect == Some(Effect::Create) && o.request.is_some())
    }

    /// The outcomes a read of a record that does not exist may have: the read's own 404
    /// code, its documented non-success answers (a "no data" result code), and the matrix's
    /// not-found rule.
    fn not_found_outcomes(&self, read: &Operation) -> Vec<Outcome> {
        let mut v: Vec<Outcome> = read
            .codes
            .iter()
            .filter_map(|c| self.spec.code(c.get_ref()))
            .filter(|c| c.status == 404)
            .map(|c| Outcome {
                status: 404,
                code: Some(c.id.get_ref().clone()),
            })
            .collect();
        let success = read.success_outcome();
        v.extend(
            read.accept
                .iter()
                .map(|a| a.get_ref().clone())
                .filter(|a| *a != success),
        );
        let nf = read
            .not_found
            .as_ref()
            .unwrap_or(&self.spec.matrix().not_found);
        v.push(nf.expect.get_ref().clone());
        v.extend(nf.accept.iter().map(|a| a.get_ref().clone()));
        v.dedup();
        v
    }

    /// A read of one record by its key: a `get` on the record's URL, or a query whose
    /// parameter is a key field. `None` when the API has neither.
    fn read_one(
        &self,
        c: &Collection,
        rec: &Map<String, Value>,
    ) -> Option<(String, &'a Operation)> {
        let keys = self.spec.collection_keys(c);
        for ep in self.spec.endpoints() {
            if ep.collection.as_ref().map(|x| x.get_ref()) != Some(c.name.get_ref()) {
                continue;
            }
            for op in &ep.op {
                if op.method.get_ref() != "GET" {
                    continue;
                }
                if op.effect == Some(Effect::Get) {
                    let mut path = self.spec.full_path(ep);
                    let params = crate::spec::template_params(&path).unwrap_or_default();
                    for (i, p) in params.iter().enumerate() {
                        let v = rec
                            .get(p)
                            .or_else(|| keys.get(i).and_then(|k| rec.get(k)))
                            .map(text_of)?;
                        path = path.replace(&format!("{{{p}}}"), &sample::encode(&v));
                    }
                    return Some((path, op));
                }
                if op.effect == Some(Effect::Query) {
                    if let Some(k) = keys.iter().find(|k| op.query.contains_key(k.as_str())) {
                        let v = rec.get(k).map(text_of)?;
                        let base = sample::target(self.spec, ep, op);
                        let sep = if base.contains('?') { '&' } else { '?' };
                        return Some((
                            format!("{base}{sep}{}={}", sample::encode(k), sample::encode(&v)),
                            op,
                        ));
                    }
                }
            }
        }
        None
    }

    /// Property: after a delete the record is gone: the list no longer holds it, and a
    /// read of it answers the API's own "not found" (or, for a query, holds no record).
    pub(super) async fn property_delete_gone(&mut self) -> Step<Judgement> {
        self.op()?;
        let c = self
            .collection()
            .ok_or_else(|| Judgement::skip("the operation has no collection"))?;
        if self.reader(c.name.get_ref()).is_none() {
            return Err(Judgement::skip(
                "the collection has no read to check against",
            ));
        }
        let creator = self.creator(c);
        if creator.is_none() && !self.s.emulator() {
            return Err(Judgement::skip(
                "the API cannot create a record here, and dialtone deletes only its own",
            ));
        }
        // Generated values for the records to delete, when they can be created.
        let gen = match creator {
            Some(cr) => {
                let fields = self.generated_fields(cr)?;
                Some((
                    fields
                        .iter()
                        .map(|f| f.name.get_ref().clone())
                        .collect::<Vec<_>>(),
                    fields
                        .iter()
                        .map(|f| crate::props::strategy::valid(self.spec, f))
                        .collect::<Vec<_>>(),
                ))
            }
            None => None,
        };
        let mut runner = self.case_runner(31);
        let keys = self.spec.collection_keys(c);
        if keys.is_empty() {
            return Err(Judgement::skip(
                "the collection has no key to find a record by",
            ));
        }
        let deadline = self.s.property_deadline();
        for case in 0..self.cases() as usize {
            if self.out_of_time(case, deadline) {
                break;
            }
            // A record to delete: created from generated values, or (emulator, no create)
            // one of a few generated rows.
            let rec = match (&creator, &gen) {
                (Some(cr), Some((names, strats))) => {
                    let tree = strats
                        .new_tree(&mut runner)
                        .map_err(|r| Judgement::error(format!("generating values: {r}")))?;
                    let edits: Vec<(String, Value)> =
                        names.iter().cloned().zip(tree.current()).collect();
                    match self.create_and_find(cr, c, &edits).await?.0 {
                        Created::Found(r) => r,
                        Created::NotShown => continue,
                        Created::Broken(o) => {
                            return Ok(Judgement {
                                verdict: Verdict::Error,
                                message: Some(format!(
                                    "could not create a record to delete: {}",
                                    o.message.unwrap_or_default()
                                )),
                                ..o
                            })
                        }
                    }
                }
                _ => self.generated_record(c, &keys, case).await?,
            };
            if let Some(o) = self.delete_and_check_gone(c, &keys, &rec, case).await? {
                return Ok(o);
            }
        }
        Ok(Judgement::pass())
    }

    /// On the emulator, a record to delete when the API cannot create one: row `case`
    /// (modulo their number) of a few generated ones, as listed.
    async fn generated_record(
        &mut self,
        c: &Collection,
        keys: &[String],
        case: usize,
    ) -> Step<Map<String, Value>> {
        let api = self.t.entry.api.clone();
        self.control(
            Control::Generate {
                api: &api,
                collection: c.name.get_ref(),
                count: Some(3),
            },
            None,
        )
        .await?;
        self.dirty = true;
        let Some(back) = self.read_back().await? else {
            return Err(Judgement::skip("no read-back"));
        };
        let tree = outcome::parse(&back).map_err(Judgement::error)?;
        let mut found = Vec::new();
        records(&tree, keys, &mut found);
        match found.get(case % found.len().max(1)) {
            Some(r) => Ok((*r).clone()),
            None => Err(Judgement::skip(
                "the emulator's generated rows are outside the scope the list reads (scope parameter)",
            )),
        }
    }

    /// Delete `rec` (case `case`, 0-based), then check it is gone from the list and that a
    /// read of it says so; `Some(failure)` when not.
    async fn delete_and_check_gone(
        &mut self,
        c: &Collection,
        keys: &[String],
        rec: &Map<String, Value>,
        case: usize,
    ) -> Step<Option<Judgement>> {
        let expect = self.t.entry.expect.clone();
        let seed = self.seed();
        let ident: Vec<(String, String)> = keys
            .iter()
            .filter_map(|k| rec.get(k).map(|v| (k.clone(), text_of(v))))
            .collect();
        let Some(del) = self.delete_request(c, rec) else {
            return Err(Judgement::skip(
                "the record's key does not fill the delete's URL",
            ));
        };
        let resp = self.send(&del).await?;
        if !self.answers_one_of(&expect, &resp) {
            return Ok(Some(Judgement::fail(
                format!(
                    "deleting a record that exists was refused (case {} of seed {seed})",
                    case + 1
                ),
                either(&expect),
                describe(&resp),
            )));
        }
        // Gone from the list.
        if let Some(back) = self.read_back().await? {
            if let Ok(tree) = outcome::parse(&back) {
                if find_object(&tree, &ident).is_some() {
                    return Ok(Some(Judgement::fail(
                        format!(
                            "the deleted record {ident:?} is still listed (case {} of seed {seed})",
                            case + 1
                        ),
                        "no such record on the read-back".to_string(),
                        describe(&back),
                    )));
                }
            }
        }
        // A read of it answers "not found".
        let Some((target, read)) = self.read_one(c, rec) else {
            return Ok(None);
        };
        let role = caller_role(self.spec, read);
        let mut req = self.with_body(self.request("GET", &target, &role)?, None);
        if let Some(a) = Self::accept_for(Some(read)) {
            req = req.header("Accept", &a);
        }
        let resp = self.send(&req).await?;
        let mut nf = self.not_found_outcomes(read);
        if read.effect == Some(Effect::Query) {
            // A query that matches nothing may also answer its plain success.
            nf.insert(0, read.success_outcome());
        }
        let says_not_found = self.answers_one_of(&nf, &resp);
        let holds_it = resp.status < 300
            && outcome::parse(&resp)
                .ok()
                .is_some_and(|t| find_object(&t, &ident).is_some());
        if !says_not_found || holds_it {
            return Ok(Some(Judgement::fail(
                format!(
                    "a read of the deleted record {ident:?} does not say it is gone (case {} of seed {seed})",
                    case + 1
                ),
                either(&nf),
                describe(&resp),
            )));
        }
        Ok(None)
    }
}
