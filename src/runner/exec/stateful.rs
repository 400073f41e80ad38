//! Stateful, model-based testing of a collection: generated sequences of creates,
//! updates, deletes, deletes of what is already gone, replaces and lists, each answer
//! compared with what a model of the collection (derived from the spec: keys, unique
//! fields, server-assigned fields, upsert or create) predicts, and the list compared with
//! the model after every step. A failing sequence is shrunk by proptest to a minimal one.
//!
//! On the emulator every sequence starts from an empty collection (emptied through the
//! control interface). On a real target (with `--allow write`) it starts from "no records
//! of dialtone's own" and touches only the records it creates (`stateful_own`).

use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use serde_json::{Map, Value};

use super::bodies::records;
use super::stateful_own::Own;
use super::{caller_role, describe, Ctx, Judgement, Step};
use crate::runner::http::Req;
use crate::runner::outcome::{self, text_of};
use crate::sample;
use crate::spec::model::*;
use crate::spec::Spec;

/// One generated command.
#[derive(Debug, Clone)]
enum Cmd {
    Create(Vec<Value>),
    Update(usize, Vec<Value>),
    Delete(usize),
    /// Delete a record that an earlier step deleted (or, with none, one never created).
    DeleteGone(usize),
    Replace(Vec<Vec<Value>>),
    List,
}

/// The operations a collection offers, and the fields generated values go to.
pub(super) struct Ops<'a> {
    pub create: Option<(&'a Endpoint, &'a Operation)>,
    update: Option<(&'a Endpoint, &'a Operation)>,
    pub delete: Option<(&'a Endpoint, &'a Operation)>,
    pub replace: Option<(&'a Endpoint, &'a Operation)>,
    /// Fields a create sets (not server-assigned, not references, not the scope).
    pub create_fields: Vec<&'a Field>,
    /// Fields an update may change (also not key or unique).
    pub free_fields: Vec<&'a Field>,
    pub keys: Vec<String>,
    /// Key fields the server assigns.
    pub assigned_key: bool,
    /// On a real target: the fields a create marks with the prefix.
    pub marks: Vec<String>,
    /// On a real target: what the running sequence knows of others' records and its own.
    pub own: std::cell::RefCell<Own>,
}

/// What the model holds for one record: the key (once known) and what was sent.
#[derive(Debug, Clone)]
pub(super) struct Rec {
    pub key: Vec<String>,
    pub fields: Map<String, Value>,
}

/// What one command of a sequence did.
enum Applied {
    /// It was sent, and the answer agrees with the model.
    Sent,
    /// It had nothing to act on and was not sent.
    NotSent,
    /// The answer disagrees with the model.
    Broke(Judgement),
}

impl<'a> Ctx<'a> {
    fn stateful_ops(&self, c: &'a Collection) -> Step<Ops<'a>> {
        let mut ops = Ops {
            create: None,
            update: None,
            delete: None,
            replace: None,
            create_fields: vec![],
            free_fields: vec![],
            keys: self.spec.collection_keys(c),
            assigned_key: false,
            marks: vec![],
            own: Default::default(),
        };
        for ep in self.spec.endpoints() {
            if ep.collection.as_ref().map(|x| x.get_ref()) != Some(c.name.get_ref()) {
                continue;
            }
            for op in &ep.op {
                let has_schema = op
                    .request
                    .as_ref()
                    .is_some_and(|r| !r.empty && r.schema.is_some());
                match op.effect {
                    Some(Effect::Create | Effect::Upsert) if ops.create.is_none() && has_schema => {
                        ops.create = Some((ep, op))
                    }
                    Some(Effect::Update) if ops.update.is_none() && has_schema => {
                        ops.update = Some((ep, op))
                    }
                    Some(Effect::Delete) if ops.delete.is_none() => ops.delete = Some((ep, op)),
                    Some(Effect::Replace) if ops.replace.is_none() && has_schema => {
                        ops.replace = Some((ep, op))
                    }
                    _ => {}
                }
            }
        }
        let Some((_, create)) = ops.create else {
            return Err(Judgement::skip("the collection has no create or upsert"));
        };
        if ops.update.is_none() && ops.delete.is_none() {
            return Err(Judgement::skip("the collection has no update or delete"));
        }
        if ops.keys.is_empty() {
            return Err(Judgement::skip("the collection has no key"));
        }
        let schema = self.request_schema(create)?;
        let scope = c.scope_param.clone();
        let mut fields = self.generated_fields(create)?;
        fields.retain(|f| Some(f.name.get_ref()) != scope.as_ref());
        ops.assigned_key = schema
            .field
            .iter()
            .any(|f| f.server_assigned && ops.keys.contains(f.name.get_ref()));
        ops.free_fields = fields
            .iter()
            .filter(|f| !f.key && !f.unique && !ops.keys.contains(f.name.get_ref()))
            .copied()
            .collect();
        ops.create_fields = fields;
        if ops.create_fields.is_empty() {
            return Err(Judgement::skip(
                "no field of the record is the client's to choose",
            ));
        }
        if !self.s.emulator() {
            self.device_ops(&mut ops, c)?;
        }
        Ok(ops)
    }

    /// Property: generated command sequences against the collection agree with its model.
    pub(super) async fn property_stateful(&mut self) -> Step<Judgement> {
        let c = self
            .collection()
            .ok_or_else(|| Judgement::skip("the endpoint has no collection"))?;
        if self.reader(c.name.get_ref()).is_none() {
            return Err(Judgement::skip(
                "the collection has no list to compare with",
            ));
        }
        if self.reader_filters(c) {
            return Err(Judgement::skip(
                "the collection is read only through a query with a required filter, which new records need not match",
            ));
        }
        let ops = self.stateful_ops(c)?;
        let cmd = command_strategy(self.spec, &ops);
        let seqs = proptest::collection::vec(cmd, 1..8);
        let seed = self.seed();
        let mut runner = self.case_runner(51);
        let deadline = self.s.property_deadline();
        for case in 0..self.cases() as usize {
            if self.out_of_time(case, deadline) {
                break;
            }
            let mut tree = seqs
                .new_tree(&mut runner)
                .map_err(|r| Judgement::error(format!("generating a sequence: {r}")))?;
            let Some(first) = self.run_sequence(c, &ops, &tree.current()).await? else {
                continue;
            };
            let mut best = (tree.current(), first);
            let mut steps = 0;
            if tree.simplify() {
                while steps < 96 {
                    steps += 1;
                    let seq = tree.current();
                    match self.run_sequence(c, &ops, &seq).await? {
                        Some(o) => {
                            best = (seq, o);
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
            let (seq, mut o) = best;
            let mark = self.exchanges.len();
            if let Some(again) = self.run_sequence(c, &ops, &seq).await? {
                self.exchanges.drain(..mark);
                o = again;
            }
            o.message = Some(format!(
                "{} — minimal sequence of {} step(s): {} (case {} of seed {seed}, shrunk in {steps} steps; `--seed {seed}` reproduces it)",
                o.message.clone().unwrap_or_default(),
                seq.len(),
                describe_seq(&ops, &seq),
                case + 1
            ));
            return Ok(o);
        }
        Ok(Judgement::pass())
    }

    /// Run one sequence from an empty collection (on a real target: from no records of
    /// its own, deleting what it created afterwards); `Some(failure)` at the first step
    /// whose answer or list disagrees with the model.
    async fn run_sequence(
        &mut self,
        c: &'a Collection,
        ops: &Ops<'a>,
        seq: &[Cmd],
    ) -> Step<Option<Judgement>> {
        if self.s.emulator() {
            self.empty_collection(c).await?;
            return self.run_steps(c, ops, seq, &mut Vec::new()).await;
        }
        self.own_start(c, ops).await?;
        let mut model: Vec<Rec> = Vec::new();
        let r = self.run_steps(c, ops, seq, &mut model).await;
        let tidy = self.own_tidy(c, ops, &model).await;
        match (r, tidy) {
            (Ok(Some(o)), _) => Ok(Some(o)),
            (Ok(None), t) => t.map(|_| None),
            (Err(o), _) => Err(o),
        }
    }

    /// The steps of one sequence, from the model `model` (empty).
    async fn run_steps(
        &mut self,
        c: &'a Collection,
        ops: &Ops<'a>,
        seq: &[Cmd],
        model: &mut Vec<Rec>,
    ) -> Step<Option<Judgement>> {
        let mut gone: Vec<Rec> = Vec::new();
        for (n, cmd) in seq.iter().enumerate() {
            let at = |o: Judgement| -> Option<Judgement> {
                Some(Judgement {
                    message: Some(format!(
                        "step {} ({}): {}",
                        n + 1,
                        describe_cmd(ops, cmd),
                        o.message.clone().unwrap_or_default()
                    )),
                    ..o
                })
            };
            let applied = match cmd {
                Cmd::List => Applied::Sent,
                Cmd::Create(vals) => self.apply_create(c, ops, vals, model).await?,
                Cmd::Update(i, vals) => self.apply_update(ops, *i, vals, model).await?,
                Cmd::Delete(i) => self.apply_delete(ops, *i, model, &mut gone).await?,
                Cmd::DeleteGone(i) => self.apply_delete_gone(c, ops, *i, model, &gone).await?,
                Cmd::Replace(rows) => self.apply_replace(ops, rows, model, &mut gone).await?,
            };
            match applied {
                Applied::Sent => {}
                Applied::NotSent => continue,
                Applied::Broke(o) => return Ok(at(o)),
            }
            if let Some(o) = self.compare_model(c, ops, model).await? {
                return Ok(at(o));
            }
        }
        Ok(None)
    }

    /// A create of a record with the values `vals`: accepted unless it clashes with a key
    /// or unique field the model holds (an upsert of a held key is accepted).
    async fn apply_create(
        &mut self,
        c: &Collection,
        ops: &Ops<'a>,
        vals: &[Value],
        model: &mut Vec<Rec>,
    ) -> Step<Applied> {
        let (ep, op) = ops.create.expect("planned with a create");
        let mut fields: Map<String, Value> = ops
            .create_fields
            .iter()
            .map(|f| f.name.get_ref().clone())
            .zip(vals.iter().cloned())
            .collect();
        let device = !self.s.emulator();
        if device {
            self.mark_create(ops, &mut fields);
        }
        let key: Option<Vec<String>> = (!ops.assigned_key)
            .then(|| {
                ops.keys
                    .iter()
                    .map(|k| fields.get(k).map(text_of))
                    .collect()
            })
            .flatten();
        if device && self.clashes_with_others(ops, key.as_ref(), &fields) {
            return Ok(Applied::NotSent);
        }
        let upsert = op.effect == Some(Effect::Upsert);
        let clash = model.iter().position(|r| {
            key.as_ref().is_some_and(|k| *k == r.key) || self.unique_clash(op, &r.fields, &fields)
        });
        let expect_ok = clash.is_none()
            || (upsert
                && key
                    .as_ref()
                    .is_some_and(|k| model.iter().any(|r| r.key == *k)));
        let req = self.record_request(ep, op, &[], &fields)?;
        let resp = self.send(&req).await?;
        let ok = self.succeeded(op, &resp);
        if device && ok {
            // Whatever an accepted create added is the sequence's, to delete at the end.
            let k = key.clone().map(|k| vec![k]);
            let added = match k {
                Some(k) => k,
                None => self.fresh_keys(c, ops, model).await?,
            };
            ops.own.borrow_mut().created.extend(added);
        }
        if ok != expect_ok {
            return Ok(Applied::Broke(Judgement::fail(
                if expect_ok {
                    "the model accepts this create, the target refused it"
                } else {
                    "the create clashes with a record the model holds, the target accepted it"
                },
                if expect_ok { "success" } else { "a refusal" },
                describe(&resp),
            )));
        }
        if ok {
            if let Some(i) = key
                .as_ref()
                .and_then(|k| model.iter().position(|r| r.key == *k))
            {
                model.remove(i);
            }
            let key = match key {
                Some(k) => k,
                None => match self.new_key(c, ops, model).await? {
                    Ok(k) => k,
                    Err(o) => return Ok(Applied::Broke(o)),
                },
            };
            model.push(Rec { key, fields });
        }
        Ok(Applied::Sent)
    }

    /// An update of record `i` (modulo the model's size) with the free fields `vals`.
    async fn apply_update(
        &mut self,
        ops: &Ops<'a>,
        i: usize,
        vals: &[Value],
        model: &mut [Rec],
    ) -> Step<Applied> {
        let (ep, op) = ops.update.expect("planned with an update");
        if model.is_empty() {
            return Ok(Applied::NotSent);
        }
        let i = i % model.len();
        let mut fields = model[i].fields.clone();
        for (f, v) in ops.free_fields.iter().zip(vals) {
            fields.insert(f.name.get_ref().clone(), v.clone());
        }
        let key = model[i].key.clone();
        let req = self.record_request(ep, op, &key_values(&ops.keys, &key), &fields)?;
        let resp = self.send(&req).await?;
        if !self.succeeded(op, &resp) {
            return Ok(Applied::Broke(Judgement::fail(
                "the model accepts this update of an existing record, the target refused it",
                "success",
                describe(&resp),
            )));
        }
        model[i].fields = fields;
        Ok(Applied::Sent)
    }

    /// A delete of record `i` (modulo the model's size), which moves it to `gone`.
    async fn apply_delete(
        &mut self,
        ops: &Ops<'a>,
        i: usize,
        model: &mut Vec<Rec>,
        gone: &mut Vec<Rec>,
    ) -> Step<Applied> {
        let (ep, op) = ops.delete.expect("planned with a delete");
        if model.is_empty() {
            return Ok(Applied::NotSent);
        }
        let rec = model.remove(i % model.len());
        let req = self.record_request(ep, op, &key_values(&ops.keys, &rec.key), &rec.fields)?;
        let resp = self.send(&req).await?;
        if !self.succeeded(op, &resp) {
            return Ok(Applied::Broke(Judgement::fail(
                "the model holds this record, the target refused to delete it",
                "success",
                describe(&resp),
            )));
        }
        gone.push(rec);
        Ok(Applied::Sent)
    }

    /// A delete of deleted record `i` (modulo the number gone): never a success.
    async fn apply_delete_gone(
        &mut self,
        c: &Collection,
        ops: &Ops<'a>,
        i: usize,
        model: &[Rec],
        gone: &[Rec],
    ) -> Step<Applied> {
        let (ep, op) = ops.delete.expect("planned with a delete");
        let Some(rec) = (!gone.is_empty()).then(|| gone[i % gone.len()].clone()) else {
            return Ok(Applied::NotSent);
        };
        // A key a later create reused is not gone.
        if model.iter().any(|r| r.key == rec.key) {
            return Ok(Applied::NotSent);
        }
        // On a real target, a server-assigned id may have gone to someone else's record.
        if !self.s.emulator()
            && ops.assigned_key
            && self
                .listed(c, ops, None)
                .await?
                .iter()
                .any(|(k, _)| *k == rec.key)
        {
            return Ok(Applied::NotSent);
        }
        let req = self.record_request(ep, op, &key_values(&ops.keys, &rec.key), &rec.fields)?;
        let resp = self.send(&req).await?;
        if resp.status >= 500 || self.succeeded_strictly(op, &resp) {
            return Ok(Applied::Broke(Judgement::fail(
                "deleting a record that is already gone did not answer not-found",
                "the API's not-found or a refusal",
                describe(&resp),
            )));
        }
        Ok(Applied::Sent)
    }

    /// A replace of the whole collection with records of the values `rows`; the records
    /// the model held move to `gone`.
    async fn apply_replace(
        &mut self,
        ops: &Ops<'a>,
        rows: &[Vec<Value>],
        model: &mut Vec<Rec>,
        gone: &mut Vec<Rec>,
    ) -> Step<Applied> {
        let (ep, op) = ops.replace.expect("planned with a replace");
        let objs: Vec<Map<String, Value>> = rows
            .iter()
            .map(|vals| {
                ops.create_fields
                    .iter()
                    .map(|f| f.name.get_ref().clone())
                    .zip(vals.iter().cloned())
                    .collect()
            })
            .collect();
        let keys: Vec<Vec<String>> = objs
            .iter()
            .map(|o| {
                ops.keys
                    .iter()
                    .map(|k| o.get(k).map(text_of).unwrap_or_default())
                    .collect()
            })
            .collect();
        // Two rows with one key: what a replace should do is not documented, so such a
        // replace is not sent.
        if (1..keys.len()).any(|i| keys[..i].contains(&keys[i])) {
            return Ok(Applied::NotSent);
        }
        let Some(req) = self.replace_request(ep, op, &objs)? else {
            return Ok(Applied::NotSent);
        };
        let resp = self.send(&req).await?;
        if !self.succeeded(op, &resp) {
            return Ok(Applied::Broke(Judgement::fail(
                "the model accepts this replace, the target refused it",
                "success",
                describe(&resp),
            )));
        }
        gone.append(model);
        *model = objs
            .into_iter()
            .zip(keys)
            .map(|(fields, key)| Rec { key, fields })
            .collect();
        Ok(Applied::Sent)
    }

    /// The operation's own success outcome (not its other accepted answers).
    fn succeeded_strictly(&self, op: &Operation, resp: &crate::runner::http::Resp) -> bool {
        outcome::matches(self.spec, &op.success_outcome(), resp).is_ok()
    }

    /// Whether `new` repeats a unique field of `old`.
    pub(super) fn unique_clash(
        &self,
        op: &Operation,
        old: &Map<String, Value>,
        new: &Map<String, Value>,
    ) -> bool {
        let Ok(schema) = self.request_schema(op) else {
            return false;
        };
        schema.field.iter().filter(|f| f.unique).any(|f| {
            let n = f.name.get_ref();
            matches!((old.get(n), new.get(n)), (Some(a), Some(b)) if text_of(a) == text_of(b))
        })
    }

    /// A replace carrying `objs` (each the sample overlaid with the object).
    fn replace_request(
        &self,
        ep: &Endpoint,
        op: &Operation,
        objs: &[Map<String, Value>],
    ) -> Step<Option<Req>> {
        let schema = self.request_schema(op)?;
        let items: Vec<Map<String, Value>> = objs
            .iter()
            .map(|o| {
                let mut obj = sample::object(self.spec, schema);
                for (k, v) in o {
                    obj.insert(k.clone(), v.clone());
                }
                obj
            })
            .collect();
        let Some(body) = sample::encode_objects(self.spec, op, items) else {
            return Ok(None);
        };
        let role = caller_role(self.spec, op);
        let req = self.request(
            op.method.get_ref(),
            &sample::target(self.spec, ep, op),
            &role,
        )?;
        Ok(Some(self.with_body(req, Some(body))))
    }

    /// The key of the record a create just added: the listed key the model lacks.
    async fn new_key(
        &mut self,
        c: &Collection,
        ops: &Ops<'a>,
        model: &[Rec],
    ) -> Step<Result<Vec<String>, Judgement>> {
        let listed = self.listed(c, ops, Some(false)).await?;
        let new: Vec<&Vec<String>> = listed
            .iter()
            .map(|(k, _)| k)
            .filter(|k| !model.iter().any(|r| r.key == **k))
            .collect();
        match new.as_slice() {
            [k] => Ok(Ok((*k).clone())),
            _ => Ok(Err(Judgement::fail(
                format!("an accepted create added {} records to the list", new.len()),
                "1 new record",
                format!("{} new records", new.len()),
            ))),
        }
    }

    /// On a real target, the keys of listed records of its own that neither the model nor
    /// the sequence's earlier creates hold: what an accepted create added.
    async fn fresh_keys(
        &mut self,
        c: &Collection,
        ops: &Ops<'a>,
        model: &[Rec],
    ) -> Step<Vec<Vec<String>>> {
        let listed = self.listed(c, ops, Some(true)).await?;
        let own = ops.own.borrow();
        Ok(listed
            .into_iter()
            .map(|(k, _)| k)
            .filter(|k| !own.created.contains(k) && !model.iter().any(|r| r.key == *k))
            .collect())
    }

    /// The listed records: key and fields. On a real target with `own` given, only the
    /// sequence's own records (`Ctx::is_own`, with `own` as its `fresh`).
    pub(super) async fn listed(
        &mut self,
        c: &Collection,
        ops: &Ops<'a>,
        own: Option<bool>,
    ) -> Step<Vec<(Vec<String>, Map<String, Value>)>> {
        let _ = c;
        let Some(back) = self.read_back().await? else {
            return Ok(vec![]);
        };
        let tree = outcome::parse(&back).map_err(|why| {
            Judgement::fail(
                format!("the list does not parse: {why}"),
                "a structured list",
                describe(&back),
            )
        })?;
        let mut found = Vec::new();
        records(&tree, &ops.keys, &mut found);
        let all = found.into_iter().map(|r| {
            let k: Vec<String> = ops.keys.iter().map(|k| text_of(&r[k])).collect();
            (k, r.clone())
        });
        Ok(match own {
            Some(fresh) if !self.s.emulator() => {
                all.filter(|(k, r)| self.is_own(ops, k, r, fresh)).collect()
            }
            _ => all.collect(),
        })
    }

    /// Compare the list with the model: the same keys, and every field the model knows
    /// reads back as sent.
    async fn compare_model(
        &mut self,
        c: &Collection,
        ops: &Ops<'a>,
        model: &[Rec],
    ) -> Step<Option<Judgement>> {
        let listed = match self.listed(c, ops, Some(false)).await {
            Ok(l) => l,
            Err(o) if o.verdict == crate::runner::Verdict::Fail => return Ok(Some(o)),
            Err(o) => return Err(o),
        };
        let mut want: Vec<&Vec<String>> = model.iter().map(|r| &r.key).collect();
        let mut got: Vec<&Vec<String>> = listed.iter().map(|(k, _)| k).collect();
        want.sort();
        got.sort();
        if want != got {
            return Ok(Some(Judgement::fail(
                "the list holds other records than the model",
                format!("keys {want:?}"),
                format!("keys {got:?}"),
            )));
        }
        let schema = self.spec.schema(c.schema.get_ref());
        for r in model {
            let (_, rec) = listed.iter().find(|(k, _)| *k == r.key).expect("same keys");
            for (k, v) in &r.fields {
                let assigned = schema.is_some_and(|s| {
                    s.field
                        .iter()
                        .any(|f| f.name.get_ref() == k && f.server_assigned)
                });
                if assigned || v.is_object() || v.is_array() || v.is_null() {
                    continue;
                }
                if let Some(g) = rec.get(k) {
                    if text_of(g) != text_of(v) {
                        return Ok(Some(Judgement::fail(
                            format!("record {:?}: `{k}` differs from the model", r.key),
                            format!("{k} = {}", text_of(v)),
                            format!("{k} = {}", text_of(g)),
                        )));
                    }
                }
            }
        }
        Ok(None)
    }
}

/// The commands a sequence is drawn from: creates (twice as often), lists, and the
/// updates, deletes and replaces the collection offers.
fn command_strategy(spec: &Spec, ops: &Ops<'_>) -> proptest::strategy::Union<BoxedStrategy<Cmd>> {
    let values = |fields: &[&Field]| -> BoxedStrategy<Vec<Value>> {
        fields
            .iter()
            .map(|f| crate::props::strategy::valid(spec, f))
            .collect::<Vec<_>>()
            .boxed()
    };
    let create_v = values(&ops.create_fields);
    let free_v = values(&ops.free_fields);
    let mut choices: Vec<BoxedStrategy<Cmd>> = vec![
        create_v.clone().prop_map(Cmd::Create).boxed(),
        create_v.clone().prop_map(Cmd::Create).boxed(),
        proptest::strategy::Just(Cmd::List).boxed(),
    ];
    if ops.update.is_some() && !ops.free_fields.is_empty() {
        choices.push(
            (0usize..8, free_v)
                .prop_map(|(i, v)| Cmd::Update(i, v))
                .boxed(),
        );
    }
    if ops.delete.is_some() {
        choices.push((0usize..8).prop_map(Cmd::Delete).boxed());
        choices.push((0usize..8).prop_map(Cmd::DeleteGone).boxed());
    }
    if ops.replace.is_some() {
        choices.push(
            proptest::collection::vec(create_v, 0..3)
                .prop_map(Cmd::Replace)
                .boxed(),
        );
    }
    proptest::strategy::Union::new(choices)
}

fn describe_cmd(ops: &Ops<'_>, cmd: &Cmd) -> String {
    let named = |fields: &[&Field], vals: &[Value]| {
        let m: Map<String, Value> = fields
            .iter()
            .map(|f| f.name.get_ref().clone())
            .zip(vals.iter().cloned())
            .collect();
        serde_json::to_string(&m).unwrap_or_default()
    };
    match cmd {
        Cmd::Create(v) => format!("create {}", named(&ops.create_fields, v)),
        Cmd::Update(i, v) => format!("update record #{i} with {}", named(&ops.free_fields, v)),
        Cmd::Delete(i) => format!("delete record #{i}"),
        Cmd::DeleteGone(i) => format!("delete deleted record #{i} again"),
        Cmd::Replace(rows) => format!("replace the collection with {} record(s)", rows.len()),
        Cmd::List => "list".into(),
    }
}

fn describe_seq(ops: &Ops<'_>, seq: &[Cmd]) -> String {
    seq.iter()
        .map(|c| describe_cmd(ops, c))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The key's fields paired with the record's key values.
fn key_values(keys: &[String], key: &[String]) -> Vec<(String, String)> {
    keys.iter().cloned().zip(key.iter().cloned()).collect()
}
