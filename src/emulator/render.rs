//! Turning outcomes and rows into HTTP answers: envelopes, representations, pagination
//! metadata. Everything here is driven by the spec's envelopes, schemas and response
//! descriptions; nothing names a particular API.

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode};
use serde_json::{Map, Value};

use crate::codec;
pub use crate::codec::{get_path, set_path};
pub use crate::spec::item_name;
use crate::spec::model::{BodyFormat, Envelope, Outcome, Schema};
use crate::spec::Spec;

/// A representation the emulator can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fmt {
    Json,
    Xml,
    Csv,
    Text,
    Zip,
    Binary,
}

impl Fmt {
    pub fn of_content_type(ct: &str) -> Fmt {
        let ct = ct.to_ascii_lowercase();
        if ct.contains("json") {
            Fmt::Json
        } else if ct.contains("xml") {
            Fmt::Xml
        } else if ct.contains("csv") {
            Fmt::Csv
        } else if ct.contains("zip") {
            Fmt::Zip
        } else if ct.starts_with("text/") {
            Fmt::Text
        } else {
            Fmt::Binary
        }
    }
}

pub fn reason(status: u16) -> &'static str {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown")
}

/// Build an HTTP answer from status, content type and body bytes.
pub fn raw(status: u16, content_type: Option<&str>, body: Vec<u8>) -> Response<Body> {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = Response::new(if status == StatusCode::NO_CONTENT {
        Body::empty()
    } else {
        Body::from(body)
    });
    *r.status_mut() = status;
    if let (Some(ct), false) = (content_type, status == StatusCode::NO_CONTENT) {
        if let Ok(v) = HeaderValue::from_str(ct) {
            r.headers_mut().insert(axum::http::header::CONTENT_TYPE, v);
        }
    }
    r
}

/// Body of an envelope carrying a result code, a message and optional data.
pub fn envelope_body(
    env: &Envelope,
    code_value: Option<&str>,
    message: &str,
    status: u16,
    data: Option<Value>,
) -> Vec<u8> {
    match env.format {
        BodyFormat::Json | BodyFormat::Xml => {
            let mut obj = Map::new();
            if let (Some(p), Some(c)) = (&env.code_path, code_value) {
                set_path(&mut obj, p, Value::String(c.to_string()));
            }
            if let Some(p) = &env.message_path {
                set_path(&mut obj, p, Value::String(message.to_string()));
            }
            if let (Some(p), Some(d)) = (&env.data_path, data) {
                set_path(&mut obj, p, d);
            }
            if env.format == BodyFormat::Json {
                serde_json::to_vec(&Value::Object(obj)).unwrap_or_default()
            } else {
                // The first path segment names the root element when it matches `root`.
                let root = env.root.clone().filter(|r| r != "*");
                match root {
                    Some(r) => {
                        let inner = obj.remove(&r).unwrap_or(Value::Object(obj));
                        codec::to_xml(&r, &inner).into_bytes()
                    }
                    None => codec::to_xml("response", &Value::Object(obj)).into_bytes(),
                }
            }
        }
        BodyFormat::Text => {
            let t = env.template.as_deref().unwrap_or("{message}");
            t.replace("{message}", message)
                .replace("{code}", code_value.unwrap_or(""))
                .replace("{status}", &status.to_string())
                .into_bytes()
        }
        _ => Vec::new(),
    }
}

/// The answer for an outcome: its code's envelope, or `env_hint`, or the API's default.
pub fn outcome(
    spec: &Spec,
    o: &Outcome,
    env_hint: Option<&str>,
    message: Option<&str>,
    data: Option<Value>,
) -> Response<Body> {
    outcome_filled(spec, o, env_hint, message, data, &|_| None)
}

/// `text` with each `{name}` placeholder replaced by `value(name)`, where it gives one.
pub fn fill(text: &str, value: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        let Some(j) = rest[i..].find('}') else { break };
        let name = &rest[i + 1..i + j];
        out.push_str(&rest[..i]);
        match value(name).filter(|_| !name.is_empty() && !name.contains(' ')) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[i..=i + j]),
        }
        rest = &rest[i + j + 1..];
    }
    out.push_str(rest);
    out
}

/// [`outcome`], with the placeholders of the code's message (`{table}`) filled by `value`.
pub fn outcome_filled(
    spec: &Spec,
    o: &Outcome,
    env_hint: Option<&str>,
    message: Option<&str>,
    data: Option<Value>,
    value: &dyn Fn(&str) -> Option<String>,
) -> Response<Body> {
    let code = o.code.as_deref().and_then(|c| spec.code(c));
    let env_name = code
        .and_then(|c| c.envelope.as_ref().map(|e| e.get_ref().as_str()))
        .or(env_hint);
    let env = env_name
        .and_then(|n| spec.envelope(n))
        .or_else(|| spec.default_envelope());
    let msg = code
        .and_then(|c| c.message.clone())
        .or(message.map(str::to_string))
        .unwrap_or_else(|| reason(o.status).to_string());
    let msg = fill(&msg, value);
    let code_value = code.map(|c| c.value.clone().unwrap_or_else(|| c.id.get_ref().clone()));
    match env {
        Some(env) if o.status != 204 => {
            let body = envelope_body(env, code_value.as_deref(), &msg, o.status, data);
            raw(o.status, Some(&env.content_type), body)
        }
        _ => raw(o.status, None, Vec::new()),
    }
}

/// Columns of a CSV representation: the schema's scalar fields, else the first row's.
pub fn csv_columns(schema: Option<&Schema>, first: Option<&Value>) -> Vec<String> {
    match schema {
        Some(s) if !s.field.is_empty() => s
            .field
            .iter()
            .filter(|f| !matches!(f.ty, crate::spec::model::FieldType::Object))
            .map(|f| f.name.get_ref().clone())
            .collect(),
        _ => first
            .and_then(Value::as_object)
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default(),
    }
}

/// A record as XML writes it: a list field whose items follow a schema with an
/// `xml_element` holds them as `<field><element/>…</field>` (sipXconfig's
/// `<permissions><setting/>…</permissions>`), at every depth.
pub fn xml_lists<S: Schemas + ?Sized>(spec: &S, schema: Option<&Schema>, v: &mut Value) {
    let (Some(schema), Some(obj)) = (schema, v.as_object_mut()) else {
        return;
    };
    for f in &schema.field {
        let Some(sub) = f.schema.as_ref().and_then(|s| spec.schema(s.get_ref())) else {
            continue;
        };
        let Some(slot) = obj.get_mut(f.name.get_ref()) else {
            continue;
        };
        match slot {
            Value::Array(items) => {
                for it in items.iter_mut() {
                    xml_lists(spec, Some(sub), it);
                }
                if let Some(e) = &sub.xml_element {
                    let list = slot.take();
                    *slot = serde_json::json!({ e.clone(): list });
                }
            }
            one => xml_lists(spec, Some(sub), one),
        }
    }
}

/// Where [`xml_lists`] looks up the schemas a field names: a spec, or the few schemas a
/// streamed list carries with it ([`SchemaSet`]).
pub trait Schemas {
    fn schema(&self, name: &str) -> Option<&Schema>;
}

impl Schemas for Spec {
    fn schema(&self, name: &str) -> Option<&Schema> {
        Spec::schema(self, name)
    }
}

/// The schemas reachable from one schema through its fields, owned: what a streamed list
/// needs of its spec after the request's borrow has ended.
#[derive(Debug, Default)]
pub struct SchemaSet(std::collections::HashMap<String, Schema>);

impl SchemaSet {
    pub fn reachable(spec: &Spec, root: &Schema) -> SchemaSet {
        let mut set = std::collections::HashMap::new();
        let mut todo: Vec<&Schema> = vec![root];
        while let Some(s) = todo.pop() {
            for f in &s.field {
                let Some(name) = f.schema.as_ref().map(|n| n.get_ref()) else {
                    continue;
                };
                if set.contains_key(name) {
                    continue;
                }
                if let Some(sub) = spec.schema(name) {
                    set.insert(name.clone(), sub.clone());
                    todo.push(sub);
                }
            }
        }
        SchemaSet(set)
    }
}

impl Schemas for SchemaSet {
    fn schema(&self, name: &str) -> Option<&Schema> {
        self.0.get(name)
    }
}

/// Rows per chunk of a [`Streamed`] body.
pub const STREAM_CHUNK: usize = 256;

/// Writes a run of rows into a buffer.
pub type RenderRows<T> = Box<dyn FnMut(&[T], &mut Vec<u8>) + Send>;

/// A body produced piece by piece as the connection takes it: `prefix`, then the items
/// [`STREAM_CHUNK`] at a time as `render` writes them, then `suffix`. Its length is not
/// known beforehand (HTTP/1.1 sends it chunked); only one chunk exists at a time.
pub struct Streamed<T> {
    prefix: Option<bytes::Bytes>,
    items: std::vec::IntoIter<T>,
    render: RenderRows<T>,
    suffix: Option<bytes::Bytes>,
}

impl<T> Streamed<T> {
    pub fn new(prefix: Vec<u8>, items: Vec<T>, render: RenderRows<T>, suffix: Vec<u8>) -> Self {
        Streamed {
            prefix: Some(prefix.into()),
            items: items.into_iter(),
            render,
            suffix: Some(suffix.into()),
        }
    }
}

impl<T: Send + Unpin> hyper::body::Body for Streamed<T> {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<bytes::Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let data = |b: bytes::Bytes| std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(b))));
        if let Some(p) = this.prefix.take() {
            return data(p);
        }
        let rest = this.items.as_slice();
        if !rest.is_empty() {
            let n = rest.len().min(STREAM_CHUNK);
            let mut buf = Vec::with_capacity(n * 256);
            (this.render)(&rest[..n], &mut buf);
            // The rows written go (their references into the table's snapshot with them).
            this.items.nth(n - 1);
            return data(buf.into());
        }
        match this.suffix.take() {
            Some(s) => data(s),
            None => std::task::Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.prefix.is_none() && self.items.as_slice().is_empty() && self.suffix.is_none()
    }
}

/// An answer whose body is streamed (see [`Streamed`]): status and content type as
/// [`raw`] sets them.
pub fn streamed<T: Send + Unpin + 'static>(
    status: u16,
    content_type: Option<&str>,
    body: Streamed<T>,
) -> Response<Body> {
    let mut r = raw(status, content_type, Vec::new());
    if r.status() != StatusCode::NO_CONTENT {
        *r.body_mut() = Body::new(body);
    }
    r
}
