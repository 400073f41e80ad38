//! Scenario cases: request sequences with expectations, kept as data in `cases/*.toml`
//! (format: `docs/cases.md`). A case is one test; its steps share captured variables.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;

use crate::plan::{Exercise, PlanEntry};
use crate::spec::model::{Level, Outcome, RuleKind, Safety};

/// One case file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Test id, `<api>/case/<name>`.
    pub id: String,
    pub api: String,
    pub summary: String,
    /// Document sections the case follows.
    pub source: String,
    /// Rule ids (without the api prefix) the case exercises.
    #[serde(default)]
    pub rules: Vec<String>,
    #[serde(default = "default_safety")]
    pub safety: Safety,
    #[serde(default = "default_level")]
    pub level: Level,
    #[serde(rename = "step")]
    pub steps: Vec<Step>,
    #[serde(skip)]
    pub file: PathBuf,
}

fn default_safety() -> Safety {
    Safety::Write
}
fn default_level() -> Level {
    Level::Must
}

/// One request of a case, or one instruction to the emulator's control interface.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub name: String,
    /// Role to send as; `none` and `bad-credentials` as in the matrix.
    #[serde(default, rename = "as")]
    pub role: Option<String>,
    #[serde(default)]
    pub method: Option<String>,
    /// Path under the API's base (`/branch/{{id}}`), or a captured full URL (`{{location}}`).
    #[serde(default)]
    pub path: Option<String>,
    /// Use this base of the API instead of the first (a base name from the spec).
    #[serde(default)]
    pub base: Option<String>,
    #[serde(default)]
    pub query: IndexMap<String, String>,
    #[serde(default)]
    pub headers: IndexMap<String, String>,
    /// A JSON body.
    #[serde(default)]
    pub json: Option<toml::Value>,
    /// A text body (XML, CSV, ...), sent with `content_type`.
    #[serde(default)]
    pub text: Option<String>,
    /// Zip members `{ name, text }`, sent as `application/zip` (or `content_type`).
    #[serde(default)]
    pub zip: Vec<ZipMember>,
    /// A body given as base64 bytes (what `dialtone fuzz` saves: any bytes, not only
    /// text). Sent with `content_type` when given, else with no Content-Type at all.
    #[serde(default)]
    pub body_b64: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
    /// When the answer has a body, its content type must be of one of these kinds (JSON,
    /// XML, CSV and other text by family, anything else exactly).
    #[serde(default)]
    pub content_types: Vec<String>,
    /// Acceptable outcomes, preferred first.
    #[serde(default)]
    pub expect: Vec<Outcome>,
    /// Repeat the request (at most `max` times) until the outcome is `until`.
    #[serde(default)]
    pub poll: Option<Poll>,
    /// Checks on the answer body.
    #[serde(default)]
    pub body: Option<BodyCheck>,
    /// Required response headers.
    #[serde(default)]
    pub response_headers: Vec<String>,
    /// Variables to take from the answer: name → JSON pointer into the parsed body
    /// (XML parses as `{root: ...}`), or `header:<Name>`.
    #[serde(default)]
    pub capture: IndexMap<String, String>,
    /// An emulator control action instead of a request; the case then runs only against
    /// the emulator.
    #[serde(default)]
    pub control: Option<Control>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZipMember {
    pub name: String,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Poll {
    pub until: Outcome,
    pub max: u32,
    /// Pause between polls, milliseconds.
    #[serde(default)]
    pub interval_ms: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyCheck {
    /// Substrings the body must hold.
    #[serde(default)]
    pub contains: Vec<String>,
    /// Substrings it must not hold.
    #[serde(default)]
    pub absent: Vec<String>,
    /// JSON pointer → expected scalar (compared as text).
    #[serde(default)]
    pub equals: IndexMap<String, String>,
    /// JSON pointer → array length.
    #[serde(default)]
    pub len: IndexMap<String, usize>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub enum Control {
    /// Restore the emulator's seed data.
    Reset,
    /// Enter a device state.
    Enter(String),
    /// Leave a device state.
    Leave(String),
    /// Replace a collection with N generated rows.
    Generate { collection: String, count: u64 },
}

/// A case file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct CaseError {
    pub path: PathBuf,
    pub message: String,
}

impl Case {
    pub fn emulator_only(&self) -> bool {
        self.steps.iter().any(|s| s.control.is_some())
    }

    /// The plan entry a case shows up as.
    pub fn plan_entry(&self) -> PlanEntry {
        let mut e = PlanEntry::new(
            &self.api,
            RuleKind::Behaviour,
            self.id.clone(),
            Exercise::Rule,
        );
        if let Some(r) = self.rules.first() {
            e.rule = format!("{}/{r}", self.api);
        }
        e.level = self.level;
        e.safety = self.safety;
        e.source = self.source.clone();
        e.summary = self.summary.clone();
        e
    }

    pub fn parse(text: &str, path: &Path) -> Result<Case, CaseError> {
        let mut c: Case = toml::from_str(text).map_err(|e| CaseError {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        c.file = path.to_path_buf();
        let bad = |m: String| CaseError {
            path: path.to_path_buf(),
            message: m,
        };
        if !c.id.starts_with(&format!("{}/case/", c.api)) {
            return Err(bad(format!("`id` must start with `{}/case/`", c.api)));
        }
        if c.steps.is_empty() {
            return Err(bad("a case needs at least one `[[step]]`".into()));
        }
        for (i, s) in c.steps.iter().enumerate() {
            let at = format!("step {} (`{}`)", i + 1, s.name);
            match (&s.control, &s.method, &s.path) {
                (Some(_), None, None) => {}
                (Some(_), _, _) => {
                    return Err(bad(format!("{at}: a control step sends no request")))
                }
                (None, Some(_), Some(_)) if !s.expect.is_empty() || s.poll.is_some() => {}
                (None, Some(_), Some(_)) => return Err(bad(format!("{at}: `expect` is missing"))),
                _ => return Err(bad(format!("{at}: `method` and `path` are required"))),
            }
            let bodies = [
                s.json.is_some(),
                s.text.is_some(),
                !s.zip.is_empty(),
                s.body_b64.is_some(),
            ];
            if bodies.iter().filter(|b| **b).count() > 1 {
                return Err(bad(format!(
                    "{at}: give one of `json`, `text`, `zip`, `body_b64`"
                )));
            }
            if let Some(b) = &s.body_b64 {
                use base64::Engine as _;
                if base64::engine::general_purpose::STANDARD.decode(b).is_err() {
                    return Err(bad(format!("{at}: `body_b64` is not base64")));
                }
            }
        }
        Ok(c)
    }
}

/// Every `*.toml` under `dir`, sorted by path. A missing directory is no cases.
pub fn load_dir(dir: &Path) -> Result<Vec<Case>, CaseError> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Ok(vec![]);
    };
    let mut paths: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        let text = std::fs::read_to_string(&p).map_err(|e| CaseError {
            path: p.clone(),
            message: e.to_string(),
        })?;
        out.push(Case::parse(&text, &p)?);
    }
    Ok(out)
}

/// The bundled `cases/` directory.
pub fn bundled_dir() -> PathBuf {
    crate::spec::specs_dir()
        .parent()
        .map(|p| p.join("cases"))
        .unwrap_or_else(|| PathBuf::from("cases"))
}
