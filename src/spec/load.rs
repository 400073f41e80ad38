//! Reading spec files: TOML syntax, then each top-level entry on its own, so that one bad
//! entry does not hide the problems of the others.

use std::ops::Deref;
use std::path::{Path, PathBuf};

use serde::de::{DeserializeOwned, IntoDeserializer};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::model::*;
use crate::diag::{did_you_mean, Diagnostics, SourceFile};

/// Index of a file in [`RawSpec::files`].
pub type FileId = usize;

/// A value together with the file it was read from.
#[derive(Debug, Clone)]
pub struct Sourced<T> {
    pub file: FileId,
    pub value: T,
}

impl<T> Deref for Sourced<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// Everything read from the files of one spec, before semantic checks.
#[derive(Debug, Default)]
pub struct RawSpec {
    /// The spec's path as given (file or directory).
    pub path: PathBuf,
    pub files: Vec<SourceFile>,
    pub api: Vec<Sourced<Api>>,
    pub auth: Vec<Sourced<Auth>>,
    pub matrix: Vec<Sourced<MatrixConfig>>,
    pub roles: Vec<Sourced<Role>>,
    pub envelopes: Vec<Sourced<Envelope>>,
    pub codes: Vec<Sourced<Code>>,
    pub paginations: Vec<Sourced<Pagination>>,
    pub schemas: Vec<Sourced<Schema>>,
    pub collections: Vec<Sourced<Collection>>,
    pub states: Vec<Sourced<State>>,
    pub jobs: Vec<Sourced<Job>>,
    pub references: Vec<Sourced<Reference>>,
    pub decisions: Vec<Sourced<Decision>>,
    pub endpoints: Vec<Sourced<Endpoint>>,
    pub rules: Vec<Sourced<Rule>>,
    pub volatiles: Vec<Sourced<Volatile>>,
    pub digests: Vec<Sourced<Digest>>,
    pub data: Vec<(FileId, usize, String, toml::Value)>,
    /// Endpoints that product overlays moved (see `overlay::Move`).
    pub moves: Vec<super::overlay::Move>,
}

pub const TOP_KEYS: &[&str] = &[
    "api",
    "auth",
    "matrix",
    "role",
    "envelope",
    "code",
    "pagination",
    "schema",
    "collection",
    "state",
    "job",
    "reference",
    "decision",
    "endpoint",
    "rule",
    "volatile",
    "digest",
    "data",
];

/// The `.toml` files that make up the spec at `path`, in name order.
pub fn spec_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
            .collect();
        files.sort();
        Ok(files)
    } else {
        Ok(vec![path.to_path_buf()])
    }
}

/// Read every file of the spec at `path`, recording problems in `diags`.
pub fn read_spec(path: &Path, diags: &mut Diagnostics) -> RawSpec {
    let mut raw = RawSpec {
        path: path.to_path_buf(),
        ..Default::default()
    };
    let files = match spec_files(path) {
        Ok(f) => f,
        Err(e) => {
            diags.whole_file(path, "S000", format!("cannot read spec: {e}"));
            return raw;
        }
    };
    if files.is_empty() {
        diags.whole_file(path, "S000", "the directory holds no .toml files");
    }
    for file in files {
        match std::fs::read(&file) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => {
                    let id = raw.files.len();
                    raw.files.push(SourceFile::new(file, text));
                    read_file(&mut raw, id, diags);
                }
                Err(e) => diags.whole_file(&file, "S000", format!("not UTF-8: {e}")),
            },
            Err(e) => diags.whole_file(&file, "S000", format!("cannot read: {e}")),
        }
    }
    raw
}

/// Read one spec from a string (used by tests and fuzzers).
pub fn read_spec_str(name: &str, text: &str, diags: &mut Diagnostics) -> RawSpec {
    let mut raw = RawSpec {
        path: PathBuf::from(name),
        ..Default::default()
    };
    raw.files
        .push(SourceFile::new(PathBuf::from(name), text.to_string()));
    read_file(&mut raw, 0, diags);
    raw
}

fn read_file(raw: &mut RawSpec, id: FileId, diags: &mut Diagnostics) {
    let file = raw.files[id].clone();
    let (root, errors) = DeTable::parse_recoverable(&file.text);
    for e in &errors {
        let off = e.span().map(|s| s.start).unwrap_or(0);
        diags.at(
            &file,
            off,
            "T001",
            format!("TOML syntax: {}", e.message().trim()),
            None,
        );
    }
    if !errors.is_empty() {
        // The recovered tree may be misleading; syntax errors first.
        return;
    }
    for (key, value) in root.into_inner() {
        let k: &str = key.get_ref();
        let kspan = key.span();
        match k {
            "api" => one(&file, id, value, diags, &mut raw.api),
            "auth" => one(&file, id, value, diags, &mut raw.auth),
            "matrix" => one(&file, id, value, diags, &mut raw.matrix),
            "role" => many(&file, id, k, value, diags, &mut raw.roles),
            "envelope" => many(&file, id, k, value, diags, &mut raw.envelopes),
            "code" => many(&file, id, k, value, diags, &mut raw.codes),
            "pagination" => many(&file, id, k, value, diags, &mut raw.paginations),
            "schema" => many(&file, id, k, value, diags, &mut raw.schemas),
            "collection" => many(&file, id, k, value, diags, &mut raw.collections),
            "state" => many(&file, id, k, value, diags, &mut raw.states),
            "job" => many(&file, id, k, value, diags, &mut raw.jobs),
            "reference" => many(&file, id, k, value, diags, &mut raw.references),
            "decision" => many(&file, id, k, value, diags, &mut raw.decisions),
            "endpoint" => many(&file, id, k, value, diags, &mut raw.endpoints),
            "rule" => many(&file, id, k, value, diags, &mut raw.rules),
            "volatile" => many(&file, id, k, value, diags, &mut raw.volatiles),
            "digest" => many(&file, id, k, value, diags, &mut raw.digests),
            "data" => {
                let span = value.span();
                match value.into_inner() {
                    DeValue::Table(t) => {
                        for (dk, dv) in t {
                            let off = dk.span().start;
                            let v: Result<toml::Value, _> = toml::Value::deserialize_from(dv);
                            match v {
                                Ok(v) => raw.data.push((id, off, dk.get_ref().to_string(), v)),
                                Err(e) => report(&file, diags, e, off),
                            }
                        }
                    }
                    _ => diags.at(&file, span.start, "T002", "`data` must be a table", None),
                }
            }
            other => diags.at(
                &file,
                kspan.start,
                "K001",
                format!("unknown top-level key `{other}`"),
                did_you_mean(other, TOP_KEYS.iter().copied())
                    .or_else(|| Some(format!("known keys: {}", TOP_KEYS.join(", ")))),
            ),
        }
    }
}

trait DeserializeFrom: Sized {
    fn deserialize_from(v: Spanned<DeValue<'_>>) -> Result<Self, toml::de::Error>;
}

impl<T: DeserializeOwned> DeserializeFrom for T {
    fn deserialize_from(v: Spanned<DeValue<'_>>) -> Result<Self, toml::de::Error> {
        T::deserialize(v.into_deserializer())
    }
}

fn report(file: &SourceFile, diags: &mut Diagnostics, e: toml::de::Error, fallback: usize) {
    let off = e.span().map(|s| s.start).unwrap_or(fallback);
    let msg = e.message().trim().to_string();
    let (code, hint) = if msg.starts_with("unknown field") {
        let hint = unknown_field_hint(&msg);
        ("K002", hint)
    } else if msg.starts_with("missing field") {
        ("K003", None)
    } else {
        ("T002", None)
    };
    diags.at(file, off, code, msg, hint);
}

/// serde says "unknown field `x`, expected one of `a`, `b`"; suggest the closest.
fn unknown_field_hint(msg: &str) -> Option<String> {
    let mut parts = msg.split('`');
    let _ = parts.next();
    let word = parts.next()?;
    let expected: Vec<&str> = parts.skip(1).step_by(2).collect();
    if expected.is_empty() {
        // Structs with flattened provenance don't list their keys; use every key the
        // language knows.
        return did_you_mean(word, ALL_KEYS.iter().copied())
            .or_else(|| Some("see docs/spec-format.md for the keys of this table".into()));
    }
    did_you_mean(word, expected.iter().copied())
}

/// Every key of every table of the language, for typo hints.
pub const ALL_KEYS: &[&str] = &[
    "name",
    "title",
    "document",
    "version",
    "seed_file",
    "bases",
    "scheme",
    "port",
    "vendor_module",
    "notes",
    "source",
    "inferred",
    "header",
    "prefix",
    "realm",
    "required_headers",
    "missing",
    "invalid",
    "unknown_user",
    "rank",
    "user",
    "description",
    "methods",
    "precedence",
    "method_not_allowed",
    "forbidden",
    "not_found",
    "unknown_leaf",
    "not_acceptable",
    "unsupported_media_type",
    "payload_too_large",
    "expect",
    "accept",
    "allow_header",
    "envelope",
    "level",
    "decision",
    "format",
    "content_type",
    "root",
    "message_path",
    "code_path",
    "data_path",
    "template",
    "match_mode",
    "example",
    "id",
    "status",
    "value",
    "message",
    "meaning",
    "class",
    "indeterminate",
    "operations",
    "style",
    "params",
    "default_limit",
    "max_limit",
    "sentinel",
    "fields",
    "may_return_fewer",
    "empty",
    "order",
    "first_index",
    "cursor_strings",
    "cursor_field",
    "file_refused_commands",
    "xml_element",
    "field",
    "unknown_fields",
    "type",
    "required",
    "key",
    "server_assigned",
    "volatile",
    "default",
    "enum",
    "min",
    "max",
    "min_len",
    "max_len",
    "when_query",
    "changed_at",
    "items",
    "schema",
    "generate",
    "count",
    "scope_param",
    "owner",
    "via",
    "by",
    "owned",
    "caller_fields",
    "assign",
    "when_empty",
    "map",
    "min_bytes",
    "raw_field",
    "pattern",
    "others",
    "seed",
    "outcome",
    "applies_to",
    "endpoints",
    "except",
    "applies_change",
    "start",
    "start_method",
    "accepted",
    "location_header",
    "poll",
    "pending",
    "done",
    "status_endpoint",
    "emulator_pending_polls",
    "from",
    "to",
    "on_delete",
    "on_dangling",
    "question",
    "choice",
    "alternatives",
    "path",
    "base",
    "summary",
    "unsupported",
    "unsupported_source",
    "aliases",
    "collection",
    "op",
    "method",
    "min_role",
    "roles",
    "safety",
    "success",
    "query",
    "request",
    "response",
    "pagination",
    "effect",
    "codes",
    "job",
    "content_types",
    "file_field",
    "zip_members",
    "many",
    "wrapper",
    "completeness",
    "reject",
    "atomic",
    "format_param",
    "max_bytes",
    "headers",
    "body",
    "kind",
    "endpoint",
    "role",
    "state",
    "covers",
    "also",
    "send",
    "set",
    "omit",
    "step",
    "untestable",
    "as",
    "json",
    "text",
    "zip",
    "body_b64",
    "response_headers",
    "capture",
    "control",
    "assert",
    "at",
    "equals",
    "one_of",
    "matches",
    "present",
    "sorted_by",
    "descending",
    "same_as",
    "differs_from",
    "changed_by",
    "since",
    "keys",
    "contains",
    "absent",
    "len",
    "until",
    "interval_ms",
    "rules",
];

fn one<T: DeserializeOwned>(
    file: &SourceFile,
    id: FileId,
    value: Spanned<DeValue<'_>>,
    diags: &mut Diagnostics,
    out: &mut Vec<Sourced<T>>,
) {
    let start = value.span().start;
    match T::deserialize_from(value) {
        Ok(v) => out.push(Sourced { file: id, value: v }),
        Err(e) => report(file, diags, e, start),
    }
}

fn many<T: DeserializeOwned>(
    file: &SourceFile,
    id: FileId,
    key: &str,
    value: Spanned<DeValue<'_>>,
    diags: &mut Diagnostics,
    out: &mut Vec<Sourced<T>>,
) {
    let span = value.span();
    match value.into_inner() {
        DeValue::Array(items) => {
            for item in items.iter() {
                one(file, id, item.clone(), diags, out);
            }
        }
        _ => diags.at(
            file,
            span.start,
            "T002",
            format!("`{key}` must be an array of tables: write `[[{key}]]`"),
            None,
        ),
    }
}
