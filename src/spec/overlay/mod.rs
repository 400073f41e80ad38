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

use crate::diag::{did_you_mean, Diagnostic, Diagnostics, SourceFile};

mod apply;
pub use apply::apply;

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

/// `[[deviation]]`: one knowing difference between the product and its document, and the
/// changes to the spec that say it: the one given inline, and those under `also`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Deviation {
    /// Stable id, unique in the overlay.
    pub id: String,
    pub summary: String,
    /// Where the difference is shown: source file and class, a capture, a client's code.
    pub evidence: String,
    /// Explicit rules of the spec that state the document's reading this deviation
    /// contradicts: they are not tested under the overlay, and are reported as taken away
    /// by it. `rule#step name` withdraws one step of a rule given as steps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withdraw: Vec<String>,
    #[serde(flatten)]
    pub change: Change,
    /// More changes that the same difference needs (`[[deviation.also]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<Also>,
    /// Keys the language does not know (an error when loading).
    #[serde(flatten, skip_serializing)]
    unknown: toml::Table,
}

/// `[[deviation.also]]`: one more change of a deviation.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Also {
    #[serde(flatten)]
    pub change: Change,
    #[serde(flatten, skip_serializing)]
    unknown: toml::Table,
}

/// One change to the spec: a selector (`endpoint` with `method`; `schema` or `data` with
/// `field`; `code`) and one action.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct Change {
    /// An endpoint id, or a glob over endpoint ids (`*` matches any run of characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// With `endpoint`: the operation of that method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// A schema by name; with `field`, one of its fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// A `[data]` entry by key (what the emulator serves); with `field`, one of its keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// A result code by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `auth = true`: the spec's `[auth]` table (what a missing or bad credential gets).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auth: bool,
    /// Keys merged into the selected part (tables merge key by key, anything else is
    /// replaced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<toml::Table>,
    /// Dotted keys taken out of the selected part before `set` merges
    /// (`["response.envelope"]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unset: Vec<String>,
    /// An operation added to the selected endpoints (its `method` defaults to `method`;
    /// `like = "DELETE"` starts it as a copy of that operation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_op: Option<toml::Table>,
    /// An endpoint added to the spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_endpoint: Option<toml::Table>,
    /// A part of the selected endpoints' paths spelled otherwise: every `from` in the path
    /// becomes `to` (`{ from = "/port/", to = "/ports/" }`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rename: Option<Rename>,
    /// The selected part is taken away (an operation, an endpoint, a field).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub remove: bool,
}

/// The keys of a deviation and of a change, for typo hints.
const KEYS: &[&str] = &[
    "id",
    "summary",
    "evidence",
    "withdraw",
    "also",
    "endpoint",
    "method",
    "schema",
    "data",
    "field",
    "code",
    "auth",
    "set",
    "add_op",
    "add_endpoint",
    "rename",
    "remove",
];

impl Deviation {
    /// Its changes: the inline one, then those under `also`.
    pub fn changes(&self) -> impl Iterator<Item = &Change> {
        std::iter::once(&self.change).chain(self.also.iter().map(|a| &a.change))
    }

    /// Keys that are no part of the language, here or under `also`.
    fn unknown_keys(&self) -> Vec<&String> {
        self.unknown
            .keys()
            .chain(self.also.iter().flat_map(|a| a.unknown.keys()))
            .collect()
    }
}

/// An endpoint an overlay moved to another path or base: literal paths of rules, steps and
/// scenario cases that named it follow it ([`Move::apply`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Move {
    /// The deviation that moved it.
    pub deviation: String,
    /// Base name and path template before and after.
    pub old_base: String,
    pub old: String,
    pub new_base: String,
    pub new: String,
}

impl Move {
    /// `path` (on base `base`) moved, when the endpoint it names was: the new path, and the
    /// new base if that changed.
    pub fn apply(&self, base: &str, path: &str) -> Option<(String, Option<String>)> {
        if base != self.old_base {
            return None;
        }
        let p = apply::moved(&self.old, &self.new, path)?;
        Some((
            p,
            (self.new_base != self.old_base).then(|| self.new_base.clone()),
        ))
    }
}

/// Rewrite a step's literal path (and base) by `moves`, the spec's default base being
/// `default_base`; the deviations that moved it, if any did.
pub fn move_step(
    moves: &[Move],
    default_base: &str,
    step: &mut crate::spec::model::Step,
) -> Vec<String> {
    let mut by = Vec::new();
    let Some(path) = step.path.clone() else {
        return by;
    };
    let base = step
        .base
        .clone()
        .unwrap_or_else(|| default_base.to_string());
    for m in moves {
        if let Some((p, b)) = m.apply(&base, &path) {
            step.path = Some(p);
            if let Some(b) = b {
                step.base = Some(b);
            }
            by.push(m.deviation.clone());
            break;
        }
    }
    by
}

/// [`Change::rename`].
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
    /// The file's text, for diagnostics that point into it.
    pub text: String,
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
            for k in d.unknown_keys() {
                diags.at(
                    &file,
                    off,
                    "O005",
                    format!("deviation `{}`: unknown key `{k}`", d.id),
                    did_you_mean(k, KEYS.iter().copied()),
                );
            }
            for c in d.changes() {
                if let Err(why) = c.shape() {
                    diags.at(
                        &file,
                        off,
                        "O003",
                        format!("deviation `{}`: {why}", d.id),
                        None,
                    );
                }
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
            text,
            meta: parsed.overlay,
            deviations: parsed.deviation,
        })
    }
}

impl Change {
    /// One selector kind and one action, in a combination that means something.
    fn shape(&self) -> Result<(), String> {
        if !self.unset.is_empty() && self.set.is_none() {
            return Err("`unset` goes with `set` (give `set = {}` to only take keys out)".into());
        }
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
            self.data.is_some(),
            self.code.is_some(),
            self.auth,
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
                "select one part: `endpoint` (with `method`), `schema` or `data` (with `field`), `code` or `auth`"
                    .into(),
            );
        }
        if self.method.is_some() && self.endpoint.is_none() {
            return Err("`method` goes with `endpoint`".into());
        }
        if self.field.is_some() && self.schema.is_none() && self.data.is_none() {
            return Err("`field` goes with `schema` or `data`".into());
        }
        if self.add_op.is_some() && self.endpoint.is_none() {
            return Err("`add_op` goes with `endpoint`".into());
        }
        if (self.code.is_some() || self.auth) && self.set.is_none() {
            return Err("a result code or `[auth]` takes `set`".into());
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
}
