//! How the API answers: error `[[envelope]]`s, result `[[code]]`s and `[[pagination]]`
//! styles.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::{Outcome, Provenance};

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
    /// Cursor values (the sentinel included) are JSON strings (`"2"`, `"-1"`), not numbers.
    #[serde(default)]
    pub cursor_strings: bool,
    /// For a documented (fixed) list: cursor values are this field of the items (an
    /// interval's `id`), not 1-based positions.
    #[serde(default)]
    pub cursor_field: Option<String>,
    /// Values of the `order` parameter that sort descending (others sort ascending).
    #[serde(default)]
    pub sort_descending: Vec<String>,
    /// The `sort` value used when a request gives only the `order` parameter.
    #[serde(default)]
    pub sort_default: Option<String>,
    /// Record fields a `sort` value stands for, by value: the first one a record's schema
    /// has (`name = ["name", "username"]`); a value not listed names its own field.
    #[serde(default)]
    pub sort_fields: IndexMap<String, Vec<String>>,
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
