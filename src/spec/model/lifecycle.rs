//! What changes over time: device `[[state]]`s, background `[[job]]`s, `[[reference]]`s
//! between collections, and `[[volatile]]` response fields.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::{default_must, Level, Outcome, Provenance, Safety};

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
