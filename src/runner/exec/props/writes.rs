//! Properties of writes with generated values: a value that breaks a field's constraint
//! is rejected and changes nothing, and the same valid update sent twice leaves the
//! state of the first.

use proptest::strategy::{Strategy, ValueTree};
use serde_json::Value;

use super::super::{describe, either, Ctx, Judgement, Step};
use crate::spec::model::*;

impl<'a> Ctx<'a> {
    /// Send the sample object with `field` set to `value`; `Ok(None)` when the answer is
    /// the documented rejection, `Ok(Some(actual))` when it is not.
    async fn try_invalid(
        &mut self,
        op: &Operation,
        field: &str,
        value: &Value,
    ) -> Step<Option<String>> {
        let e = self.t.entry.clone();
        let (name, v) = (field.to_string(), value.clone());
        let (ct, body) = self.object_body(op, move |o| {
            o.insert(name, v);
        })?;
        let resp = self.send_to_op(op, &ct, body).await?;
        let ok = self.answers_one_of(&e.expect, &resp);
        Ok((!ok).then(|| describe(&resp)))
    }

    /// Property: for `--cases` generated values, each breaking one documented constraint of
    /// one field, the operation answers its rejection, and the collection is unchanged at
    /// the end. A failing value is shrunk to the simplest one that still fails; the seed
    /// and case number in the message reproduce it (`--seed`).
    pub(in crate::runner::exec) async fn property_invalid(&mut self) -> Step<Judgement> {
        let e = self.t.entry.clone();
        let op = self.op()?;
        self.real_target_write(op)?;
        let schema = self.request_schema(op)?;
        let fields: Vec<&Field> = schema
            .field
            .iter()
            .filter(|f| !f.server_assigned && crate::props::strategy::invalid(f).is_some())
            .collect();
        if fields.is_empty() {
            return Err(Judgement::skip(
                "no field has a constraint a value can break",
            ));
        }
        let seed = self.seed();
        let mut runner = self.case_runner(0);
        let before = self.read_back().await?;
        let deadline = self.s.property_deadline();
        for case in 0..self.cases() as usize {
            if self.out_of_time(case, deadline) {
                break;
            }
            let f = fields[case % fields.len()];
            let strat = crate::props::strategy::invalid(f).expect("filtered above");
            let mut tree = strat
                .new_tree(&mut runner)
                .map_err(|r| Judgement::error(format!("generating a value: {r}")))?;
            let (value, why) = tree.current();
            let Some(actual) = self.try_invalid(op, f.name.get_ref(), &value).await? else {
                continue;
            };
            // Shrink: the simplest value that still is not rejected.
            let mut best = (value, why, actual);
            let mut steps = 0;
            if tree.simplify() {
                loop {
                    steps += 1;
                    if steps > 64 {
                        break;
                    }
                    let (v, w) = tree.current();
                    match self.try_invalid(op, f.name.get_ref(), &v).await? {
                        Some(a) => {
                            best = (v, w, a);
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
            let (v, why, mut actual) = best;
            // The evidence is one replay of the shrunk value, not every attempt.
            let mark = self.exchanges.len();
            if let Some(a) = self.try_invalid(op, f.name.get_ref(), &v).await? {
                self.exchanges.drain(..mark);
                actual = a;
            }
            return Ok(Judgement::fail(
                format!(
                    "{why}: {} = {v} was not rejected (case {} of seed {seed}, shrunk in {steps} steps; `--seed {seed}` reproduces it)",
                    f.name.get_ref(),
                    case + 1
                ),
                either(&e.expect),
                actual,
            ));
        }
        if let (Some(b), Some(a)) = (before, self.read_back().await?) {
            if b.status != a.status || b.body != a.body {
                return Ok(Judgement::fail(
                    "rejected requests changed the collection",
                    format!("read-back unchanged ({})", describe(&b)),
                    format!("read-back now {}", describe(&a)),
                ));
            }
        }
        Ok(Judgement::pass())
    }

    /// Property: for `--cases` generated valid updates (free fields from the schema's
    /// strategies; keys, unique and referencing fields from the sample), sending one twice
    /// succeeds both times and the read-back after the second equals the one after the
    /// first.
    pub(in crate::runner::exec) async fn property_idempotent(&mut self) -> Step<Judgement> {
        let e = self.t.entry.clone();
        let op = self.op()?;
        self.real_target_write(op)?;
        let schema = self.request_schema(op)?;
        let collection = self.collection().map(|c| c.name.get_ref().clone());
        let referencing: Vec<String> = self
            .spec
            .references()
            .filter(|r| Some(r.from.get_ref()) == collection.as_ref())
            .map(|r| r.field.clone())
            .collect();
        // Fields whose value must stay the sample's: the record's identity, uniqueness
        // and references to other records.
        let fixed = |f: &Field| {
            f.key || f.unique || f.server_assigned || referencing.contains(f.name.get_ref())
        };
        let free: Vec<&Field> = schema.field.iter().filter(|f| !fixed(f)).collect();
        if free.is_empty() {
            return Err(Judgement::skip(
                "every field is a key, unique or a reference",
            ));
        }
        let seed = self.seed();
        let mut runner = self.case_runner(7);
        let names: Vec<String> = free.iter().map(|f| f.name.get_ref().clone()).collect();
        let strategies: Vec<_> = free
            .iter()
            .map(|f| crate::props::strategy::valid(self.spec, f))
            .collect();
        let target = self.op_target(op)?;
        let role = self.role();
        let deadline = self.s.property_deadline();
        for case in 0..self.cases() as usize {
            if self.out_of_time(case, deadline) {
                break;
            }
            let tree = strategies
                .new_tree(&mut runner)
                .map_err(|r| Judgement::error(format!("generating a value: {r}")))?;
            let values = tree.current();
            let edits: Vec<(String, Value)> = names.iter().cloned().zip(values).collect();
            let (ct, body) = {
                let edits = edits.clone();
                self.object_body(op, move |o| {
                    for (k, v) in edits {
                        o.insert(k, v);
                    }
                })?
            };
            let mut backs = Vec::new();
            for round in 1..=2 {
                let req = self
                    .request(op.method.get_ref(), &target, &role)?
                    .body(&ct, body.clone());
                let resp = self.send(&req).await?;
                if !self.answers_one_of(&e.expect, &resp) {
                    return Ok(Judgement::fail(
                        format!(
                            "a valid update was not accepted (send {round}, case {} of seed {seed}; `--seed {seed}` reproduces it); values: {}",
                            case + 1,
                            serde_json::to_string(&edits).unwrap_or_default()
                        ),
                        either(&e.expect),
                        describe(&resp),
                    ));
                }
                backs.push(self.read_back().await?);
            }
            if let (Some(Some(a)), Some(Some(b))) = (backs.first(), backs.get(1)) {
                if a.body != b.body {
                    return Ok(Judgement::fail(
                        format!(
                            "sending the same update again changed the state (case {} of seed {seed})",
                            case + 1
                        ),
                        format!("read-back after the second send equals the first: {}", describe(a)),
                        describe(b),
                    ));
                }
            }
        }
        Ok(Judgement::pass())
    }
}
