//! Path parameters that name a record which must exist (`names`): a value no record or
//! data row holds answers the operation's `not_found`; a value that names one stands for
//! that record's `value` field in the parameter's filter.

use axum::body::Body;
use axum::http::Response;
use serde_json::Value;

use super::ctx::Ctx;
use crate::emulator::store::{scalar_text, Fields};
use crate::spec::model::Names;

/// Whether `v` holds `sent`: as its text, or as the text of one of its elements.
fn holds(v: &Value, sent: &str) -> bool {
    match v {
        Value::Array(a) => a.iter().any(|x| holds(x, sent)),
        other => scalar_text(other).is_some_and(|t| t == sent),
    }
}

/// The value `sent` stands for when a record of `n` holds it: the record's `value`
/// field, else `sent` itself. `None` when no record holds it.
pub(super) fn resolve(ctx: &Ctx, n: &Names, sent: &str) -> Option<String> {
    let pick = |field: Option<&Value>| match (&n.value, field) {
        (None, _) => Some(sent.to_string()),
        (Some(_), Some(v)) => scalar_text(v),
        (Some(_), None) => Some(sent.to_string()),
    };
    if let Some(c) = &n.collection {
        let table = ctx.api.tables.get(c)?;
        let rows = table.snapshot();
        return rows.values().find_map(|r| {
            n.match_fields
                .iter()
                .any(|f| r.field(f).is_some_and(|v| holds(v, sent)))
                .then(|| pick(n.value.as_deref().and_then(|f| r.field(f))))
                .flatten()
        });
    }
    let rows = ctx
        .spec()
        .data(n.data.as_deref()?)?
        .get(n.rows.as_deref()?)?
        .as_array()?;
    rows.iter().find_map(|r| {
        let r = serde_json::to_value(r).ok()?;
        n.match_fields
            .iter()
            .any(|f| r.get(f).is_some_and(|v| holds(v, sent)))
            .then(|| pick(n.value.as_deref().and_then(|f| r.get(f))))
            .flatten()
    })
}

/// The answer to a request whose path names a record that does not exist.
pub(super) fn unknown(ctx: &Ctx) -> Option<Response<Body>> {
    let missing = ctx.params.iter().any(|(name, sent)| {
        ctx.ep
            .params
            .get(name)
            .and_then(|p| p.spec().names)
            .is_some_and(|n| resolve(ctx, &n, sent).is_none())
    });
    missing.then(|| ctx.not_found())
}
