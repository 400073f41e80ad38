//! Actions on one record that the spec describes as data: a copy to a new key
//! (`copy_to`), the rotation of a list field (`rotate`) and the removal of one of its
//! entries (`remove_at`). The action's answer is the
//! operation's usual one; this file only makes the change, or refuses it first.

use axum::body::Body;
use axum::http::Response;
use serde_json::Value;

use super::ctx::Ctx;
use crate::emulator::store::Key;
use crate::spec::model::Outcome;

/// Apply the operation's record action, if it has one. `Some` is a refusal (no such record,
/// a key in use, a bad count); `None` lets the operation answer as usual.
pub(super) fn record_action(ctx: &Ctx) -> Option<Response<Body>> {
    let op = ctx.op;
    if op.copy_to.is_none()
        && op.rotate.is_none()
        && op.remove_at.is_none()
        && op.set_field.is_none()
    {
        return None;
    }
    let table = ctx.table()?;
    let (_, first) = ctx.params.first()?;
    let key = Key::parse(first);
    let Some(row) = table.get(&key) else {
        return Some(ctx.not_found());
    };
    if let Some(param) = &ctx.op.copy_to {
        let new = ctx.param(param)?;
        let kf = table.key_fields().first()?.clone();
        let mut v = row.to_value();
        // The new key typed as the stored one is (a numeric string stays a string).
        let typed = match v.get(&kf) {
            Some(Value::String(_)) => Value::String(new.to_string()),
            _ => Key::parse(new).to_value(),
        };
        if let Some(o) = v.as_object_mut() {
            o.insert(kf.clone(), typed);
        }
        let copy = table.row(v);
        let new_key = table.key_of(&copy)?;
        if table.get(&new_key).is_some() {
            let o = ctx
                .api
                .collection_schema(ctx.ep.collection.as_ref()?.get_ref())
                .and_then(|s| s.field.iter().find(|f| f.name.get_ref() == &kf))
                .and_then(|f| f.on_duplicate.as_ref())
                .map(|o| o.get_ref().clone())
                .unwrap_or(Outcome {
                    status: 409,
                    code: None,
                });
            return Some(ctx.outcome(&o, Some("an object with this key exists")));
        }
        table.update(|rows| rows.insert(new_key, copy));
    }
    if let Some(r) = &ctx.op.rotate {
        let Some(n) = ctx
            .param(&r.by)
            .and_then(|n| n.trim().parse::<usize>().ok())
        else {
            return Some(ctx.reject(&format!("`{}` is not a count", r.by)));
        };
        let mut v = row.to_value();
        if let Some(Value::Array(a)) = v.get_mut(&r.field) {
            if !a.is_empty() {
                let k = n % a.len();
                a.rotate_left(k);
            }
        }
        let rotated = table.row(v);
        table.update(|rows| rows.insert(key.clone(), rotated));
    }
    if let Some(r) = &ctx.op.remove_at {
        let at = ctx
            .param(&r.at)
            .and_then(|n| n.trim().parse::<usize>().ok());
        let mut v = row.to_value();
        let removed = match (v.get_mut(&r.field), at) {
            (Some(Value::Array(a)), Some(i)) if i < a.len() => {
                a.remove(i);
                true
            }
            _ => false,
        };
        if !removed {
            return Some(ctx.not_found());
        }
        let shorter = table.row(v);
        table.update(|rows| rows.insert(key.clone(), shorter));
    }
    if let Some(s) = &ctx.op.set_field {
        let json = |t: &toml::Value| serde_json::to_value(t).unwrap_or(Value::Null);
        let others = s.others.as_ref().map(json);
        let mut changed = Vec::new();
        for (k, r) in table.snapshot().iter() {
            let value = if *k == key {
                json(&s.value)
            } else if let Some(o) = &others {
                o.clone()
            } else {
                continue;
            };
            let mut v = r.to_value();
            if let Some(o) = v.as_object_mut() {
                o.insert(s.field.clone(), value);
            }
            changed.push((k.clone(), table.row(v)));
        }
        table.update(|rows| {
            for (k, r) in changed {
                rows.insert(k, r);
            }
        });
    }
    None
}
