//! Product overlays: where one product or firmware knowingly differs from its document.
//!
//! An overlay file (`overlays/*.toml`, format in `docs/overlays.md`) names the spec it
//! applies to and lists `[[deviation]]`s, each with its evidence. A deviation selects a
//! part of the spec (an endpoint by id or glob, one of its operations, a schema field, a
//! result code) and changes it: `set` merges a table into it, `add_op` adds an operation,
//! `add_endpoint` adds an endpoint, `remove` takes it away. The change is made to the read
//! spec before it is checked, so an overlaid spec passes every check a spec does, and both
//! the runner (testing the product as the overlay says) and the emulator (behaving as the
//! product) use it unchanged.
//!
//! A changed part is written out and read back as TOML; its diagnostics point into a
//! synthetic file named after the deviation. When an endpoint's path changes, the literal
//! paths of rules and steps that named it are rewritten to the new template.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::load::{RawSpec, Sourced};
use super::model::{Code, Endpoint, Schema};
use crate::diag::{Diagnostic, Diagnostics, SourceFile};

/// `[overlay]`: what the overlay describes.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Short name, used in reports (`sipxecs-19.08`).
    pub name: String,
    /// The spec the overlay applies to (a bundled name).
    pub spec: String,
    /// The product, and its firmware or release if the deviations are specific to it.
    pub product: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

/// `[[deviation]]`: one knowing difference between the product and its document.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Deviation {
    /// Stable id, unique in the overlay.
    pub id: String,
    pub summary: String,
    /// Where the difference is shown: source file and class, a capture, a client's code.
    pub evidence: String,
    /// An endpoint id, or a glob over endpoint ids (`*` matches any run of characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// With `endpoint`: the operation of that method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// A schema by name; with `field`, one of its fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// A result code by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Keys merged into the selected part (tables merge key by key, anything else is
    /// replaced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<toml::Table>,
    /// An operation added to the selected endpoints (its `method` defaults to `method`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_op: Option<toml::Table>,
    /// An endpoint added to the spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_endpoint: Option<toml::Table>,
    /// A part of the selected endpoints' paths spelled otherwise: every `from` in the path
    /// becomes `to` (`{ from = "/port/", to = "/ports/" }`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rename: Option<Rename>,
    /// Explicit rules of the spec that state the document's reading this deviation
    /// contradicts: they are not tested under the overlay, and are reported as taken away
    /// by it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withdraw: Vec<String>,
    /// The selected part is taken away (an operation, an endpoint, a field).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub remove: bool,
}

/// [`Deviation::rename`].
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rename {
    pub from: String,
    pub to: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverlayFile {
    overlay: Meta,
    #[serde(default)]
    deviation: Vec<Deviation>,
}

/// The tests a spec's overlays change, by test id: the deviations that change each (a
/// test's expectations or the requests it sends differ from the document's), and the
/// tests of the document that the overlays take away. Filled in by
/// `plan::overlay_changes`, which can see the plan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    pub changed: std::collections::BTreeMap<String, Vec<String>>,
    pub removed: std::collections::BTreeMap<String, Vec<String>>,
}

/// A read overlay file.
#[derive(Debug, Clone)]
pub struct Overlay {
    pub path: PathBuf,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    pub meta: Meta,
    pub deviations: Vec<Deviation>,
}

impl Overlay {
    /// Read and check the overlay at `path`: its syntax, its keys, and that each deviation
    /// selects one kind of part and does one thing to it.
    pub fn load(path: &Path) -> Result<Overlay, Vec<Diagnostic>> {
        let mut diags = Diagnostics::default();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                diags.whole_file(path, "O000", format!("cannot read the overlay: {e}"));
                return Err(diags.sorted());
            }
        };
        let file = SourceFile::new(path.to_path_buf(), text.clone());
        let parsed: OverlayFile = match toml::from_str(&text) {
            Ok(p) => p,
            Err(e) => {
                let off = e.span().map(|s| s.start).unwrap_or(0);
                diags.at(&file, off, "O001", e.message().trim(), None);
                return Err(diags.sorted());
            }
        };
        let mut seen = std::collections::HashSet::new();
        for d in &parsed.deviation {
            let off = text.find(&format!("\"{}\"", d.id)).unwrap_or(0);
            if !seen.insert(d.id.clone()) {
                diags.at(
                    &file,
                    off,
                    "O002",
                    format!("deviation `{}` is given twice", d.id),
                    None,
                );
            }
            if let Err(why) = d.shape() {
                diags.at(
                    &file,
                    off,
                    "O003",
                    format!("deviation `{}`: {why}", d.id),
                    None,
                );
            }
            if d.evidence.trim().is_empty() {
                let why = format!("deviation `{}` gives no evidence", d.id);
                diags.at(&file, off, "O004", why, None);
            }
        }
        if !diags.is_empty() {
            return Err(diags.sorted());
        }
        Ok(Overlay {
            path: path.to_path_buf(),
            sha256: crate::codec::sha256(text.as_bytes()),
            meta: parsed.overlay,
            deviations: parsed.deviation,
        })
    }

    /// The deviation `id`.
    pub fn deviation(&self, id: &str) -> Option<&Deviation> {
        self.deviations.iter().find(|d| d.id == id)
    }
}

impl Deviation {
    /// One selector kind and one action, in a combination that means something.
    fn shape(&self) -> Result<(), String> {
        let actions = [
            self.set.is_some(),
            self.add_op.is_some(),
            self.add_endpoint.is_some(),
            self.rename.is_some(),
            self.remove,
        ];
        if actions.iter().filter(|a| **a).count() != 1 {
            return Err(
                "give exactly one of `set`, `add_op`, `add_endpoint`, `rename`, `remove`".into(),
            );
        }
        if self.rename.is_some() && (self.endpoint.is_none() || self.method.is_some()) {
            return Err("`rename` goes with `endpoint` alone".into());
        }
        let selectors = [
            self.endpoint.is_some(),
            self.schema.is_some(),
            self.code.is_some(),
        ];
        let n = selectors.iter().filter(|s| **s).count();
        if self.add_endpoint.is_some() {
            return if n == 0 && self.method.is_none() && self.field.is_none() {
                Ok(())
            } else {
                Err("`add_endpoint` takes no selector".into())
            };
        }
        if n != 1 {
            return Err(
                "select one part: `endpoint` (with `method`), `schema` (with `field`) or `code`"
                    .into(),
            );
        }
        if self.method.is_some() && self.endpoint.is_none() {
            return Err("`method` goes with `endpoint`".into());
        }
        if self.field.is_some() && self.schema.is_none() {
            return Err("`field` goes with `schema`".into());
        }
        if self.add_op.is_some() && self.endpoint.is_none() {
            return Err("`add_op` goes with `endpoint`".into());
        }
        if self.code.is_some() && self.remove {
            return Err("a result code cannot be removed; change its `status` with `set`".into());
        }
        if self.schema.is_some() && self.field.is_none() && self.remove {
            return Err("remove a schema's `field`, not the schema".into());
        }
        Ok(())
    }
}

/// `*` matches any run of characters (none included); everything else itself.
pub fn glob(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !s.starts_with(first) || s.len() < first.len() + last.len() || !s.ends_with(last) {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// Apply `overlay`'s deviations (all, or only the one named `only`) to `raw`. A deviation
/// that selects nothing, or cannot be applied, is a diagnostic at the overlay file.
pub fn apply(raw: &mut RawSpec, overlay: &Overlay, only: Option<&str>, diags: &mut Diagnostics) {
    let file = SourceFile::new(
        overlay.path.clone(),
        std::fs::read_to_string(&overlay.path).unwrap_or_default(),
    );
    for d in &overlay.deviations {
        if only.is_some_and(|o| o != d.id) {
            continue;
        }
        let applied = apply_one(raw, overlay, d).and_then(|()| withdraw(raw, d));
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

fn apply_one(raw: &mut RawSpec, ov: &Overlay, d: &Deviation) -> Result<(), String> {
    let label = |what: &str| format!("{} ⟶ {} ({what})", ov.path.display(), d.id);
    if let Some(t) = &d.add_endpoint {
        let ep: Endpoint = reread(raw, &label("added endpoint"), t)?;
        let file = raw.files.len() - 1;
        raw.endpoints.push(Sourced { file, value: ep });
        return Ok(());
    }
    if let Some(code) = &d.code {
        let i = raw
            .codes
            .iter()
            .position(|c| c.value.id.get_ref() == code)
            .ok_or_else(|| format!("the spec has no result code `{code}`"))?;
        let mut t = to_table(&raw.codes[i].value)?;
        merge(&mut t, d.set.as_ref().expect("shape: a code takes `set`"));
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
        let mut t = to_table(&raw.endpoints[i].value)?;
        match edit_endpoint(&mut t, d) {
            Ok(()) => added += 1,
            // A glob adds the operation where it is missing, and leaves the rest alone.
            Err(Edit::Exists(_)) if glob_add => continue,
            Err(e) => return Err(format!("endpoint `{id}`: {e}")),
        }
        let ep: Endpoint = reread(raw, &label(&format!("endpoint {id}")), &t)?;
        let new_path = ep.path.get_ref().clone();
        raw.endpoints[i] = Sourced {
            file: raw.files.len() - 1,
            value: ep,
        };
        if new_path != old_path {
            rewrite_paths(raw, &old_path, &new_path);
        }
    }
    if added == 0 {
        return Err(format!(
            "every endpoint `{pattern}` matches has that operation already"
        ));
    }
    Ok(())
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

/// Take the rules `d` withdraws out of `raw`.
fn withdraw(raw: &mut RawSpec, d: &Deviation) -> Result<(), String> {
    for id in &d.withdraw {
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
fn edit_endpoint(t: &mut toml::Table, d: &Deviation) -> Result<(), Edit> {
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
        let mut op = add.clone();
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
                Some(s) => merge(
                    ops[i].as_table_mut().ok_or("an operation is not a table")?,
                    s,
                ),
                None => {
                    ops.remove(i);
                }
            }
        }
        (None, Some(s)) => merge(t, s),
        (None, None) => unreachable!("shape: endpoint removal is handled by the caller"),
    }
    Ok(())
}

fn apply_schema(raw: &mut RawSpec, d: &Deviation, name: &str, label: &str) -> Result<(), String> {
    let i = raw
        .schemas
        .iter()
        .position(|s| s.value.name.get_ref() == name)
        .ok_or_else(|| format!("the spec has no schema `{name}`"))?;
    let mut t = to_table(&raw.schemas[i].value)?;
    match &d.field {
        None => merge(&mut t, d.set.as_ref().expect("shape")),
        Some(f) => {
            let fields = t
                .get_mut("field")
                .and_then(|v| v.as_array_mut())
                .ok_or_else(|| format!("schema `{name}` has no fields"))?;
            let at = fields
                .iter()
                .position(|x| x.get("name").and_then(|n| n.as_str()) == Some(f.as_str()))
                .ok_or_else(|| format!("schema `{name}` has no field `{f}`"))?;
            if d.remove {
                fields.remove(at);
            } else {
                let field = fields[at].as_table_mut().ok_or("a field is not a table")?;
                merge(field, d.set.as_ref().expect("shape"));
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

/// Literal paths of rules and steps that `old` (a path template) names, rewritten to
/// `new`, the parameters carried over by name.
fn rewrite_paths(raw: &mut RawSpec, old: &str, new: &str) {
    for rule in &mut raw.rules {
        let r = &mut rule.value;
        if let Some(p) = &mut r.path {
            if let Some(n) = moved(old, new, p.get_ref()) {
                *p = toml::Spanned::new(p.span(), n);
            }
        }
        for s in &mut r.steps {
            if let Some(p) = &mut s.path {
                if let Some(n) = moved(old, new, p) {
                    *p = n;
                }
            }
        }
    }
}

/// `path` under template `new`, when it is a path of template `old` (a `{...}` segment of
/// the path, a parameter or a captured variable, stands for any value).
fn moved(old: &str, new: &str, path: &str) -> Option<String> {
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
    fn globs_match_runs_of_characters() {
        assert!(glob("a/*/c", "a/b/x/c"));
        assert!(glob("*settings/by-path", "gateways/settings/by-path"));
        assert!(!glob("a/*/c", "a/b/x/d"));
        assert!(glob("exact", "exact") && !glob("exact", "exactly"));
    }

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
