//! The spec: the data model, its loader and its checks.
//!
//! `load` is the only entry point other modules need: it returns a [`Spec`] that has passed
//! every check, or every diagnostic found.

pub mod check;
mod facts;
pub mod load;
pub mod model;
pub mod overlay;
pub mod routes;
mod validate;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Diagnostics};
pub use facts::{item_name, PathFill};
pub use load::{FileId, RawSpec, Sourced};
use model::*;

/// A spec that passed all checks.
#[derive(Debug)]
pub struct Spec {
    pub raw: RawSpec,
    index: Index,
    /// The product overlays applied to the document's spec, in order (see [`overlay`]).
    pub overlays: Vec<overlay::Overlay>,
    /// What the overlays change in the plan (empty without overlays).
    pub changes: overlay::Changes,
}

/// Positions of named entries, so lookups by name cost one hash (the emulator makes
/// several per request).
#[derive(Debug, Default)]
struct Index {
    endpoints: HashMap<String, usize>,
    codes: HashMap<String, usize>,
    paginations: HashMap<String, usize>,
    schemas: HashMap<String, usize>,
    collections: HashMap<String, usize>,
    envelopes: HashMap<String, usize>,
}

impl Index {
    fn of(raw: &RawSpec) -> Index {
        // The first entry of a name wins, as the linear lookups did; duplicates are lint errors.
        fn names<'a>(it: impl Iterator<Item = &'a String>) -> HashMap<String, usize> {
            let mut m = HashMap::new();
            for (i, n) in it.enumerate() {
                m.entry(n.clone()).or_insert(i);
            }
            m
        }
        Index {
            endpoints: names(raw.endpoints.iter().map(|e| e.value.id.get_ref())),
            codes: names(raw.codes.iter().map(|e| e.value.id.get_ref())),
            paginations: names(raw.paginations.iter().map(|e| e.value.name.get_ref())),
            schemas: names(raw.schemas.iter().map(|e| e.value.name.get_ref())),
            collections: names(raw.collections.iter().map(|e| e.value.name.get_ref())),
            envelopes: names(raw.envelopes.iter().map(|e| e.value.name.get_ref())),
        }
    }
}

/// The names `dialtone` knows for the bundled specs.
pub const BUNDLED: &[&str] = &["mediant", "sipxconfig", "rome", "roaming-profile"];

/// Where the bundled specs live: `$DIALTONE_SPECS`, else `specs/` beside the crate.
pub fn specs_dir() -> PathBuf {
    if let Ok(d) = std::env::var("DIALTONE_SPECS") {
        return PathBuf::from(d);
    }
    let here = PathBuf::from("specs");
    if here.is_dir() {
        return here;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("specs")
}

/// Resolve a `--spec` argument: a bundled name or a path.
pub fn resolve(name: &str) -> PathBuf {
    if BUNDLED.contains(&name) {
        specs_dir().join(name)
    } else {
        PathBuf::from(name)
    }
}

/// Load and check the spec at `path` (a file or a directory).
pub fn load(path: &Path) -> Result<Spec, Vec<Diagnostic>> {
    let mut diags = Diagnostics::default();
    let raw = load::read_spec(path, &mut diags);
    finish(raw, diags)
}

/// Load the spec at `path` with `overlays` applied (all their deviations, or only the one
/// named `only`), and check the result.
pub fn load_overlaid(
    path: &Path,
    overlays: &[overlay::Overlay],
    only: Option<&str>,
) -> Result<Spec, Vec<Diagnostic>> {
    let mut diags = Diagnostics::default();
    let mut raw = load::read_spec(path, &mut diags);
    if diags.is_empty() {
        for o in overlays {
            overlay::apply(&mut raw, o, only, &mut diags);
        }
    }
    let mut spec = finish(raw, diags)?;
    spec.overlays = overlays.to_vec();
    Ok(spec)
}

/// Load and check a spec held in a string.
pub fn load_str(name: &str, text: &str) -> Result<Spec, Vec<Diagnostic>> {
    let mut diags = Diagnostics::default();
    let raw = load::read_spec_str(name, text, &mut diags);
    finish(raw, diags)
}

fn finish(raw: RawSpec, mut diags: Diagnostics) -> Result<Spec, Vec<Diagnostic>> {
    if diags.is_empty() {
        validate::check(&raw, &mut diags);
    }
    if !diags.is_empty() {
        return Err(diags.sorted());
    }
    let index = Index::of(&raw);
    Ok(Spec {
        raw,
        index,
        overlays: Vec::new(),
        changes: overlay::Changes::default(),
    })
}

impl Spec {
    pub fn api(&self) -> &Api {
        &self.raw.api[0]
    }
    pub fn name(&self) -> &str {
        self.api().name.get_ref()
    }
    pub fn auth(&self) -> &Auth {
        &self.raw.auth[0]
    }
    pub fn matrix(&self) -> &MatrixConfig {
        &self.raw.matrix[0]
    }
    pub fn roles(&self) -> impl Iterator<Item = &Role> {
        self.raw.roles.iter().map(|r| &r.value)
    }
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles().find(|r| r.name.get_ref() == name)
    }
    pub fn endpoints(&self) -> impl Iterator<Item = &Endpoint> {
        self.raw.endpoints.iter().map(|r| &r.value)
    }
    /// The endpoint at position `i` of `endpoints()`.
    pub fn endpoint_at(&self, i: usize) -> Option<&Endpoint> {
        self.raw.endpoints.get(i).map(|r| &r.value)
    }
    pub fn endpoint(&self, id: &str) -> Option<&Endpoint> {
        self.endpoint_at(self.endpoint_position(id)?)
    }
    /// The position of endpoint `id` in `endpoints()`.
    pub fn endpoint_position(&self, id: &str) -> Option<usize> {
        self.index.endpoints.get(id).copied()
    }
    pub fn code(&self, id: &str) -> Option<&Code> {
        let i = *self.index.codes.get(id)?;
        self.raw.codes.get(i).map(|c| &c.value)
    }
    pub fn codes(&self) -> impl Iterator<Item = &Code> {
        self.raw.codes.iter().map(|c| &c.value)
    }
    pub fn pagination(&self, name: &str) -> Option<&Pagination> {
        let i = *self.index.paginations.get(name)?;
        self.raw.paginations.get(i).map(|c| &c.value)
    }
    pub fn schema(&self, name: &str) -> Option<&Schema> {
        let i = *self.index.schemas.get(name)?;
        self.raw.schemas.get(i).map(|c| &c.value)
    }
    pub fn collection(&self, name: &str) -> Option<&Collection> {
        let i = *self.index.collections.get(name)?;
        self.raw.collections.get(i).map(|c| &c.value)
    }
    pub fn envelope(&self, name: &str) -> Option<&Envelope> {
        let i = *self.index.envelopes.get(name)?;
        self.raw.envelopes.get(i).map(|c| &c.value)
    }
    pub fn schemas(&self) -> impl Iterator<Item = &Schema> {
        self.raw.schemas.iter().map(|c| &c.value)
    }
    pub fn collections(&self) -> impl Iterator<Item = &Collection> {
        self.raw.collections.iter().map(|c| &c.value)
    }
    pub fn states(&self) -> impl Iterator<Item = &State> {
        self.raw.states.iter().map(|c| &c.value)
    }
    pub fn jobs(&self) -> impl Iterator<Item = &Job> {
        self.raw.jobs.iter().map(|c| &c.value)
    }
    pub fn references(&self) -> impl Iterator<Item = &Reference> {
        self.raw.references.iter().map(|c| &c.value)
    }
    pub fn decisions(&self) -> impl Iterator<Item = &Decision> {
        self.raw.decisions.iter().map(|c| &c.value)
    }
    pub fn digests(&self) -> impl Iterator<Item = &Digest> {
        self.raw.digests.iter().map(|c| &c.value)
    }

    pub fn volatiles(&self) -> impl Iterator<Item = &Volatile> {
        self.raw.volatiles.iter().map(|c| &c.value)
    }
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.raw.rules.iter().map(|c| &c.value)
    }
    pub fn envelopes(&self) -> impl Iterator<Item = &Envelope> {
        self.raw.envelopes.iter().map(|c| &c.value)
    }

    /// Path of a named base, or of the default (first) base when `name` is `None`.
    pub fn base_path(&self, name: Option<&str>) -> &str {
        let bases = &self.api().bases;
        match name {
            Some(b) => bases.get(b).map(String::as_str).unwrap_or(""),
            None => bases.values().next().map(String::as_str).unwrap_or(""),
        }
    }

    /// Base path of an endpoint.
    pub fn base_of(&self, ep: &Endpoint) -> &str {
        self.base_path(ep.base.as_ref().map(|b| b.get_ref().as_str()))
    }

    /// Full path template of an endpoint (base + path).
    pub fn full_path(&self, ep: &Endpoint) -> String {
        let base = self.base_of(ep).trim_end_matches('/');
        let p = ep.path.get_ref();
        if p.is_empty() || p == "/" && !base.is_empty() {
            if base.is_empty() {
                "/".into()
            } else {
                base.into()
            }
        } else {
            format!("{base}{p}")
        }
    }

    /// Roles ordered by rank, lowest first.
    pub fn roles_by_rank(&self) -> Vec<&Role> {
        let mut v: Vec<&Role> = self.roles().collect();
        v.sort_by_key(|r| r.rank);
        v
    }

    /// Whether `role` may call `op`.
    pub fn allows(&self, op: &Operation, role: &Role) -> bool {
        if op.public {
            return true;
        }
        if let Some(min) = &op.min_role {
            match self.role(min.get_ref()) {
                Some(m) => role.rank >= m.rank,
                None => false,
            }
        } else {
            op.roles.iter().any(|r| r.get_ref() == role.name.get_ref())
        }
    }

    /// Safety class of an operation; the same as [`Operation::safety`].
    pub fn safety(op: &Operation) -> Safety {
        op.safety()
    }

    /// Free-form data entry.
    pub fn data(&self, key: &str) -> Option<&toml::Value> {
        self.raw
            .data
            .iter()
            .find(|(_, _, k, _)| k == key)
            .map(|(_, _, _, v)| v)
    }
}

/// A template with its parameter names erased: `/a/{x}/b` and `/a/{y}/b` give `/a/{}/b`.
pub fn template_shape(path: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for ch in path.chars() {
        match ch {
            '{' => {
                depth += 1;
                out.push_str("{}");
            }
            '}' => depth -= 1,
            _ if depth > 0 => {}
            c => out.push(c),
        }
    }
    out
}

/// Names of the `{params}` in a path template, in order, or an error message.
pub fn template_params(path: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return Err("`}` without `{`".into());
        }
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| "`{` without a closing `}`".to_string())?;
        let name = &after[..close];
        if name.is_empty() {
            return Err("empty parameter name `{}`".into());
        }
        if name.contains('{') {
            return Err("nested `{`".into());
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        {
            return Err(format!(
                "parameter name `{name}` has characters outside [A-Za-z0-9_.-]"
            ));
        }
        if out.iter().any(|n| n == name) {
            return Err(format!("parameter `{name}` appears twice"));
        }
        out.push(name.to_string());
        rest = &after[close + 1..];
    }
    Ok(out)
}
