//! Concrete requests for a spec's operations: paths with their parameters filled in and
//! bodies built from the spec's examples. Shared by the runner and the tests so both send
//! the same thing.

use serde_json::{Map, Value};

use crate::spec::model::*;
use crate::spec::Spec;

/// A path template with every `{param}` replaced by a usable value: the parameter's
/// example, else the key of the collection's first seed row, else `1`.
pub fn path(spec: &Spec, ep: &Endpoint) -> String {
    path_with(spec, ep, &|_, v| v)
}

/// `path`, with each parameter's value passed through `edit(name, value)`.
pub fn path_with(spec: &Spec, ep: &Endpoint, edit: &dyn Fn(&str, String) -> String) -> String {
    let template = spec.full_path(ep);
    let mut out = String::with_capacity(template.len());
    let mut rest = template.as_str();
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        out.push_str(&edit(name, param_value(spec, ep, name)));
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

fn toml_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn param_value(spec: &Spec, ep: &Endpoint, name: &str) -> String {
    if let Some(p) = ep.params.get(name) {
        let p = p.spec();
        if let Some(e) = p.example.as_ref().or(p.default.as_ref()) {
            return toml_text(e);
        }
        if let Some(e) = p.enum_values.first() {
            return toml_text(e);
        }
    }
    if let Some(c) = ep
        .collection
        .as_ref()
        .and_then(|c| spec.collection(c.get_ref()))
    {
        if let Some(row) = c.seed.first() {
            if let Some(v) = row.get(name) {
                return toml_text(v);
            }
            if let Some(k) = c.key.first().and_then(|k| row.get(k)) {
                return toml_text(k);
            }
        }
    }
    "1".into()
}

/// `path` plus the operation's required query parameters, from their examples.
pub fn target(spec: &Spec, ep: &Endpoint, op: &Operation) -> String {
    target_with(spec, ep, op, &|_, v| v)
}

/// `target`, with each path parameter's value passed through `edit(name, value)`.
pub fn target_with(
    spec: &Spec,
    ep: &Endpoint,
    op: &Operation,
    edit: &dyn Fn(&str, String) -> String,
) -> String {
    let mut out = path_with(spec, ep, edit);
    let mut sep = '?';
    for (name, p) in &op.query {
        let p = p.spec();
        if !p.required {
            continue;
        }
        let Some(v) = p
            .example
            .as_ref()
            .or(p.default.as_ref())
            .or(p.enum_values.first())
        else {
            continue;
        };
        out.push(sep);
        out.push_str(name);
        out.push('=');
        out.push_str(&encode(&toml_text(v)));
        sep = '&';
    }
    out
}

/// Percent-encode a query value.
pub fn encode(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

/// A request body for `op`: (content type, bytes). The operation's own example when it has
/// one in a content type it accepts, else a JSON object built from the schema's examples.
/// `None` when the operation takes no body.
pub fn body(spec: &Spec, op: &Operation) -> Option<(String, Vec<u8>)> {
    let req = op.request.as_ref()?;
    if req.empty {
        return None;
    }
    let ct = req.content_types.first()?.clone();
    if ct.starts_with("multipart/") {
        let field = req.file_field.as_deref().unwrap_or("file");
        let content = req.example.as_deref().unwrap_or("dialtone sample file\n");
        return Some(multipart(field, "dialtone-sample.txt", content.as_bytes()));
    }
    if let Some(ex) = &req.example {
        // Send the example under a content type of its own syntax.
        let t = ex.trim_start();
        let want = if t.starts_with('{') || t.starts_with('[') {
            Some("json")
        } else if t.starts_with('<') {
            Some("xml")
        } else {
            None
        };
        let ct = want
            .and_then(|w| req.content_types.iter().find(|c| c.contains(w)).cloned())
            .unwrap_or(ct);
        return Some((ct, ex.clone().into_bytes()));
    }
    let Some(schema) = req.schema.as_ref().and_then(|s| spec.schema(s.get_ref())) else {
        // No shape documented: the smallest well-formed body of a structured type.
        if let Some(j) = req.content_types.iter().find(|c| c.contains("json")) {
            return Some((j.clone(), b"{}".to_vec()));
        }
        if let Some(x) = req.content_types.iter().find(|c| c.contains("xml")) {
            return Some((x.clone(), b"<dialtone/>".to_vec()));
        }
        if ct.contains("zip") {
            let member = match req.zip_members.first() {
                Some(BodyFormat::Csv) => {
                    ("data.csv".to_string(), b"name,value\ndialtone,1\n".to_vec())
                }
                Some(BodyFormat::Json) => ("data.json".to_string(), b"{}".to_vec()),
                _ => ("data.xml".to_string(), b"<dialtone/>".to_vec()),
            };
            return Some((ct, crate::codec::write_zip(&[member])));
        }
        return Some((ct, b"dialtone sample file\n".to_vec()));
    };
    encode_object(spec, op, object(spec, schema))
}

/// `op`'s body with `obj` as the (only) item, in the operation's first structured
/// content type. `None` when the operation takes no schema-shaped body.
pub fn encode_object(
    spec: &Spec,
    op: &Operation,
    obj: Map<String, Value>,
) -> Option<(String, Vec<u8>)> {
    let req = op.request.as_ref()?;
    let schema = req.schema.as_ref().and_then(|s| spec.schema(s.get_ref()))?;
    let ct = req.content_types.first()?.clone();
    if ct.starts_with("multipart/") {
        return None;
    }
    // Where a query parameter chooses the body's format (ROME's `format`), the body is in
    // the default one, the first listed; elsewhere JSON is preferred when offered.
    let json_ct = req
        .content_types
        .iter()
        .find(|c| c.contains("json"))
        .filter(|_| req.format_param.is_none() || ct.contains("json"));
    if let Some(json_ct) = json_ct {
        return Some((json_ct.clone(), json_body(req, &Value::Object(obj))));
    }
    let obj = Value::Object(obj);
    let csv_ct = req
        .content_types
        .iter()
        .find(|c| c.contains("csv"))
        .filter(|_| req.format_param.is_none() || ct.contains("csv"));
    if let Some(csv_ct) = csv_ct {
        let cols: Vec<String> = obj
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        return Some((
            csv_ct.clone(),
            crate::codec::to_csv(&cols, &[obj]).into_bytes(),
        ));
    }
    let item = schema
        .xml_element
        .clone()
        .unwrap_or_else(|| schema.name.get_ref().clone());
    let xml = |v: &Value| -> Vec<u8> {
        let inner = serde_json::json!({ item.clone(): v });
        match &req.wrapper {
            Some(w) if req.many => crate::codec::to_xml(w, &inner).into_bytes(),
            _ => crate::codec::to_xml(&item, v).into_bytes(),
        }
    };
    if ct.contains("zip") {
        let member = match req.zip_members.first() {
            Some(BodyFormat::Csv) => {
                let cols: Vec<String> = obj
                    .as_object()
                    .map(|o| o.keys().cloned().collect())
                    .unwrap_or_default();
                (
                    format!("{item}.csv"),
                    crate::codec::to_csv(&cols, std::slice::from_ref(&obj)).into_bytes(),
                )
            }
            Some(BodyFormat::Json) => (format!("{item}.json"), json_body(req, &obj)),
            _ => (format!("{item}.xml"), xml(&obj)),
        };
        let zip = crate::codec::write_zip(&[member]);
        return Some((ct, zip));
    }
    if ct.contains("xml") {
        return Some((ct, xml(&obj)));
    }
    Some((ct, serde_json::to_vec(&obj).unwrap_or_default()))
}

/// `op`'s body carrying every object of `items` (a replace): a JSON array, CSV rows, or XML
/// items under the request's wrapper, in the operation's first content type. `None` for
/// an operation that takes one item only, or a zip or multipart body.
pub fn encode_objects(
    spec: &Spec,
    op: &Operation,
    items: Vec<Map<String, Value>>,
) -> Option<(String, Vec<u8>)> {
    let req = op.request.as_ref()?;
    let schema = req.schema.as_ref().and_then(|s| spec.schema(s.get_ref()))?;
    let ct = req.content_types.first()?.clone();
    if !req.many || ct.contains("zip") || ct.starts_with("multipart/") {
        return None;
    }
    let rows: Vec<Value> = items.into_iter().map(Value::Object).collect();
    if ct.contains("json") {
        let inner = Value::Array(rows);
        let v = match &req.wrapper {
            Some(w) => serde_json::json!({ w: inner }),
            None => inner,
        };
        return Some((ct, serde_json::to_vec(&v).unwrap_or_default()));
    }
    if ct.contains("csv") {
        let cols: Vec<String> = schema
            .field
            .iter()
            .filter(|f| !f.server_assigned)
            .map(|f| f.name.get_ref().clone())
            .collect();
        return Some((ct, crate::codec::to_csv(&cols, &rows).into_bytes()));
    }
    if ct.contains("xml") {
        let item = schema
            .xml_element
            .clone()
            .unwrap_or_else(|| schema.name.get_ref().clone());
        let wrapper = req.wrapper.clone()?;
        let inner = serde_json::json!({ item: Value::Array(rows) });
        return Some((ct, crate::codec::to_xml(&wrapper, &inner).into_bytes()));
    }
    None
}

/// A complete JSON object for a schema from its field examples (all fields but
/// server-assigned ones).
pub fn object(spec: &Spec, schema: &Schema) -> Map<String, Value> {
    let mut m = Map::new();
    for f in &schema.field {
        if f.server_assigned && !f.key {
            continue;
        }
        if let Some(v) = field_example(spec, f) {
            m.insert(f.name.get_ref().clone(), v);
        }
    }
    m
}

fn field_example(spec: &Spec, f: &Field) -> Option<Value> {
    if let Some(e) = f.example.as_ref().or(f.default.as_ref()) {
        return serde_json::to_value(e).ok();
    }
    if let Some(e) = f.enum_values.first() {
        return serde_json::to_value(e).ok();
    }
    Some(match f.ty {
        FieldType::Integer | FieldType::Number => Value::from(f.min.unwrap_or(1.0) as i64),
        FieldType::Digits => Value::String("1".into()),
        FieldType::Boolean => Value::Bool(true),
        FieldType::Ip => Value::String("192.0.2.10".into()),
        FieldType::Mac => Value::String("00:11:22:33:44:55".into()),
        FieldType::Uuid => Value::String("00000000-0000-4000-8000-000000000001".into()),
        FieldType::Hostname => Value::String("host.example.com".into()),
        FieldType::Email => Value::String("dialtone@example.com".into()),
        FieldType::Datetime => Value::String("2026-01-01T00:00:00Z".into()),
        FieldType::Date => Value::String("2026-01-01".into()),
        FieldType::Object => {
            let sub = f.schema.as_ref().and_then(|s| spec.schema(s.get_ref()))?;
            Value::Object(object(spec, sub))
        }
        FieldType::Array => Value::Array(vec![]),
        FieldType::String => Value::String("dialtone".into()),
        FieldType::Enum | FieldType::Binary | FieldType::Any => return None,
    })
}

fn json_body(req: &Request, obj: &Value) -> Vec<u8> {
    let obj = obj.clone();
    let inner = if req.many {
        Value::Array(vec![obj])
    } else {
        obj
    };
    let v = match &req.wrapper {
        Some(w) => serde_json::json!({ w: inner }),
        None => inner,
    };
    serde_json::to_vec(&v).unwrap_or_default()
}

/// Boundary of the multipart bodies built here.
pub const BOUNDARY: &str = "dialtone-boundary-7d3f";

/// A multipart/form-data body with one file part.
pub fn multipart(field: &str, filename: &str, content: &[u8]) -> (String, Vec<u8>) {
    let mut b = Vec::with_capacity(content.len() + 256);
    b.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    b.extend_from_slice(content);
    b.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), b)
}
