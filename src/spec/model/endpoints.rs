//! `[[endpoint]]`s and their operations: path and query parameters, safety, effects, and
//! the request and response bodies.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::{default_must, BodyFormat, CellRule, FieldType, Level, Outcome, Provenance};

/// `[[endpoint]]`: one path template and its operations.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// Stable id, hierarchical with `/`, unique within the spec (e.g. `alarms/history`).
    pub id: Spanned<String>,
    /// Path template relative to the base, with `{name}` parameters.
    pub path: Spanned<String>,
    /// Name of a base in `[api].bases`; default the first.
    #[serde(default)]
    pub base: Option<Spanned<String>>,
    #[serde(default)]
    pub summary: Option<String>,
    /// Types of the path parameters; every `{name}` in `path` needs one and vice versa.
    #[serde(default)]
    pub params: IndexMap<String, Param>,
    /// Methods the document explicitly lists as unsupported (they expect 405 like any
    /// absent method, but with documented provenance).
    #[serde(default)]
    pub unsupported: Vec<String>,
    /// Where `unsupported` comes from.
    #[serde(default)]
    pub unsupported_source: Option<String>,
    /// Other spellings the document uses for this path (accepted in lenient mode).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Collection this endpoint exposes, if it is stateful.
    #[serde(default)]
    pub collection: Option<Spanned<String>>,
    #[serde(default)]
    pub op: Vec<Operation>,
    #[serde(flatten)]
    pub provenance: Provenance,
}

/// A typed path or query parameter.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Param {
    Type(FieldType),
    Full(Box<ParamSpec>),
}

impl Param {
    /// Whether the parameter must be given (the short form `name = "type"` is required).
    pub fn required(&self) -> bool {
        match self {
            Param::Type(_) => true,
            Param::Full(p) => p.required,
        }
    }
    pub fn spec(&self) -> ParamSpec {
        match self {
            Param::Type(t) => ParamSpec {
                ty: *t,
                required: true,
                example: None,
                enum_values: vec![],
                default: None,
                description: None,
                empty: None,
                filter: None,
                lookup: None,
                names: None,
            },
            Param::Full(p) => (**p).clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    #[serde(rename = "type")]
    pub ty: FieldType,
    #[serde(default = "yes")]
    pub required: bool,
    #[serde(default)]
    pub example: Option<toml::Value>,
    #[serde(rename = "enum", default)]
    pub enum_values: Vec<toml::Value>,
    #[serde(default)]
    pub default: Option<toml::Value>,
    #[serde(default)]
    pub description: Option<String>,
    /// What a request whose segment for this (last) parameter is empty gets (`/x/` for
    /// `/x/{p}`), when the device routes it rather than answering "no such path".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty: Option<Outcome>,
    /// The parameter selects records of the endpoint's collection: those whose `field`
    /// equals its value (or, with `match = "token"`, holds it as a whole token:
    /// `/registrations/ip/{ip}` in a contact URI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<ParamFilter>,
    /// Other names the device accepts for a value, resolved through a table in `[data]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup: Option<Lookup>,
    /// The value names a record that must exist (a phone by id or MAC): one of a
    /// collection's records, or a row of a `[data]` table, holds it in a `match` field.
    /// A value none holds answers the operation's `not_found`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<Names>,
}

/// [`ParamSpec::names`]: where the named records are (`collection`, or `data` and
/// `rows`), the fields that may hold the value (an array field holds it as an element),
/// and the field whose value the parameter stands for in a `filter` (`value`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Names {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<String>,
    #[serde(rename = "match")]
    pub match_fields: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// [`ParamSpec::filter`].
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ParamFilter {
    /// The field of the collection's records the value is compared with.
    pub field: String,
    #[serde(rename = "match", default)]
    pub how: FilterMatch,
}

/// How a [`ParamFilter`] compares.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FilterMatch {
    /// The field's text equals the value (both trimmed).
    #[default]
    Equals,
    /// The value appears in the field's text as a whole token: not inside a longer run
    /// of letters, digits, dots and dashes (`192.168.1.5` is not in `192.168.1.50`).
    Token,
    /// The field is the value or lies under it (`named-config/forwarders` selects
    /// `named-config/forwarders/forwarder_0`): a setting path's subtree.
    Prefix,
}

impl ParamFilter {
    /// Whether a record's `field` value (as text) passes the filter for `value`.
    pub fn holds(&self, field: Option<&str>, value: &str) -> bool {
        let Some(f) = field else { return false };
        match self.how {
            FilterMatch::Equals => f.trim() == value.trim(),
            FilterMatch::Prefix => {
                let v = value.trim().trim_end_matches('/');
                f == v || f.strip_prefix(v).is_some_and(|rest| rest.starts_with('/'))
            }
            FilterMatch::Token => {
                let v = value.trim();
                let part = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
                !v.is_empty()
                    && f.match_indices(v).any(|(i, _)| {
                        let before = f[..i].chars().next_back();
                        let after = f[i + v.len()..].chars().next();
                        !before.is_some_and(part) && !after.is_some_and(part)
                    })
            }
        }
    }
}

/// A path parameter's aliases: the row of `[data.<data>].<rows>` whose `match` fields hold
/// the value sent stands for that row's `value` field (sipXconfig names a registrar by id
/// or FQDN; a registration holds its address).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Lookup {
    pub data: String,
    pub rows: String,
    #[serde(rename = "match")]
    pub match_fields: Vec<String>,
    pub value: String,
}

impl Lookup {
    /// The value `sent` stands for, if a row of the spec's data names it.
    pub fn resolve(&self, spec: &crate::spec::Spec, sent: &str) -> Option<String> {
        let text = |v: &toml::Value| match v {
            toml::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let rows = spec.data(&self.data)?.get(&self.rows)?.as_array()?;
        rows.iter().find_map(|r| {
            self.match_fields
                .iter()
                .any(|f| r.get(f).map(text).as_deref() == Some(sent))
                .then(|| r.get(&self.value).map(text))
                .flatten()
        })
    }
}

fn yes() -> bool {
    true
}

/// `[[endpoint.op]]`: one supported method on an endpoint.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    pub method: Spanned<String>,
    /// Callable without credentials (a login endpoint). Then neither `min_role` nor `roles`.
    #[serde(default)]
    pub public: bool,
    /// Lowest role allowed (by rank). Exactly one of `min_role` and `roles`.
    #[serde(default)]
    pub min_role: Option<Spanned<String>>,
    /// Explicit set of roles allowed.
    #[serde(default)]
    pub roles: Vec<Spanned<String>>,
    /// Default: `read` for GET/HEAD, `write` otherwise.
    #[serde(default)]
    pub safety: Option<Safety>,
    #[serde(default)]
    pub summary: Option<String>,
    /// Outcome for an allowed caller with a valid request.
    #[serde(default)]
    pub success: Option<Spanned<Outcome>>,
    /// Other outcomes an allowed caller may get (e.g. 204 when empty).
    #[serde(default)]
    pub accept: Vec<Spanned<Outcome>>,
    /// Override of `[matrix].forbidden` for this operation.
    #[serde(default)]
    pub forbidden: Option<CellRule>,
    /// Override of `[matrix].not_found` for this operation: what a request naming an
    /// object that does not exist gets (sipXconfig's /rest resources answer 400).
    #[serde(default)]
    pub not_found: Option<CellRule>,
    /// Query parameters.
    #[serde(default)]
    pub query: IndexMap<String, Param>,
    #[serde(default)]
    pub request: Option<Request>,
    #[serde(default)]
    pub response: Option<Response>,
    /// Name of a `[[pagination]]`.
    #[serde(default)]
    pub pagination: Option<Spanned<String>>,
    /// What the operation does to its collection (drives the emulator).
    #[serde(default)]
    pub effect: Option<Effect>,
    /// Result codes this operation documents (ids of `[[code]]`).
    #[serde(default)]
    pub codes: Vec<Spanned<String>>,
    /// `[[job]]` this operation starts or polls.
    #[serde(default)]
    pub job: Option<Spanned<String>>,
    #[serde(default = "default_must")]
    pub level: Level,
    #[serde(default)]
    pub decision: Option<Spanned<String>>,
    #[serde(flatten)]
    pub provenance: Provenance,
}

impl Operation {
    /// The operation's safety class: `safety` if the spec sets it, else `read` for GET,
    /// HEAD and OPTIONS and `write` for every other method.
    pub fn safety(&self) -> Safety {
        self.safety.unwrap_or_else(
            || match self.method.get_ref().to_ascii_uppercase().as_str() {
                "GET" | "HEAD" | "OPTIONS" => Safety::Read,
                _ => Safety::Write,
            },
        )
    }

    /// The outcome of a successful call: `success`, else a bare 200.
    pub fn success_outcome(&self) -> Outcome {
        self.success
            .as_ref()
            .map(|s| s.get_ref().clone())
            .unwrap_or(Outcome {
                status: 200,
                code: None,
            })
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Safety {
    Read,
    Write,
    Disruptive,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    /// Serves `response.body` (or the vendor module's answer) and changes nothing.
    Static,
    /// Lists the collection.
    List,
    /// Reads one record by key from the path.
    Get,
    /// Adds a record; the server assigns ids.
    Create,
    /// Changes an existing record (whole or partial, see `request.completeness`).
    Update,
    /// Adds or replaces by key.
    Upsert,
    /// Removes the record(s) named.
    Delete,
    /// Wipes the collection and inserts the body.
    Replace,
    /// Filters the collection with a query.
    Query,
    /// A device action with no collection (reset, save, generate).
    Action,
    /// Starts a `[[job]]`.
    JobStart,
    /// Polls a `[[job]]`.
    JobPoll,
    /// Uploads an opaque file.
    Upload,
    /// Downloads an opaque file.
    Download,
}

/// Request body rules.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Accepted content types, preferred first. `none` means an empty body.
    pub content_types: Vec<String>,
    /// Body must be empty and carry `Content-Length: 0`.
    #[serde(default)]
    pub empty: bool,
    /// For multipart: the name of the file part.
    #[serde(default)]
    pub file_field: Option<String>,
    /// For an uploaded file: the text format its content must be in.
    #[serde(default)]
    pub file_format: Option<FileFormat>,
    /// For zip: the formats members may be in.
    #[serde(default)]
    pub zip_members: Vec<BodyFormat>,
    /// Schema of the body (or of each record when `many`).
    #[serde(default)]
    pub schema: Option<Spanned<String>>,
    /// The body holds a list of records.
    #[serde(default)]
    pub many: bool,
    /// Top-level key wrapping the record (`roamingProfileInfo`).
    #[serde(default)]
    pub wrapper: Option<String>,
    /// How many fields a request must carry.
    #[serde(default)]
    pub completeness: Option<Completeness>,
    /// Outcome for an incomplete or invalid body.
    #[serde(default)]
    pub reject: Option<Spanned<Outcome>>,
    /// A rejected request changes nothing (default true).
    #[serde(default = "yes")]
    pub atomic: bool,
    /// Query parameter choosing the body format (ROME `format`).
    #[serde(default)]
    pub format_param: Option<String>,
    /// Largest body the device takes, in bytes.
    #[serde(default)]
    pub max_bytes: Option<u64>,
    #[serde(default)]
    pub example: Option<String>,
}

/// Text formats an uploaded file can be required to be in.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FileFormat {
    /// An ini file: every line that is not blank is a comment (`;` or `#`), a `[section]`
    /// or a `name = value` line.
    Ini,
    /// PEM: at least one `-----BEGIN …-----` … `-----END …-----` block.
    Pem,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Completeness {
    /// Every field of the schema must be present (ROME).
    AllFields,
    /// The fields marked `required` must be present.
    RequiredSet,
    /// Any subset; only the key (or `required` fields) is mandatory; others unchanged.
    Partial,
    /// Only the key fields are sent.
    KeyOnly,
}

/// Response body rules.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    /// Content types the endpoint can produce, preferred first.
    pub content_types: Vec<String>,
    #[serde(default)]
    pub schema: Option<Spanned<String>>,
    /// The body holds a list of records.
    #[serde(default)]
    pub many: bool,
    /// Envelope wrapping the data (name of an `[[envelope]]`).
    #[serde(default)]
    pub envelope: Option<Spanned<String>>,
    /// Top-level key or element wrapping the list (`alarms`, `branches`).
    #[serde(default)]
    pub wrapper: Option<String>,
    /// Headers the response must carry.
    #[serde(default)]
    pub headers: Vec<String>,
    /// Query parameter choosing the format (ROME `format`), with its values.
    #[serde(default)]
    pub format_param: Option<String>,
    /// A fixed body the emulator serves for `effect = "static"` (JSON text or raw).
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub example: Option<String>,
}
