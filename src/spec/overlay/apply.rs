//! Applying an overlay's changes to a read spec.

use std::path::PathBuf;

use serde::Serialize;

use super::{glob, Change, Deviation, Move, Overlay};
use crate::diag::{Diagnostics, SourceFile};
use crate::spec::load::{RawSpec, Sourced};
use crate::spec::model::{Auth, Code, Endpoint, Outcome, Schema};

/// Apply `overlay`'s deviations (all, or only the one named `only`) to `raw`. A deviation
/// that selects nothing, or cannot be applied, is a diagnostic at the overlay file.
pub fn apply(raw: &mut RawSpec, overlay: &Overlay, only: Option<&str>, diags: &mut Diagnostics) {
    let file = SourceFile::new(overlay.path.clone(), overlay.text.clone());
    for d in &overlay.deviations {
        if only.is_some_and(|o| o != d.id) {
            continue;
        }
        let applied = d
            .changes()
            .try_for_each(|c| apply_one(raw, overlay, &d.id, c))
            .and_then(|()| withdraw(raw, d));
        if let Err(why) = applied {
            let off = file.text.find(&format!("\"{}\"", d.id)).unwrap_or(0);
            diags.at(
                &file,
                off,
                "O010",
                format!("deviation `{}`: {why}", d.id),
                None,
            );
        }
    }
}

fn apply_one(raw: &mut RawSpec, ov: &Overlay, dev: &str, d: &Change) -> Result<(), String> {
    let label = |what: &str| format!("{} ⟶ {dev} ({what})", ov.path.display());
    if let Some(key) = &d.data {
        return apply_data(raw, d, key);
    }
    if let Some(t) = &d.add_endpoint {
        let ep: Endpoint = reread(raw, &label("added endpoint"), t)?;
        let file = raw.files.len() - 1;
        raw.endpoints.push(Sourced { file, value: ep });
        return Ok(());
    }
    if d.auth {
        let i = raw
            .auth
            .len()
            .checked_sub(1)
            .ok_or("the spec has no `[auth]`")?;
        let mut t = to_table(&raw.auth[i].value)?;
        set_on(&mut t, d)?;
        let a: Auth = reread(raw, &label("auth"), &t)?;
        raw.auth[i] = Sourced {
            file: raw.files.len() - 1,
            value: a,
        };
        return Ok(());
    }
    if let Some(code) = &d.code {
        let i = raw
            .codes
            .iter()
            .position(|c| c.value.id.get_ref() == code)
            .ok_or_else(|| format!("the spec has no result code `{code}`"))?;
        let mut t = to_table(&raw.codes[i].value)?;
        set_on(&mut t, d)?;
        let c: Code = reread(raw, &label(&format!("code {code}")), &t)?;
        raw.codes[i] = Sourced {
            file: raw.files.len() - 1,
            value: c,
        };
        return Ok(());
    }
    if let Some(schema) = &d.schema {
        return apply_schema(raw, d, schema, &label(&format!("schema {schema}")));
    }
    let pattern = d.endpoint.as_deref().expect("shape: one selector");
    let hits: Vec<usize> = (0..raw.endpoints.len())
        .filter(|&i| glob(pattern, raw.endpoints[i].value.id.get_ref()))
        .collect();
    if hits.is_empty() {
        return Err(format!("no endpoint id matches `{pattern}`"));
    }
    if d.remove && d.method.is_none() {
        let gone: Vec<String> = hits
            .iter()
            .map(|&i| raw.endpoints[i].value.id.get_ref().clone())
            .collect();
        raw.endpoints
            .retain(|e| !gone.contains(e.value.id.get_ref()));
        return Ok(());
    }
    let glob_add = pattern.contains('*') && d.add_op.is_some();
    let mut added = 0;
    for i in hits {
        let id = raw.endpoints[i].value.id.get_ref().clone();
        let old_path = raw.endpoints[i].value.path.get_ref().clone();
        let default = default_base(raw);
        let base_of = |e: &Endpoint| {
            e.base
                .as_ref()
                .map_or(default.clone(), |b| b.get_ref().clone())
        };
        let old_base = base_of(&raw.endpoints[i].value);
        let success_of = |e: &Endpoint| {
            let m = d.method.as_deref()?;
            let op = e.op.iter().find(|o| o.method.get_ref() == m)?;
            op.success.as_ref().map(|s| s.get_ref().clone())
        };
        let old_success = success_of(&raw.endpoints[i].value);
        let mut t = to_table(&raw.endpoints[i].value)?;
        match edit_endpoint(&mut t, d) {
            Ok(()) => added += 1,
            // A glob adds the operation where it is missing, and leaves the rest alone.
            Err(Edit::Exists(_)) if glob_add => continue,
            Err(e) => return Err(format!("endpoint `{id}`: {e}")),
        }
        let ep: Endpoint = reread(raw, &label(&format!("endpoint {id}")), &t)?;
        let new_path = ep.path.get_ref().clone();
        let new_base = base_of(&ep);
        if let (Some(old), Some(new), Some(m)) = (&old_success, success_of(&ep), &d.method) {
            if *old != new {
                let at = (new_base.as_str(), new_path.as_str(), id.as_str());
                follow_success(raw, at, m, old, &new);
            }
        }
        raw.endpoints[i] = Sourced {
            file: raw.files.len() - 1,
            value: ep,
        };
        if new_path != old_path || new_base != old_base {
            let m = Move {
                deviation: dev.to_string(),
                old_base,
                old: old_path,
                new_base,
                new: new_path,
            };
            rewrite_paths(raw, m);
        }
    }
    if added == 0 {
        return Err(format!(
            "every endpoint `{pattern}` matches has that operation already"
        ));
    }
    Ok(())
}

/// Steps that send `method` to the endpoint `at` (base, path template, id) and expect its
/// documented success `old` expect the product's `new` instead.
fn follow_success(
    raw: &mut RawSpec,
    at: (&str, &str, &str),
    method: &str,
    old: &Outcome,
    new: &Outcome,
) {
    let (base, path, id) = at;
    let default = default_base(raw);
    for rule in &mut raw.rules {
        for s in &mut rule.value.steps {
            let sends = s.method.as_deref().unwrap_or("GET") == method;
            let names = s.endpoint.as_deref() == Some(id)
                || (s.base.as_deref().unwrap_or(&default) == base
                    && s.path.as_deref().is_some_and(|p| {
                        moved(path, path, p.split('?').next().unwrap_or(p)).is_some()
                    }));
            if sends && names && s.expect.contains(old) {
                let mut expect = vec![new.clone()];
                expect.extend(s.expect.iter().filter(|o| *o != old && *o != new).cloned());
                s.expect = expect;
            }
        }
    }
}

/// Why an endpoint could not be edited.
enum Edit {
    /// `add_op` of a method it has.
    Exists(String),
    Other(String),
}

impl std::fmt::Display for Edit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Edit::Exists(m) => write!(f, "it already has a {m} operation; change it with `set`"),
            Edit::Other(why) => f.write_str(why),
        }
    }
}

impl From<&str> for Edit {
    fn from(s: &str) -> Edit {
        Edit::Other(s.into())
    }
}

/// `set` or `remove` on a `[data]` entry (with `field`: on one of its keys).
fn apply_data(raw: &mut RawSpec, d: &Change, key: &str) -> Result<(), String> {
    let entry = raw
        .data
        .iter_mut()
        .find(|(_, _, k, _)| k == key)
        .ok_or_else(|| format!("the spec has no `[data.{key}]`"))?;
    let table = entry
        .3
        .as_table_mut()
        .ok_or_else(|| format!("`[data.{key}]` is not a table"))?;
    match (&d.field, &d.set) {
        (Some(f), None) => {
            table
                .remove(f)
                .ok_or_else(|| format!("`[data.{key}]` has no key `{f}`"))?;
        }
        (Some(f), Some(set)) => {
            let v = table
                .get_mut(f)
                .ok_or_else(|| format!("`[data.{key}]` has no key `{f}`"))?;
            match v.as_table_mut() {
                Some(t) => merge(t, set),
                None => {
                    return Err(format!(
                        "`[data.{key}].{f}` is not a table; set it on the entry"
                    ))
                }
            }
        }
        (None, Some(set)) => merge(table, set),
        (None, None) => {
            return Err("a `[data]` entry cannot be removed; remove a `field` of it".into())
        }
    }
    Ok(())
}

/// Take the rules `d` withdraws out of `raw`.
fn withdraw(raw: &mut RawSpec, d: &Deviation) -> Result<(), String> {
    for id in &d.withdraw {
        // `rule#step name`: only that step of the rule.
        if let Some((rule, step)) = id.split_once('#') {
            let r = raw
                .rules
                .iter_mut()
                .find(|r| r.value.id.get_ref() == rule)
                .ok_or_else(|| {
                    format!("it withdraws a step of rule `{rule}`, which the spec does not have")
                })?;
            let before = r.value.steps.len();
            r.value.steps.retain(|s| s.name != step);
            if r.value.steps.len() == before {
                return Err(format!("rule `{rule}` has no step named `{step}`"));
            }
            continue;
        }
        let before = raw.rules.len();
        raw.rules.retain(|r| r.value.id.get_ref() != id);
        if raw.rules.len() == before {
            return Err(format!(
                "it withdraws rule `{id}`, which the spec does not have"
            ));
        }
    }
    Ok(())
}

/// `set`, `add_op` or `remove` on one endpoint's table (with `method`: on that operation).
fn edit_endpoint(t: &mut toml::Table, d: &Change) -> Result<(), Edit> {
    let ops = t
        .entry("op")
        .or_insert_with(|| toml::Value::Array(vec![]))
        .as_array_mut()
        .ok_or("`op` is not an array")?;
    let pos = |ops: &[toml::Value], m: &str| {
        ops.iter()
            .position(|o| o.get("method").and_then(|v| v.as_str()) == Some(m))
    };
    if let Some(r) = &d.rename {
        let path = t.get("path").and_then(|p| p.as_str()).unwrap_or_default();
        if !path.contains(&r.from) {
            return Err(Edit::Other(format!(
                "its path `{path}` does not hold `{}`",
                r.from
            )));
        }
        let new = path.replace(&r.from, &r.to);
        t.insert("path".into(), toml::Value::String(new));
        return Ok(());
    }
    if let Some(add) = &d.add_op {
        // `like = "DELETE"`: a copy of that operation, under another method.
        let mut op = match add.get("like").and_then(|v| v.as_str()) {
            Some(m) => {
                let i = pos(ops, m)
                    .ok_or_else(|| Edit::Other(format!("it has no {m} operation to copy")))?;
                let mut base = ops[i].as_table().cloned().unwrap_or_default();
                let mut rest = add.clone();
                rest.remove("like");
                // The copy's provenance is the overlay's, not the document's.
                for k in ["method", "source", "inferred", "decision"] {
                    base.remove(k);
                }
                merge(&mut base, &rest);
                base
            }
            None => add.clone(),
        };
        if let Some(m) = &d.method {
            op.entry("method")
                .or_insert_with(|| toml::Value::String(m.clone()));
        }
        let m = op
            .get("method")
            .and_then(|v| v.as_str())
            .ok_or("`add_op` names no `method`")?;
        if pos(ops, m).is_some() {
            return Err(Edit::Exists(m.to_string()));
        }
        let m = m.to_string();
        ops.push(toml::Value::Table(op));
        if let Some(toml::Value::Array(u)) = t.get_mut("unsupported") {
            u.retain(|x| x.as_str() != Some(m.as_str()));
        }
        return Ok(());
    }
    match (&d.method, &d.set) {
        (Some(m), set) => {
            let i = pos(ops, m).ok_or_else(|| Edit::Other(format!("it has no {m} operation")))?;
            match set {
                Some(_) => set_on(
                    ops[i].as_table_mut().ok_or("an operation is not a table")?,
                    d,
                )
                .map_err(Edit::Other)?,
                None => {
                    ops.remove(i);
                }
            }
        }
        (None, Some(_)) => set_on(t, d).map_err(Edit::Other)?,
        (None, None) => unreachable!("shape: endpoint removal is handled by the caller"),
    }
    Ok(())
}

fn apply_schema(raw: &mut RawSpec, d: &Change, name: &str, label: &str) -> Result<(), String> {
    let i = raw
        .schemas
        .iter()
        .position(|s| s.value.name.get_ref() == name)
        .ok_or_else(|| format!("the spec has no schema `{name}`"))?;
    let mut t = to_table(&raw.schemas[i].value)?;
    match &d.field {
        None => set_on(&mut t, d)?,
        Some(f) => {
            let fields = t
                .get_mut("field")
                .and_then(|v| v.as_array_mut())
                .ok_or_else(|| format!("schema `{name}` has no fields"))?;
            let at = fields
                .iter()
                .position(|x| x.get("name").and_then(|n| n.as_str()) == Some(f.as_str()));
            match (at, &d.set) {
                (Some(at), None) => {
                    fields.remove(at);
                }
                (Some(at), Some(_)) => {
                    let field = fields[at].as_table_mut().ok_or("a field is not a table")?;
                    set_on(field, d)?;
                }
                // `set` on a field the schema lacks adds it.
                (None, Some(set)) => {
                    let mut field = toml::Table::new();
                    field.insert("name".into(), toml::Value::String(f.clone()));
                    merge(&mut field, set);
                    fields.push(toml::Value::Table(field));
                }
                (None, None) => return Err(format!("schema `{name}` has no field `{f}`")),
            }
        }
    }
    let s: Schema = reread(raw, label, &t)?;
    raw.schemas[i] = Sourced {
        file: raw.files.len() - 1,
        value: s,
    };
    Ok(())
}

fn to_table<T: Serialize>(v: &T) -> Result<toml::Table, String> {
    toml::Table::try_from(v).map_err(|e| format!("cannot write the part out: {e}"))
}

/// `d`'s `unset` keys out of `t`, then its `set` into it.
fn set_on(t: &mut toml::Table, d: &Change) -> Result<(), String> {
    for key in &d.unset {
        let mut parts: Vec<&str> = key.split('.').collect();
        let last = parts.pop().unwrap_or_default();
        let mut at = &mut *t;
        for p in parts {
            at = at
                .get_mut(p)
                .and_then(|v| v.as_table_mut())
                .ok_or_else(|| format!("`unset`: there is no `{key}`"))?;
        }
        at.remove(last)
            .ok_or_else(|| format!("`unset`: there is no `{key}`"))?;
    }
    if let Some(set) = &d.set {
        merge(t, set);
    }
    Ok(())
}

/// Keys of `patch` into `base`: tables merge key by key, other values replace.
fn merge(base: &mut toml::Table, patch: &toml::Table) {
    for (k, v) in patch {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(p)) => merge(b, p),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Write `t` out as a synthetic file of `raw` named `label` and read it back as a `T`, so
/// that its spans point into that file.
fn reread<T: serde::de::DeserializeOwned>(
    raw: &mut RawSpec,
    label: &str,
    t: &toml::Table,
) -> Result<T, String> {
    let text = toml::to_string(t).map_err(|e| format!("cannot write the part out: {e}"))?;
    let v = toml::from_str::<T>(&text)
        .map_err(|e| format!("the changed part does not read: {}", e.message().trim()))?;
    raw.files.push(SourceFile::new(PathBuf::from(label), text));
    Ok(v)
}

/// Record that `m` moved an endpoint, and move the literal paths of the rules and their
/// steps that named it.
fn rewrite_paths(raw: &mut RawSpec, m: Move) {
    let default = default_base(raw);
    for rule in &mut raw.rules {
        let r = &mut rule.value;
        if let Some(p) = &mut r.path {
            let base = r
                .base
                .as_ref()
                .map_or(default.clone(), |b| b.get_ref().clone());
            if let Some((n, b)) = m.apply(&base, p.get_ref()) {
                *p = toml::Spanned::new(p.span(), n);
                if let Some(b) = b {
                    r.base = Some(toml::Spanned::new(0..0, b));
                }
            }
        }
        for s in &mut r.steps {
            super::move_step(std::slice::from_ref(&m), &default, s);
        }
    }
    raw.moves.push(m);
}

/// The name of the spec's first base, which endpoints and steps without `base` use.
fn default_base(raw: &RawSpec) -> String {
    raw.api
        .first()
        .and_then(|a| a.value.bases.keys().next().cloned())
        .unwrap_or_default()
}

/// `path` under template `new`, when it is a path of template `old` (a `{...}` segment of
/// the path, a parameter or a captured variable, stands for any value).
pub(super) fn moved(old: &str, new: &str, path: &str) -> Option<String> {
    let (o, p): (Vec<&str>, Vec<&str>) = (old.split('/').collect(), path.split('/').collect());
    if o.len() != p.len() {
        return None;
    }
    let mut values = std::collections::HashMap::new();
    for (t, v) in o.iter().zip(&p) {
        match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
            Some(name) => {
                values.insert(name, *v);
            }
            None if t == v => {}
            None => return None,
        }
    }
    let out: Vec<String> = new
        .split('/')
        .map(
            |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => values.get(name).map_or(seg.to_string(), |v| v.to_string()),
                None => seg.to_string(),
            },
        )
        .collect();
    Some(out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moved_paths_keep_their_values() {
        let old = "/gateways/{g}/port/{p}/settings";
        let new = "/gateways/{g}/ports/{p}/settings";
        assert_eq!(
            moved(old, new, "/gateways/2/port/1/settings").as_deref(),
            Some("/gateways/2/ports/1/settings")
        );
        assert_eq!(moved(old, new, "/gateways/2/port/1/other"), None);
        assert_eq!(moved(old, new, "/gateways/2/settings"), None);
    }
}
