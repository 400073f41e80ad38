//! The top-level tables: `[api]`, `[auth]`, the roles, the `[matrix]` with its cell rules,
//! and the recorded `[[decision]]`s.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::{default_must, Level, Outcome, Provenance};

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
    /// What the response oracle does with fields an answer carries that its schema does
    /// not list: `allow` them, `note` them, or `refuse` them. Lenient runs only note them;
    /// `--strict` follows this setting.
    #[serde(default)]
    pub extra_response_fields: ExtraFields,
}

/// [`Api::extra_response_fields`].
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ExtraFields {
    Allow,
    #[default]
    Note,
    Refuse,
}

fn default_scheme() -> String {
    "https".into()
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
    /// Outcome when Basic credentials name a user that does not exist, where the document
    /// tells it apart from a wrong password; else `invalid`.
    #[serde(default)]
    pub unknown_user: Option<Spanned<Outcome>>,
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
    /// Outcome for a path whose parent holds documented paths but whose last segment names
    /// none of them (ROME's `{action}/{unknown table}`); its message's placeholders take
    /// that segment. Absent: such a path is `not_found`.
    #[serde(default)]
    pub unknown_leaf: Option<CellRule>,
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
