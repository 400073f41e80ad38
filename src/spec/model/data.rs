//! The data the API holds: `[[schema]]`s with their fields and types, and `[[collection]]`s
//! of records.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::{Outcome, Provenance};

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
    /// An empty value sent on update keeps the stored one (sipXconfig's user PIN).
    #[serde(default)]
    pub keep_if_empty: bool,
    /// The device answers `null` for this field when it has no value (the emulator fills
    /// it in on the records it stores).
    #[serde(default)]
    pub nullable: bool,
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
    /// The field is in an answer only when the request's query gives these parameters
    /// these values (`{ oid = "1" }`); otherwise it is left out.
    #[serde(default)]
    pub when_query: indexmap::IndexMap<String, String>,
    /// The field holds the time the named collection last changed (an alarm table's
    /// `lastChange`); the documented value until it first changes.
    #[serde(default)]
    pub changed_at: Option<String>,
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
    /// The field naming the account each record belongs to (sipXconfig's `/my/...`
    /// resources act on the caller's records only; see [`crate::spec::model::Owned`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
    #[serde(flatten)]
    pub provenance: Provenance,
}

/// [`Collection::owner`]: which account a record belongs to.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Owner {
    /// The field of each record holding its owner: the account's user name, or (with
    /// `via`) the key of the account's record in another collection.
    pub field: String,
    /// A collection of accounts (`b-users`) whose record with `by` equal to the account's
    /// user name has the key that `field` holds (a schedule's `userId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// The field of `via`'s records holding the user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Generate {
    pub count: u64,
    pub template: toml::Value,
}
