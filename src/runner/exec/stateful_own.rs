//! The stateful test on a real target: it may not empty the collection, so the model
//! starts from "no records of dialtone's own". The list is read once before a sequence;
//! every record listed then is someone else's and is never touched or compared. Creates
//! carry the run's prefix in their marked fields (the client-chosen text key and unique
//! fields, or one name-like text field when the key is server-assigned), and the ids the
//! server assigns are remembered; after each step only the records so marked (or so
//! remembered) are compared with the model. Updates and deletes only name records the
//! sequence created, replaces (which would touch every record) are never sent, and
//! whatever the sequence created is deleted when it ends, passed or failed.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::stateful::Ops;
use super::{Ctx, Judgement, Step};
use crate::runner::outcome::text_of;
use crate::spec::model::*;

/// What a sequence on a real target knows of the records that are not its own.
#[derive(Debug, Default, Clone)]
pub(super) struct Own {
    /// The records listed before the sequence began (keys and fields): not the
    /// sequence's, whatever they look like.
    pub before: Vec<(Vec<String>, Map<String, Value>)>,
    /// Keys of the records the sequence created.
    pub created: HashSet<Vec<String>>,
}

impl Own {
    fn listed_before(&self, key: &[String]) -> bool {
        self.before.iter().any(|(k, _)| k == key)
    }
}

/// The fields a create on a real target marks with the prefix: the text key and unique
/// fields the client chooses; with none and a server-assigned key, one free text field
/// (required ones first), which updates then leave alone. Fields whose longest value
/// cannot hold the prefix and a character are passed over.
pub(super) fn mark_fields(ops: &Ops<'_>, prefix: &str) -> Vec<String> {
    let fits = |f: &Field| {
        f.ty == FieldType::String
            && f.enum_values.is_empty()
            && f.max_len.is_none_or(|m| m as usize > prefix.len())
    };
    let marks: Vec<String> = ops
        .create_fields
        .iter()
        .filter(|f| f.key || f.unique || ops.keys.contains(f.name.get_ref()))
        .filter(|f| fits(f))
        .map(|f| f.name.get_ref().clone())
        .collect();
    if !marks.is_empty() || !ops.assigned_key {
        return marks;
    }
    let mut free: Vec<&&Field> = ops.create_fields.iter().filter(|f| fits(f)).collect();
    free.sort_by_key(|f| !f.required);
    free.first()
        .map(|f| vec![f.name.get_ref().clone()])
        .unwrap_or_default()
}

impl<'a> Ctx<'a> {
    /// Fit the collection's operations to a real target: no replace, marked fields kept
    /// out of updates; a collection whose records cannot be told apart from others' (no
    /// text key or unique field to prefix, no server-assigned key) is skipped.
    pub(super) fn device_ops(&self, ops: &mut Ops<'a>, c: &Collection) -> Step<()> {
        let prefix = self.s.opts.prefix.clone();
        // A create whose URL names the new record would name it as the sample does.
        if let Some((ep, _)) = ops.create {
            let path = self.spec.full_path(ep);
            let params = crate::spec::template_params(&path).unwrap_or_default();
            if params
                .iter()
                .any(|p| Some(p) != c.scope_param.as_ref() && ops.keys.contains(p))
            {
                return Err(Judgement::skip(
                    "on a real target: the create names its record in the URL, which the model does not mark as dialtone's",
                ));
            }
        }
        ops.replace = None;
        ops.marks = mark_fields(ops, &prefix);
        if ops.marks.is_empty() && !ops.assigned_key {
            return Err(Judgement::skip(
                "on a real target: no text key or unique field to mark with the prefix and no server-assigned key, so the test could not tell its records from others'",
            ));
        }
        let marks = ops.marks.clone();
        ops.free_fields
            .retain(|f| !marks.contains(f.name.get_ref()));
        Ok(())
    }

    /// The prefix on every marked field of a create's values.
    pub(super) fn mark_create(&self, ops: &Ops<'_>, fields: &mut Map<String, Value>) {
        let prefix = &self.s.opts.prefix;
        for f in ops.create_fields.iter() {
            if !ops.marks.contains(f.name.get_ref()) {
                continue;
            }
            if let Some(Value::String(v)) = fields.get_mut(f.name.get_ref()) {
                if !v.starts_with(prefix.as_str()) {
                    let mut marked = format!("{prefix}{v}");
                    if let Some(max) = f.max_len {
                        marked = marked.chars().take(max as usize).collect();
                    }
                    *v = marked;
                }
            }
        }
    }

    /// Whether a create of `fields` (key `key`) would clash with a record listed before the
    /// sequence: such a create is not sent, the record is not the sequence's.
    pub(super) fn clashes_with_others(
        &self,
        ops: &Ops<'_>,
        key: Option<&Vec<String>>,
        fields: &Map<String, Value>,
    ) -> bool {
        let own = ops.own.borrow();
        let Some((_, op)) = ops.create else {
            return false;
        };
        key.is_some_and(|k| own.listed_before(k))
            || own
                .before
                .iter()
                .any(|(_, r)| self.unique_clash(op, r, fields))
    }

    /// Whether a listed record is the sequence's own: not listed before it began, and
    /// marked (or, with nothing to mark, created by it). With `fresh`, a record the
    /// sequence has not learnt the key of yet counts too (a create's new record).
    pub(super) fn is_own(
        &self,
        ops: &Ops<'_>,
        key: &[String],
        rec: &Map<String, Value>,
        fresh: bool,
    ) -> bool {
        let own = ops.own.borrow();
        if own.listed_before(key) {
            return false;
        }
        if ops.marks.is_empty() {
            return fresh || own.created.contains(key);
        }
        let prefix = &self.s.opts.prefix;
        ops.marks.iter().all(|m| {
            rec.get(m)
                .is_some_and(|v| text_of(v).starts_with(prefix.as_str()))
        })
    }

    /// Before a sequence on a real target: read the list once; every record on it is
    /// someone else's.
    pub(super) async fn own_start(&mut self, c: &Collection, ops: &Ops<'a>) -> Step<()> {
        let before = self.listed(c, ops, None).await?;
        *ops.own.borrow_mut() = Own {
            before,
            created: HashSet::new(),
        };
        Ok(())
    }

    /// After a sequence on a real target: delete every record of its own that is listed,
    /// and every record the model holds (it may be beyond the first page); an error when
    /// some are still listed afterwards.
    pub(super) async fn own_tidy(
        &mut self,
        c: &Collection,
        ops: &Ops<'a>,
        model: &[super::stateful::Rec],
    ) -> Step<()> {
        let Some((ep, op)) = ops.delete else {
            return Err(Judgement::error(
                "on a real target: the collection has no delete to remove the test's records with",
            ));
        };
        let listed = self.listed(c, ops, Some(false)).await.unwrap_or_default();
        let mut keys: Vec<(Vec<String>, Map<String, Value>)> = listed;
        for r in model {
            if !keys.iter().any(|(k, _)| *k == r.key) {
                keys.push((r.key.clone(), r.fields.clone()));
            }
        }
        for (key, fields) in &keys {
            let kv: Vec<(String, String)> =
                ops.keys.iter().cloned().zip(key.iter().cloned()).collect();
            let scalars: Map<String, Value> = fields
                .iter()
                .filter(|(_, v)| !v.is_object() && !v.is_array())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if let Ok(req) = self.record_request(ep, op, &kv, &scalars) {
                let _ = self.send(&req).await;
            }
        }
        let left = self.listed(c, ops, Some(false)).await?;
        if left.is_empty() {
            return Ok(());
        }
        Err(Judgement::error(format!(
            "on a real target: {} record(s) the test created could not be deleted: keys {:?}",
            left.len(),
            left.iter().map(|(k, _)| k).collect::<Vec<_>>()
        )))
    }
}
