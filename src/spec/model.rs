//! The spec language as Rust types.
//!
//! These types are the single source of truth for what a spec file may contain; the
//! reference in `docs/spec-format.md` describes them key by key. Every struct denies
//! unknown keys so that a typo in a spec is an error, never a silently ignored line.
//!
//! Values that later checks need to point at carry a [`Spanned`] wrapper so that the
//! loader can report `file:line:col` for semantic problems, not only for syntax errors.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// One file's worth of top-level tables. A spec directory is the union of its files.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecFile {
    pub api: Option<Api>,
    pub auth: Option<Auth>,
    pub matrix: Option<MatrixConfig>,
    #[serde(default)]
    pub role: Vec<Role>,
    #[serde(default)]
    pub envelope: Vec<Envelope>,
    #[serde(default)]
    pub code: Vec<Code>,
    #[serde(default)]
    pub pagination: Vec<Pagination>,
    #[serde(default)]
    pub schema: Vec<Schema>,
    #[serde(default)]
    pub collection: Vec<Collection>,
    #[serde(default)]
    pub state: Vec<State>,
    #[serde(default)]
    pub job: Vec<Job>,
    #[serde(default)]
    pub reference: Vec<Reference>,
    #[serde(default)]
    pub decision: Vec<Decision>,
    #[serde(default)]
    pub endpoint: Vec<Endpoint>,
    #[serde(default)]
    pub rule: Vec<Rule>,
    #[serde(default)]
    pub volatile: Vec<Volatile>,
    /// Free-form seed data for vendor modules (for example the Mediant KPI tree).
    #[serde(default)]
    pub data: IndexMap<String, toml::Value>,
}

/// `[api]`: identity of the API and the document it encodes.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Api {
    /// Short machine name; must equal the spec directory name. Prefix of every rule ID.
    pub name: Spanned<String>,
    pub title: String,
    /// The source document this spec encodes.
    pub document: String,
    /// Version of the document or of the API it describes.
    pub version: String,
    /// File name of the document in `shared/seeds/` (informational).
    #[serde(default)]
    pub seed_file: Option<String>,
    /// Named base paths. Endpoints pick one with `base`; the first is the default.
    pub bases: IndexMap<String, String>,
    /// `https` unless the document says otherwise.
    #[serde(default = "default_scheme")]
    pub scheme: String,
    /// Default port the document names, if any.
    #[serde(default)]
    pub port: Option<u16>,
    /// Vendor module the emulator uses for behaviour the language can't express.
    #[serde(default)]
    pub vendor_module: Option<String>,
    /// Free text shown in reports.
    #[serde(default)]
    pub notes: Option<String>,
}

fn default_scheme() -> String {
    "https".into()
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
}

/// `[auth]`: how a client authenticates.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    pub scheme: AuthScheme,
    /// Header carrying the credential. Default `Authorization`.
    #[serde(default = "default_auth_header")]
    pub header: String,
    /// Token prefix for `bearer`, e.g. `Bearer`.
    #[serde(default)]
    pub prefix: Option<String>,
    /// `WWW-Authenticate` realm the emulator sends with 401, if any.
    #[serde(default)]
    pub realm: Option<String>,
    /// Extra headers every request must carry (e.g. `X-Requested-With`).
    #[serde(default)]
    pub required_headers: IndexMap<String, String>,
    /// Outcome when no credential is sent.
    pub missing: Spanned<Outcome>,
    /// Outcome when a credential is sent but is wrong.
    pub invalid: Spanned<Outcome>,
    /// Other outcomes lenient mode accepts for both (e.g. a denial reported in the body).
    #[serde(default)]
    pub accept: Vec<Spanned<Outcome>>,
    /// Decision explaining `accept`.
    #[serde(default)]
    pub decision: Option<Spanned<String>>,
    #[serde(flatten)]
    pub provenance: Provenance,
}

fn default_auth_header() -> String {
    "Authorization".into()
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum AuthScheme {
    /// HTTP Basic, `Authorization: Basic base64(user:pass)`.
    Basic,
    /// A bearer token in `header`, prefixed with `prefix`.
    Bearer,
}

/// `[[role]]`: an account class. `rank` orders privilege; higher is more.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub name: Spanned<String>,
    pub title: String,
    pub rank: i64,
    /// Default account name the emulator creates for this role.
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(flatten)]
    pub provenance: Provenance,
}

/// `[matrix]`: API-wide rules for building the method × role matrix.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixConfig {
    /// Methods tested on every endpoint. Methods an endpoint lacks expect `method_not_allowed`.
    pub methods: Spanned<Vec<String>>,
    /// Order in which checks apply when several fail at once.
    pub precedence: Spanned<Vec<Check>>,
    /// Outcome for a method the endpoint does not support.
    pub method_not_allowed: CellRule,
    /// Outcome for a role below the operation's privilege.
    pub forbidden: CellRule,
    /// Outcome for a path the API does not have.
    pub not_found: CellRule,
    /// Outcome for an `Accept` the endpoint cannot produce (absent: not tested).
    #[serde(default)]
    pub not_acceptable: Option<CellRule>,
    /// Outcome for a body whose content type the endpoint does not take.
    #[serde(default)]
    pub unsupported_media_type: Option<CellRule>,
    /// Outcome for a body larger than the device accepts.
    #[serde(default)]
    pub payload_too_large: Option<CellRule>,
}

/// The checks a request passes through, in an order given by `precedence`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    Route,
    Auth,
    Method,
    Role,
    State,
    Validation,
}

/// An outcome rule for a class of matrix cells.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CellRule {
    /// Preferred outcome (the one `--strict` insists on).
    pub expect: Spanned<Outcome>,
    /// Other outcomes accepted in lenient mode.
    #[serde(default)]
    pub accept: Vec<Spanned<Outcome>>,
    /// A 405 must carry an `Allow` header listing the supported methods.
    #[serde(default)]
    pub allow_header: bool,
    /// Envelope the error body uses (name of an `[[envelope]]`).
    #[serde(default)]
    pub envelope: Option<Spanned<String>>,
    #[serde(default = "default_must")]
    pub level: Level,
    /// Name of the `[[decision]]` that explains a choice between readings.
    #[serde(default)]
    pub decision: Option<Spanned<String>>,
    #[serde(flatten)]
    pub provenance: Provenance,
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

/// An expected response: an HTTP status, optionally with an API result code
/// (the `id` of a `[[code]]`). Written `"403"`, `403`, or `"200:1201"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Outcome {
    pub status: u16,
    pub code: Option<String>,
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

/// `[[envelope]]`: the shape of a response body, usually an error body.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    pub name: Spanned<String>,
    pub format: BodyFormat,
    /// Content type the body is served with.
    pub content_type: String,
    /// For XML: the root element.
    #[serde(default)]
    pub root: Option<String>,
    /// Dotted path to the human message (`description`, `response.message`).
    #[serde(default)]
    pub message_path: Option<String>,
    /// Dotted path to the machine code (`response.code`, `Response.resultParam.resultCode`).
    #[serde(default)]
    pub code_path: Option<String>,
    /// Dotted path to the payload rows or data.
    #[serde(default)]
    pub data_path: Option<String>,
    /// For `text`: the body is `template` with `{status}`, `{message}` substituted.
    #[serde(default)]
    pub template: Option<String>,
    /// Whether messages are compared exactly or after normalisation
    /// (whitespace, dashes, case, trailing dot; substring).
    #[serde(default)]
    pub match_mode: MatchMode,
    #[serde(default)]
    pub example: Option<String>,
    #[serde(flatten)]
    pub provenance: Provenance,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum MatchMode {
    #[default]
    Exact,
    Normalized,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum BodyFormat {
    Json,
    Xml,
    Csv,
    Text,
    Binary,
    Zip,
    Multipart,
    Empty,
}

/// `[[code]]`: an API result or error code with its exact message.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Code {
    /// Identifier used after `:` in outcomes, e.g. `1210` or `invalid-table`.
    pub id: Spanned<String>,
    /// HTTP status this code travels with.
    pub status: u16,
    /// Value of the code in the body, if it differs from `id` (e.g. ROME's `400`).
    #[serde(default)]
    pub value: Option<String>,
    /// Exact message; `{name}` placeholders are filled by the emulator (e.g. `{table}`).
    #[serde(default)]
    pub message: Option<String>,
    /// What the code means.
    pub meaning: String,
    #[serde(default)]
    pub class: CodeClass,
    /// "The operation may have happened": the caller must re-read to learn the truth.
    #[serde(default)]
    pub indeterminate: bool,
    /// Envelope the code is carried in.
    #[serde(default)]
    pub envelope: Option<Spanned<String>>,
    /// Operations (endpoint ids) that document this code.
    #[serde(default)]
    pub operations: Vec<Spanned<String>>,
    #[serde(flatten)]
    pub provenance: Provenance,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum CodeClass {
    Success,
    #[default]
    Failure,
    Conflict,
    Empty,
    Indeterminate,
    Partial,
}

/// `[[pagination]]`: a paging or cursor style.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Pagination {
    pub name: Spanned<String>,
    pub style: PaginationStyle,
    /// Query parameter names, by role: `after`, `before`, `limit`, `page`, `pagesize`,
    /// `start`, `end`, `sort`, `order`, `filter`.
    pub params: IndexMap<String, String>,
    /// Limit applied when the client gives none.
    #[serde(default)]
    pub default_limit: Option<u64>,
    /// Largest limit honoured; bigger ones are clamped (or rejected, see `over_limit`).
    #[serde(default)]
    pub max_limit: Option<u64>,
    /// Value of a cursor field that means "no more in this direction".
    #[serde(default)]
    pub sentinel: Option<i64>,
    /// Response fields by role: `items`, `start`, `end`, `next`, `prev`, `total`, `metadata`.
    #[serde(default)]
    pub fields: IndexMap<String, String>,
    /// A page may hold fewer items than the limit even when more exist.
    #[serde(default)]
    pub may_return_fewer: bool,
    /// Outcome when the collection (or the page) is empty.
    #[serde(default)]
    pub empty: Option<Spanned<Outcome>>,
    /// Outcome for an invalid cursor or paging parameter.
    #[serde(default)]
    pub invalid: Option<Spanned<Outcome>>,
    /// Order items come in, e.g. `id-ascending`.
    #[serde(default)]
    pub order: Option<String>,
    /// First page or row number (0 or 1) for `page`, `rows` and `offset`.
    #[serde(default)]
    pub first_index: Option<u64>,
    #[serde(flatten)]
    pub provenance: Provenance,
}

impl Pagination {
    /// The query parameter that sets the page size (`pagesize` for pages, else `limit`),
    /// if this pagination has one.
    pub fn limit_param(&self) -> Option<&String> {
        match self.style {
            PaginationStyle::Page => self.params.get("pagesize"),
            _ => self.params.get("limit"),
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PaginationStyle {
    /// Opaque-ish cursor ids, `after`/`before` plus `limit` (Mediant alarms, KPI).
    Cursor,
    /// Page number and page size with a metadata block (sipXconfig Restlet).
    Page,
    /// Inclusive or exclusive row range `start`..`end` (sipXconfig paged phonebook).
    Rows,
    /// Offset and count `start`/`limit`.
    Offset,
}

/// `[[schema]]`: a record shape, used for request bodies, response bodies and collections.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    pub name: Spanned<String>,
    /// XML element name of one record (when the record is XML).
    #[serde(default)]
    pub xml_element: Option<String>,
    /// Fields in document order.
    #[serde(default)]
    pub field: Vec<Field>,
    /// What to do with fields the schema does not list.
    #[serde(default)]
    pub unknown_fields: UnknownFields,
    #[serde(flatten)]
    pub provenance: Provenance,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownFields {
    #[default]
    Ignore,
    Reject,
    Unspecified,
}

/// One field of a schema.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub name: Spanned<String>,
    #[serde(rename = "type")]
    pub ty: FieldType,
    #[serde(default)]
    pub required: bool,
    /// Part of the record's identity (used by upsert, delete and references).
    #[serde(default)]
    pub key: bool,
    /// Assigned by the server; ignored on create, compared loosely on read-back.
    #[serde(default)]
    pub server_assigned: bool,
    /// Changes on its own (timestamps, counters); redacted in snapshots.
    #[serde(default)]
    pub volatile: bool,
    /// No two records of a collection may share this value (not part of the key).
    #[serde(default)]
    pub unique: bool,
    /// Outcome of a write that would break `unique`.
    #[serde(default)]
    pub on_duplicate: Option<Spanned<Outcome>>,
    #[serde(default)]
    pub default: Option<toml::Value>,
    #[serde(rename = "enum", default)]
    pub enum_values: Vec<toml::Value>,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub min_len: Option<u64>,
    #[serde(default)]
    pub max_len: Option<u64>,
    /// Element type for `array`, or schema name for `object` with `schema`.
    #[serde(default)]
    pub items: Option<FieldType>,
    #[serde(default)]
    pub schema: Option<Spanned<String>>,
    /// Example value (used by generators and by the OpenAPI export).
    #[serde(default)]
    pub example: Option<toml::Value>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(flatten)]
    pub provenance: Provenance,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum FieldType {
    String,
    Integer,
    Number,
    Boolean,
    /// A string of decimal digits (phone numbers, digit maps).
    Digits,
    Ip,
    Mac,
    Uuid,
    Hostname,
    Email,
    Datetime,
    Date,
    Enum,
    Object,
    Array,
    Binary,
    Any,
}

impl FieldType {
    /// Whether values of this type travel as text with a length (and maybe a format).
    pub fn is_texty(self) -> bool {
        matches!(
            self,
            FieldType::String
                | FieldType::Hostname
                | FieldType::Email
                | FieldType::Ip
                | FieldType::Mac
                | FieldType::Uuid
                | FieldType::Datetime
                | FieldType::Date
        )
    }
}

/// `[[collection]]`: a stateful set of records the emulator keeps.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Collection {
    pub name: Spanned<String>,
    pub schema: Spanned<String>,
    /// Key fields (default: the schema's fields marked `key`).
    #[serde(default)]
    pub key: Vec<String>,
    /// Seed records.
    #[serde(default)]
    pub seed: Vec<toml::Value>,
    /// Extra records generated at start: `count` copies of `template` with `{n}` replaced.
    #[serde(default)]
    pub generate: Option<Generate>,
    /// Required query parameter (e.g. ROME `clusterID` on `VSXi_*` tables).
    #[serde(default)]
    pub scope_param: Option<String>,
    #[serde(flatten)]
    pub provenance: Provenance,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Generate {
    pub count: u64,
    pub template: toml::Value,
}

/// `[[state]]`: a device state that changes outcomes.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub name: Spanned<String>,
    pub description: String,
    /// Outcome every affected operation gets in this state.
    pub outcome: Spanned<Outcome>,
    /// Safety classes affected (e.g. `["write", "disruptive"]`).
    #[serde(default)]
    pub applies_to: Vec<Safety>,
    /// Endpoint ids affected regardless of class.
    #[serde(default)]
    pub endpoints: Vec<Spanned<String>>,
    /// Endpoint ids exempt (e.g. downloads on a load-balance slave).
    #[serde(default)]
    pub except: Vec<Spanned<String>>,
    /// With `indeterminate`: whether the change is applied despite the outcome.
    #[serde(default)]
    pub applies_change: Option<bool>,
    /// Narrower outcomes of the same state: particular endpoints (and methods and request
    /// content types) that answer differently from `outcome`.
    #[serde(default)]
    pub also: Vec<StateCase>,
    #[serde(default = "default_must")]
    pub level: Level,
    #[serde(flatten)]
    pub provenance: Provenance,
}

/// `[[state.also]]`: in this state, these requests get `outcome`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StateCase {
    pub endpoints: Vec<Spanned<String>>,
    /// Methods affected; empty means all.
    #[serde(default)]
    pub methods: Vec<String>,
    /// Request content types affected (matched by prefix); empty means all.
    #[serde(default)]
    pub content_types: Vec<String>,
    pub outcome: Spanned<Outcome>,
    pub source: String,
}

/// `[[job]]`: an asynchronous job started by one request and polled by another.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    pub name: Spanned<String>,
    /// Endpoint id and method that start the job.
    pub start: Spanned<String>,
    pub start_method: String,
    /// Outcome of the start request (e.g. 202).
    pub accepted: Spanned<Outcome>,
    /// Header carrying the poll URL.
    #[serde(default)]
    pub location_header: Option<String>,
    /// Endpoint id polled.
    pub poll: Spanned<String>,
    /// Outcomes while the job is running.
    pub pending: Vec<Spanned<Outcome>>,
    /// Outcome when done (with content).
    pub done: Spanned<Outcome>,
    /// Endpoint id that reports progress, if any.
    #[serde(default)]
    pub status_endpoint: Option<Spanned<String>>,
    /// How many polls the emulator answers "pending" before "done".
    #[serde(default)]
    pub emulator_pending_polls: Option<u32>,
    #[serde(flatten)]
    pub provenance: Provenance,
}

/// `[[reference]]`: a record in one collection that points at another and blocks its delete.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    pub name: Spanned<String>,
    /// Collection holding the pointer.
    pub from: Spanned<String>,
    /// Field of `from` holding the target's key.
    pub field: String,
    /// Collection pointed at.
    pub to: Spanned<String>,
    /// Outcome of deleting a target that is still referenced (absent: the API has no
    /// delete for the target, so nothing is tested).
    #[serde(default)]
    pub on_delete: Option<Spanned<Outcome>>,
    /// Outcome of writing a pointer to a target that does not exist.
    #[serde(default)]
    pub on_dangling: Option<Spanned<Outcome>>,
    #[serde(flatten)]
    pub provenance: Provenance,
}

/// `[[volatile]]`: a response field whose value changes from one answer to the next
/// (timestamps, ids, tokens). Snapshots replace its value with `[volatile:<name>]` before
/// comparing, so only real drift is reported.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Volatile {
    pub name: Spanned<String>,
    /// Field (JSON member or XML element) name, matched at any depth of the answer.
    pub field: String,
    /// Only in the answers of these endpoints (ids); empty: every endpoint.
    #[serde(default)]
    pub endpoints: Vec<Spanned<String>>,
    #[serde(flatten)]
    pub provenance: Provenance,
}

/// `[[decision]]`: a contradiction in the document and the reading the spec takes.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub id: Spanned<String>,
    /// The contradiction, in our words.
    pub question: String,
    /// The reading the spec takes (what `--strict` insists on).
    pub choice: String,
    /// Readings also accepted in lenient mode.
    #[serde(default)]
    pub alternatives: Vec<String>,
    #[serde(flatten)]
    pub provenance: Provenance,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Safety {
    Read,
    Write,
    Disruptive,
}

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

impl Operation {
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
                lookup: None,
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
    /// Other names the device accepts for a value, resolved through a table in `[data]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup: Option<Lookup>,
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
    #[serde(flatten)]
    pub provenance: Provenance,
}

/// `[rule.send]`: the request that exercises a rule, as edits of the endpoint's sample
/// request: other path parameter values, another body, or the sample body with fields set or
/// left out.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSend {
    /// Path parameter values (by template name).
    #[serde(default)]
    pub params: IndexMap<String, String>,
    /// Fields of the sample object to set (any TOML value).
    #[serde(default)]
    pub set: IndexMap<String, toml::Value>,
    /// Fields of the sample object to leave out.
    #[serde(default)]
    pub omit: Vec<String>,
    /// A whole body instead (text), sent with `content_type`.
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
    /// Extra request headers.
    #[serde(default)]
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
