//! Scenario cases: request sequences with expectations, kept as data in `cases/*.toml`
//! (format: `docs/cases.md`). A case is one test; its steps share captured variables.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::plan::{Exercise, PlanEntry};
use crate::spec::model::{Level, RuleKind, Safety};

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
    /// For the steps of an explicit rule: the rule's kind (a case file has none and is
    /// reported as kind `case`).
    #[serde(skip)]
    pub kind: Option<RuleKind>,
}

fn default_safety() -> Safety {
    Safety::Write
}
fn default_level() -> Level {
    Level::Must
}

pub use crate::spec::model::steps::{Assert, BodyCheck, Control, Poll, Step, ZipMember};

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

    /// The steps of an explicit rule (`[[rule.step]]`), played as a case under the rule's
    /// own plan entry.
    pub fn of_rule(e: &PlanEntry, steps: &[Step]) -> Case {
        Case {
            id: e.id.clone(),
            api: e.api.clone(),
            summary: e.summary.clone(),
            source: e.source.clone(),
            rules: vec![e
                .rule
                .strip_prefix(&format!("{}/", e.api))
                .unwrap_or(&e.rule)
                .to_string()],
            // A step that writes makes the whole rule a write, whatever its endpoint says.
            safety: steps
                .iter()
                .filter_map(|s| s.method.as_deref())
                .map(|m| crate::plan::method_safety(Some(m)))
                .fold(e.safety, Ord::max),
            level: e.level,
            steps: steps.to_vec(),
            file: PathBuf::new(),
            kind: Some(e.kind),
        }
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
            if let Some(p) = s.problems().into_iter().next() {
                return Err(bad(format!("step {} (`{}`): {p}", i + 1, s.name)));
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
