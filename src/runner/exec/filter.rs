//! Path parameters that select records (`filter` in the spec, `/registrations/ip/{ip}`):
//! every record answered for the example value passes the filter, and a value no record
//! has selects none. An answer with no record to check is not a pass.

use serde_json::Value;

use super::bodies::records;
use super::{describe, Ctx, Judgement, Step};
use crate::runner::outcome;
use crate::runner::Verdict;
use crate::sample;
use crate::spec::check::scalar_text;
use crate::spec::model::{FieldType, ParamFilter};

impl Ctx<'_> {
    pub(super) async fn path_filter(&mut self) -> Step<Judgement> {
        let e = self.t.entry.clone();
        let (Some(ep), Some(op)) = self.endpoint_op() else {
            return Err(Judgement::error("the entry names no operation"));
        };
        let name = e.field.clone().unwrap_or_default();
        let Some(param) = ep.params.get(&name).map(|p| p.spec()) else {
            return Err(Judgement::error(format!("`{name}` is no path parameter")));
        };
        let Some(filter) = param.filter.clone() else {
            return Err(Judgement::error(format!("`{name}` selects nothing")));
        };
        // Records carry the collection's keys; without a collection, the filtered field.
        let keys = ep
            .collection
            .as_ref()
            .and_then(|c| self.spec.collection(c.get_ref()))
            .map(|c| self.spec.collection_keys(c))
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| vec![filter.field.clone()]);
        let role = self.role();
        let example = param
            .example
            .as_ref()
            .map(|v| match v {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default();
        // The example value: every record it selects passes the filter.
        let target = sample::target(self.spec, ep, op);
        let req = self.with_body(self.request("GET", &target, &role)?, None);
        let resp = self.send(&req).await?;
        let o = self.judge(&resp, &e.expect);
        if o.verdict != Verdict::Pass {
            return Ok(o);
        }
        let tree = outcome::parse(&resp).map_err(|why| {
            Judgement::fail(
                format!("the answer does not parse: {why}"),
                "a list of records",
                describe(&resp),
            )
        })?;
        let found = selected(&tree, &keys);
        if found.is_empty() {
            let why = format!(
                "`{name}` = `{example}` selected no record: nothing to check the filter on"
            );
            return Ok(if self.s.emulator() {
                Judgement::fail(
                    why,
                    "at least one record (the seed has one)",
                    describe(&resp),
                )
            } else {
                Judgement::skip(why)
            });
        }
        if let Some(bad) = found.iter().find(|r| !passes(&filter, r, &example)) {
            return Ok(Judgement::fail(
                format!("`{name}` = `{example}` answered a record that does not pass the filter"),
                format!("every record's `{}` matching `{example}`", filter.field),
                format!("{}", Value::Object((*bad).clone())),
            ));
        }
        // A value no record has: nothing is selected.
        let none = unmatched(param.ty);
        let target = sample::target_with(self.spec, ep, op, &|n, v| {
            if n == name {
                none.to_string()
            } else {
                v
            }
        });
        let req = self.with_body(self.request("GET", &target, &role)?, None);
        let resp = self.send(&req).await?;
        if resp.status == 404 || resp.status == 204 {
            return Ok(Judgement::pass());
        }
        let o = self.judge(&resp, &e.expect);
        if o.verdict != Verdict::Pass {
            return Ok(o);
        }
        let tree = outcome::parse(&resp).unwrap_or(Value::Null);
        let found = selected(&tree, &keys);
        if !found.is_empty() {
            return Ok(Judgement::fail(
                format!(
                    "`{name}` = `{none}`, which no record has, still answered {} record(s)",
                    found.len()
                ),
                "no record (an empty list or not found)",
                format!("{}", Value::Object(found[0].clone())),
            ));
        }
        Ok(Judgement::pass())
    }
}

/// The records of an answer: the objects that carry the collection's key fields.
fn selected<'v>(tree: &'v Value, keys: &[String]) -> Vec<&'v serde_json::Map<String, Value>> {
    let mut out = Vec::new();
    if !keys.is_empty() {
        records(tree, keys, &mut out);
    }
    out
}

fn passes(f: &ParamFilter, r: &serde_json::Map<String, Value>, value: &str) -> bool {
    f.holds(r.get(&f.field).and_then(scalar_text).as_deref(), value)
}

/// A value of type `ty` that no seeded or real record is likely to have.
fn unmatched(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Ip => "198.51.100.77",
        FieldType::Integer | FieldType::Number | FieldType::Digits => "987654321",
        FieldType::Mac => "0000dead0001",
        _ => "dialtone-selects-nothing",
    }
}
