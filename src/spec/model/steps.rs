//! The step grammar that explicit rules (`[[rule.step]]`) and scenario cases
//! (`cases/*.toml`, `[[step]]`) share: requests with captures and assertions on the
//! answers, or instructions to the emulator's control interface.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::Outcome;

/// One request, or one instruction to the emulator's control interface.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
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
    /// An endpoint id instead of `path`: its full path, with `params` for its path
    /// parameters (others from the spec's examples) and its required query parameters.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// With `endpoint`: path parameter values by template name (substituted).
    #[serde(default)]
    pub params: IndexMap<String, String>,
    /// With `endpoint`: required query parameters to leave out.
    #[serde(default)]
    pub omit_query: Vec<String>,
    /// With `endpoint`: send the operation's sample body, edited by `set` and `omit`.
    #[serde(default)]
    pub sample: bool,
    /// Fields of the sample object to set (any TOML value; strings are substituted).
    #[serde(default)]
    pub set: IndexMap<String, toml::Value>,
    /// Fields of the sample object to leave out.
    #[serde(default)]
    pub omit: Vec<String>,
    /// Query parameters (substituted); with `endpoint` they replace its own of the same name.
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
    /// Checks on the answer body text and values.
    #[serde(default)]
    pub body: Option<BodyCheck>,
    /// Assertions on values of the answer: at JSON pointers into the parsed body (XML and
    /// CSV are read into the same shape), or on headers.
    #[serde(default)]
    pub assert: Vec<Assert>,
    /// Required response headers.
    #[serde(default)]
    pub response_headers: Vec<String>,
    /// Variables to take from the answer: name → JSON pointer into the parsed body
    /// (XML parses as `{root: ...}`), `count:<pointer>` (the length of the array there),
    /// or `header:<Name>`.
    #[serde(default)]
    pub capture: IndexMap<String, String>,
    /// An emulator control action instead of a request; the steps then run only against
    /// the emulator.
    #[serde(default)]
    pub control: Option<Control>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ZipMember {
    pub name: String,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Poll {
    pub until: Outcome,
    pub max: u32,
    /// Pause between polls, milliseconds.
    #[serde(default)]
    pub interval_ms: u64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
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

/// One assertion on an answer. It names where to look (`at`, a JSON pointer into the
/// parsed body, or `header`) and one or more things that must hold there; every one given
/// is checked. Texts are substituted (`{{var}}`) before comparing.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Assert {
    /// JSON pointer into the parsed answer (`""` is the whole body).
    #[serde(default)]
    pub at: Option<String>,
    /// A response header instead of a body value.
    #[serde(default)]
    pub header: Option<String>,
    /// The value, as text, equals this.
    #[serde(default)]
    pub equals: Option<String>,
    /// The value, as text, is one of these.
    #[serde(default)]
    pub one_of: Vec<String>,
    /// The value, as text, matches this regular expression (anchored at both ends).
    #[serde(default)]
    pub matches: Option<String>,
    /// `true`: something is there; `false`: nothing is.
    #[serde(default)]
    pub present: Option<bool>,
    /// The array there has this many elements (a single value counts 1, null or nothing 0).
    #[serde(default)]
    pub count: Option<usize>,
    /// The array there is sorted by this field of its elements (`""`: by the elements).
    #[serde(default)]
    pub sorted_by: Option<String>,
    /// With `sorted_by`: in descending order.
    #[serde(default)]
    pub descending: bool,
    /// The value, as text, equals the captured variable of this name.
    #[serde(default)]
    pub same_as: Option<String>,
    /// The value, as text, differs from the captured variable of this name.
    #[serde(default)]
    pub differs_from: Option<String>,
    /// With `since`: the number there (an array's length) minus the captured number equals
    /// this: the difference between two read-backs.
    #[serde(default)]
    pub changed_by: Option<i64>,
    #[serde(default)]
    pub since: Option<String>,
    /// The object there (each element, for an array) has all of these keys.
    #[serde(default)]
    pub keys: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
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

impl Step {
    /// What is wrong with the step on its own, each as a sentence without location.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let place = self.path.is_some() || self.endpoint.is_some();
        match (&self.control, &self.method, place) {
            (Some(_), None, false) => {}
            (Some(_), _, _) => out.push("a control step sends no request".into()),
            (None, Some(_), true) if !self.expect.is_empty() || self.poll.is_some() => {}
            (None, Some(_), true) => out.push("`expect` is missing".into()),
            _ => out.push("`method` and `path` (or `endpoint`) are required".into()),
        }
        if self.path.is_some() && self.endpoint.is_some() {
            out.push("give `path` or `endpoint`, not both".into());
        }
        let edits = self.sample || !self.set.is_empty() || !self.omit.is_empty();
        if self.endpoint.is_none()
            && (edits || !self.params.is_empty() || !self.omit_query.is_empty())
        {
            out.push("`params`, `omit_query`, `sample`, `set` and `omit` need `endpoint`".into());
        }
        let bodies = [
            self.sample || !self.set.is_empty() || !self.omit.is_empty(),
            self.json.is_some(),
            self.text.is_some(),
            !self.zip.is_empty(),
            self.body_b64.is_some(),
        ];
        if bodies.iter().filter(|b| **b).count() > 1 {
            out.push(
                "give one body: `sample` (or `set`/`omit`), `json`, `text`, `zip` or `body_b64`"
                    .into(),
            );
        }
        if let Some(b) = &self.body_b64 {
            use base64::Engine as _;
            if base64::engine::general_purpose::STANDARD.decode(b).is_err() {
                out.push("`body_b64` is not base64".into());
            }
        }
        for (k, from) in &self.capture {
            let ptr = from
                .strip_prefix("count:")
                .unwrap_or(from.as_str())
                .to_string();
            if !from.starts_with("header:") && !ptr.is_empty() && !ptr.starts_with('/') {
                out.push(format!("capture `{k}`: `{from}` is not a JSON pointer (`/a/b`), `count:/a` or `header:Name`"));
            }
        }
        for (i, a) in self.assert.iter().enumerate() {
            out.extend(
                a.problems()
                    .into_iter()
                    .map(|p| format!("assert {}: {p}", i + 1)),
            );
        }
        out
    }

    /// Whether the step drives the emulator rather than sending an API request.
    pub fn is_control(&self) -> bool {
        self.control.is_some()
    }
}

impl Assert {
    /// What is wrong with the assertion on its own.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        match (&self.at, &self.header) {
            (Some(_), Some(_)) => out.push("give `at` or `header`, not both".into()),
            (None, None) => out.push("say where to look: `at` (a JSON pointer) or `header`".into()),
            (Some(p), None) if !p.is_empty() && !p.starts_with('/') => {
                out.push(format!("`at = \"{p}\"` is not a JSON pointer (`/a/b`)"))
            }
            _ => {}
        }
        if self.checks() == 0 {
            out.push("it checks nothing: give `equals`, `one_of`, `matches`, `present`, `count`, `sorted_by`, `same_as`, `differs_from`, `changed_by` or `keys`".into());
        }
        if self.changed_by.is_some() != self.since.is_some() {
            out.push("`changed_by` and `since` go together".into());
        }
        if self.descending && self.sorted_by.is_none() {
            out.push("`descending` needs `sorted_by`".into());
        }
        if let Some(m) = &self.matches {
            if let Err(e) = regex::Regex::new(m) {
                out.push(format!("`matches`: {e}"));
            }
        }
        out
    }

    /// How many things the assertion checks.
    pub fn checks(&self) -> usize {
        [
            self.equals.is_some(),
            !self.one_of.is_empty(),
            self.matches.is_some(),
            self.present.is_some(),
            self.count.is_some(),
            self.sorted_by.is_some(),
            self.same_as.is_some(),
            self.differs_from.is_some(),
            self.changed_by.is_some(),
            !self.keys.is_empty(),
        ]
        .iter()
        .filter(|b| **b)
        .count()
    }
}
