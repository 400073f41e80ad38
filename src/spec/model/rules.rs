//! Explicit `[[rule]]`s: what each states, how it is exercised and what kind it is.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::{Level, Outcome, Provenance, Safety};

/// `[[rule]]`: a testable statement that is not a generated matrix cell.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Hierarchical id, relative to the API (the loader prefixes `<api>/`).
    pub id: Spanned<String>,
    pub kind: RuleKind,
    pub level: Level,
    /// What must hold, in our words.
    pub summary: String,
    /// Endpoint id the rule is about, if any.
    #[serde(default)]
    pub endpoint: Option<Spanned<String>>,
    #[serde(default)]
    pub method: Option<String>,
    /// A literal path (relative to `base`) for probes of paths that are not endpoints,
    /// such as an unknown table name. Exclusive with `endpoint`.
    #[serde(default)]
    pub path: Option<Spanned<String>>,
    /// Base for `path`; default the first base.
    #[serde(default)]
    pub base: Option<Spanned<String>>,
    /// Query parameters the probe sends.
    #[serde(default)]
    pub query: IndexMap<String, String>,
    /// Role the rule is exercised with.
    #[serde(default)]
    pub role: Option<Spanned<String>>,
    /// Expected outcome(s), preferred first.
    #[serde(default)]
    pub expect: Vec<Spanned<Outcome>>,
    /// Safety class of the requests the rule needs (default from the endpoint).
    #[serde(default)]
    pub safety: Option<Safety>,
    /// `[[state]]` the target must be in.
    #[serde(default)]
    pub state: Option<Spanned<String>>,
    #[serde(default)]
    pub decision: Option<Spanned<String>>,
    /// Digest rule numbers this rule covers (e.g. `AC-12`), for traceability.
    #[serde(default)]
    pub covers: Vec<String>,
    /// What the rule's probe sends instead of the endpoint's sample request.
    #[serde(default)]
    pub send: Option<RuleSend>,
    /// `[[rule.step]]`: the rule as a sequence of requests (setup, the request under test,
    /// read-backs) with captures and assertions, in the grammar scenario cases use.
    #[serde(default, rename = "step")]
    pub steps: Vec<super::Step>,
    /// Why no request over the API can observe the rule (a device-internal timing, say).
    /// Such a rule is reported as untestable with this reason instead of being run.
    #[serde(default)]
    pub untestable: Option<String>,
    #[serde(flatten)]
    pub provenance: Provenance,
}

/// `[rule.send]`: the request that exercises a rule, as edits of the endpoint's sample
/// request: other path parameter values, another body, or the sample body with fields set or
/// left out.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleSend {
    /// Path parameter values (by template name).
    pub params: IndexMap<String, String>,
    /// Fields of the sample object to set (any TOML value).
    pub set: IndexMap<String, toml::Value>,
    /// Fields of the sample object to leave out.
    pub omit: Vec<String>,
    /// A whole body instead (text), sent with `content_type`.
    pub body: Option<String>,
    pub content_type: Option<String>,
    /// Extra request headers.
    pub headers: IndexMap<String, String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum RuleKind {
    Matrix,
    Auth,
    Completeness,
    Cursor,
    Format,
    Envelope,
    State,
    Async,
    Reference,
    Behaviour,
    Safety,
}

impl RuleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Matrix => "matrix",
            RuleKind::Auth => "auth",
            RuleKind::Completeness => "completeness",
            RuleKind::Cursor => "cursor",
            RuleKind::Format => "format",
            RuleKind::Envelope => "envelope",
            RuleKind::State => "state",
            RuleKind::Async => "async",
            RuleKind::Reference => "reference",
            RuleKind::Behaviour => "behaviour",
            RuleKind::Safety => "safety",
        }
    }
}

/// `[[digest]]`: a numbered digest of the source document whose rule numbers the spec's
/// rules trace with `covers` (`AC-1` ... `AC-165`). Only the numbering is held here, not the
/// digest's text; `dialtone coverage` shows, for each number, the rules and tests behind it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Digest {
    /// The digest's file name, as the project's reference notes name it.
    pub document: String,
    /// The prefix of its rule numbers (`AC`).
    pub prefix: Spanned<String>,
    /// How many rules it numbers: `<prefix>-1` to `<prefix>-<rules>`.
    pub rules: u32,
}

impl Digest {
    /// Every rule number of the digest, in order.
    pub fn ids(&self) -> impl Iterator<Item = String> + '_ {
        (1..=self.rules).map(|n| format!("{}-{n}", self.prefix.get_ref()))
    }
}
