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
    /// The endpoint serves a settings tree held in `[data]` (sipXconfig's setting paths).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<SettingsTree>,
    /// The endpoint acts on the caller's records of its collection only (the collection
    /// names an `owner`): lists hold them, a path naming another account's record answers
    /// `others`, and without a path key the caller's one record is read or written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned: Option<Owned>,
    #[serde(default)]
    pub op: Vec<Operation>,
    #[serde(flatten)]
    pub provenance: Provenance,
}

/// [`Operation::when_empty`].
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WhenEmpty {
    pub field: String,
    pub outcome: Outcome,
}

/// [`Operation::assign`].
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    /// The field set.
    pub field: String,
    /// Its new value: text with `{param}` placeholders filled from the path, or any other
    /// value as given.
    pub value: toml::Value,
    /// With `map`, the filled text chooses the value stored (`lock` → `true`); text the
    /// map lacks changes nothing (a conference command that is not a lock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<toml::Table>,
}

/// [`Endpoint::owned`].
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Owned {
    /// What a request naming another account's record gets (default: "not found").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub others: Option<Outcome>,
    /// The path parameter naming the record (default: the last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
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
                missing: None,
                filter: None,
                lookup: None,
                invalid: None,
                min_len: None,
                pattern: None,
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
    /// What a request without this required query parameter gets, where the device
    /// answers a documented outcome rather than the operation's plain rejection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<Outcome>,
    /// The parameter selects records of the endpoint's collection: those whose `field`
    /// equals its value (or, with `match = "token"`, holds it as a whole token:
    /// `/registrations/ip/{ip}` in a contact URI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<ParamFilter>,
    /// Other names the device accepts for a value, resolved through a table in `[data]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup: Option<Lookup>,
    /// What a value that is not of the parameter's type (or not one of its `enum`, or
    /// shorter than `min_len`) gets, when the device checks it: a path value (a PIN that is
    /// not digits), or a query value outside its `enum` or not offered by the operation
    /// (ROME's `format`), where the document names that answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<Outcome>,
    /// Shortest value the device takes (with `invalid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_len: Option<usize>,
    /// Regular expression the whole value must match (with `invalid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
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

/// [`Operation::rotate`]: the first `by` entries of the list `field` move to its end,
/// `by` being the path parameter of that name.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rotate {
    pub field: String,
    pub by: String,
}

/// [`Operation::remove_at`]: the entry of the list `field` at the 0-based position the
/// path parameter `at` holds is removed; a position beyond the list is "not found".
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveAt {
    pub field: String,
    pub at: String,
}

/// [`Operation::set_field`].
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SetField {
    pub field: String,
    pub value: toml::Value,
    /// The value every other record's `field` takes at the same time.
    #[serde(default)]
    pub others: Option<toml::Value>,
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
    /// The field's text starts with the value (`/callgroups/prefix/33` selects `3399`).
    Starts,
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
            FilterMatch::Starts => !value.trim().is_empty() && f.trim().starts_with(value.trim()),
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

/// [`Endpoint::settings`]: the list of settings at `at` inside `[data.<data>]`, each a
/// table with `path`, `type` (`string`, `boolean`, `integer`, `enum`), `options`, `value`
/// and `defaultValue` (more keys are answered as they are; absent ones as null).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsTree {
    pub data: String,
    /// Dotted keys down to the list; a `{param}` key is that path parameter's value
    /// (`gateways.{gatewayId}.settings`). A value that leads nowhere is "no such object".
    #[serde(default = "settings_key")]
    pub at: String,
    /// The path parameter holding the setting path (the rest of the URL); none on the
    /// endpoint of the whole tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The key a subtree's list is answered under.
    #[serde(default = "settings_key")]
    pub wrapper: String,
}

fn settings_key() -> String {
    "settings".into()
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
    /// For an `action`: copy the record the first path parameter names to the key this
    /// path parameter holds (`/callgroups/{extension}/duplicate/{newExtension}`).
    #[serde(default)]
    pub copy_to: Option<String>,
    /// For an `action`: rotate a list field of the record the first path parameter names.
    #[serde(default)]
    pub rotate: Option<Rotate>,
    /// For an `action`: remove one entry of a list field of the record the first path
    /// parameter names.
    #[serde(default)]
    pub remove_at: Option<RemoveAt>,
    /// For an `action`: set a field of the record the first path parameter names (and,
    /// with `others`, the same field of every other record: at most one is marked).
    #[serde(default)]
    pub set_field: Option<SetField>,
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
    /// On an `owned` endpoint: the one field this operation sets on the caller's record
    /// (or the record `owned.param` names), its value taken from the path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assign: Option<Assign>,
    /// A read of a record whose `field` is empty (absent, `""`, `[]`) answers `outcome`
    /// (a conference without participants: 406).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_empty: Option<WhenEmpty>,
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
    /// For an uploaded text file: commands (the first word of a line) it may not hold,
    /// such as an action command a script sent over the API may not run.
    #[serde(default)]
    pub file_refused_commands: Vec<String>,
    /// For a multipart upload: the field of the endpoint's collection that records the
    /// file's name; the upload then adds that record (a prompt file then listed).
    #[serde(default)]
    pub file_record: Option<String>,
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
    /// Smallest body the device takes, in bytes (1: "requires a non empty body"); a
    /// shorter one gets `reject`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_bytes: Option<u64>,
    /// The field a raw body (a vCard) written to a path-named record is stored in
    /// (default `content`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_field: Option<String>,
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
    /// A create's answer is the new record's key alone, as text (`7`), not an envelope.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub key_body: bool,
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
    /// A collection with an `owner` whose caller's record's fields a list answer carries
    /// beside its items (the phone book's `show-on-phone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_fields: Option<String>,
    #[serde(default)]
    pub example: Option<String>,
}
