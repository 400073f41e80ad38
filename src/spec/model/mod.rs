//! The spec language as Rust types.
//!
//! These types are the single source of truth for what a spec file may contain; the
//! reference in `docs/spec-format.md` describes them key by key. Every struct denies
//! unknown keys so that a typo in a spec is an error, never a silently ignored line.
//!
//! Values that later checks need to point at carry a [`Spanned`](toml::Spanned) wrapper so
//! that the loader can report `file:line:col` for semantic problems, not only for syntax
//! errors.
//!
//! The types are grouped by area, one file each, and all re-exported here: the shared
//! pieces (a file's tables, provenance, outcomes and levels) live in this file.

mod answers;
mod data;
mod endpoints;
mod lifecycle;
mod rules;
pub mod steps;
mod top;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

pub use self::answers::*;
pub use self::data::*;
pub use self::endpoints::*;
pub use self::lifecycle::*;
pub use self::rules::*;
pub use self::steps::{Assert, Step};
pub use self::top::*;

/// One file's worth of top-level tables. A spec directory is the union of its files.
/// Every table is optional in a file: a missing one is absent or empty.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpecFile {
    pub api: Option<Api>,
    pub auth: Option<Auth>,
    pub matrix: Option<MatrixConfig>,
    pub role: Vec<Role>,
    pub envelope: Vec<Envelope>,
    pub code: Vec<Code>,
    pub pagination: Vec<Pagination>,
    pub schema: Vec<Schema>,
    pub collection: Vec<Collection>,
    pub state: Vec<State>,
    pub job: Vec<Job>,
    pub reference: Vec<Reference>,
    pub decision: Vec<Decision>,
    pub endpoint: Vec<Endpoint>,
    pub rule: Vec<Rule>,
    pub volatile: Vec<Volatile>,
    /// Free-form seed data for vendor modules (for example the Mediant KPI tree).
    pub data: IndexMap<String, toml::Value>,
}

/// Where a statement comes from: exactly one of `source` or `inferred` must be set.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// Section, table or line range of the source document, e.g. `§8 Alarm History`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// One-line reason when the document does not say it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inferred: Option<String>,
}

impl Provenance {
    pub fn describe(&self) -> String {
        match (&self.source, &self.inferred) {
            (Some(s), _) => s.clone(),
            (None, Some(r)) => format!("inferred: {r}"),
            (None, None) => "unspecified".into(),
        }
    }

    /// [`Provenance::describe`], or `fallback` when neither a source nor a reason is given
    /// (a field that inherits its schema's section).
    pub fn describe_or(&self, fallback: &str) -> String {
        match (&self.source, &self.inferred) {
            (None, None) => fallback.to_string(),
            _ => self.describe(),
        }
    }
}

/// An expected response: an HTTP status, optionally with an API result code
/// (the `id` of a `[[code]]`). Written `"403"`, `403`, or `"200:1201"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Outcome {
    pub status: u16,
    pub code: Option<String>,
}

impl Outcome {
    /// Outcomes as text, `sep` between them: `201|200:1201`.
    pub fn join(outcomes: &[Outcome], sep: &str) -> String {
        let texts: Vec<String> = outcomes.iter().map(Outcome::to_string).collect();
        texts.join(sep)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.code {
            Some(c) => write!(f, "{}:{}", self.status, c),
            None => write!(f, "{}", self.status),
        }
    }
}

impl std::str::FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (st, code) = match s.split_once(':') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        let status: u16 = st
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not an outcome: expected STATUS or STATUS:CODE"))?;
        if !(100..=999).contains(&status) {
            return Err(format!("status {status} is outside 100..=999"));
        }
        let code = match code {
            Some(c) if c.trim().is_empty() => {
                return Err(format!("`{s}` has an empty result code after `:`"))
            }
            Some(c) => Some(c.trim().to_string()),
            None => None,
        };
        Ok(Outcome { status, code })
    }
}

impl<'de> Deserialize<'de> for Outcome {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Str(String),
        }
        match Raw::deserialize(d)? {
            Raw::Int(i) => format!("{i}").parse().map_err(serde::de::Error::custom),
            Raw::Str(s) => s.parse().map_err(serde::de::Error::custom),
        }
    }
}

impl Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

fn default_must() -> Level {
    Level::Must
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Must,
    Should,
    May,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "must",
            Level::Should => "should",
            Level::May => "may",
        }
    }
}
