//! Request-side schemas. What a device takes is wider than the types its answers carry: the
//! spec's field oracle (`spec::check`) reads a number or a boolean where text is due, a
//! digit string where a number is due, `null` as a field left out, and requires fields
//! according to the operation's completeness rule rather than the schema's `required`.
//! A peer tool that generates requests from the response-side schemas calls a request the
//! device rightly takes "invalid", and one it rightly refuses "valid". So each schema is
//! also exported as it is read, once for JSON bodies (`NAME.request`) and once for XML
//! bodies (`NAME.xml-request`, where every value is text and nothing is null).

use serde_json::{json, Map, Value};

use crate::spec::model::*;
use crate::spec::{PathFill, Spec};

/// The component name of `key`'s request-side schema.
pub(super) fn key(schema_key: &str, xml: bool) -> String {
    if xml {
        format!("{schema_key}.xml-request")
    } else {
        format!("{schema_key}.request")
    }
}

/// A reference to a request-side component.
pub(super) fn reference(schema_key: &str, xml: bool) -> Value {
    json!({"$ref": format!("#/components/schemas/{}", key(schema_key, xml))})
}

/// One schema as a request body's item is read: no field is required here (the operation's
/// completeness rule says which are, see [`required`]), unknown fields as the schema says.
pub(super) fn component(
    spec: &Spec,
    s: &Schema,
    xml: bool,
    schema_key: &dyn Fn(&str) -> String,
) -> Value {
    let mut props = Map::new();
    for f in &s.field {
        props.insert(f.name.get_ref().clone(), field(spec, f, xml, schema_key));
    }
    let mut out = json!({"type": "object", "properties": props});
    if s.unknown_fields == UnknownFields::Reject {
        out["additionalProperties"] = json!(false);
    }
    if let Some(x) = &s.xml_element {
        out["xml"] = json!({"name": x});
    }
    out
}

/// The fields a request item must carry under `mode` (as `spec::check::check_item`
/// requires them).
pub(super) fn required(s: &Schema, mode: Option<Completeness>) -> Vec<String> {
    s.field
        .iter()
        .filter(|f| match mode {
            Some(Completeness::AllFields) => !f.server_assigned,
            Some(Completeness::RequiredSet) => f.required && !f.server_assigned,
            Some(Completeness::Partial) | Some(Completeness::KeyOnly) => f.key || f.required,
            None => false,
        })
        .map(|f| f.name.get_ref().clone())
        .collect()
}

const INTEGER_TEXT: &str = r"^\s*[-+]?[0-9]{1,18}\s*$";
const NUMBER_TEXT: &str = r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$";
const BOOLEAN_TEXT: &str = "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$";
const DATE: &str = "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])";

/// What the oracle takes for one field.
fn field(spec: &Spec, f: &Field, xml: bool, schema_key: &dyn Fn(&str) -> String) -> Value {
    let mut p = match (f.ty, &f.schema) {
        // A record, or empty text for a record with no fields (when it may have none).
        (FieldType::Object, Some(sc)) => {
            let (one, may_be_empty) = nested(spec, sc.get_ref(), xml, schema_key);
            if may_be_empty {
                json!({"anyOf": [one, {"const": ""}]})
            } else {
                one
            }
        }
        // A list, or one element standing for a list of one (XML and CSV cannot tell them
        // apart), or empty text for an empty list.
        (FieldType::Array, Some(sc)) => {
            let (one, _) = nested(spec, sc.get_ref(), xml, schema_key);
            // In XML a record with no fields is an element with no content: in a list, no
            // record at all (as an empty list's element reads).
            let item = if xml {
                json!({"anyOf": [one.clone(), {"type": "object", "maxProperties": 0}]})
            } else {
                one.clone()
            };
            json!({"anyOf": [{"type": "array", "items": item}, one, {"const": ""}]})
        }
        (FieldType::Array, None) => {
            let one = f.items.map(scalar).unwrap_or_else(|| json!({}));
            // In XML an element with no text (an empty string, a null, an empty list) is
            // no element at all.
            let item = if xml {
                json!({"anyOf": [one.clone(), {"const": ""}, {"type": "null"}, {"type": "array", "maxItems": 0}, {"type": "object", "maxProperties": 0}]})
            } else {
                one.clone()
            };
            json!({"anyOf": [{"type": "array", "items": item}, one, {"const": ""}]})
        }
        (ty, _) => scalar(ty),
    };
    if !f.enum_values.is_empty() {
        // The oracle compares the value's text with each listed value's text.
        let mut values: Vec<Value> = Vec::new();
        for e in &f.enum_values {
            let v = serde_json::to_value(e).unwrap_or(Value::Null);
            let text = match &v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            values.push(v);
            values.push(Value::String(text));
        }
        values.dedup();
        p = json!({"enum": values});
    }
    // A bound applies to the value the device reads: a number given as text would slip past
    // `minimum`, and text given as a number past `maxLength`, so a bounded field takes its
    // own type only.
    let numeric = matches!(f.ty, FieldType::Integer | FieldType::Number);
    if numeric && (f.min.is_some() || f.max.is_some()) && f.enum_values.is_empty() {
        p["type"] = json!(if f.ty == FieldType::Integer {
            "integer"
        } else {
            "number"
        });
        if let Some(o) = p.as_object_mut() {
            o.remove("pattern");
        }
    }
    let text = f.ty.is_texty() || f.ty == FieldType::Digits;
    let bounded = f.min_len.is_some() || f.max_len.is_some();
    if text && bounded && f.enum_values.is_empty() {
        if f.ty == FieldType::Digits {
            // A digit string sent as a JSON integer is read as its digits, whose count the
            // length bounds hold to (`spec::check`): integers between the bounds' powers of 10.
            let pow = |n: u64| 10u64.checked_pow(n as u32);
            if let Some(lo) = f.min_len.filter(|m| *m >= 2).and_then(|m| pow(m - 1)) {
                p["minimum"] = json!(lo);
            }
            if let Some(hi) = f.max_len.and_then(pow) {
                p["maximum"] = json!(hi - 1);
            }
            if f.max_len == Some(0) || f.min_len.is_some_and(|m| m > 20) {
                p["type"] = json!("string");
            }
        } else if !(plain_text(f.ty)
            && f.min_len.is_none_or(|m| m <= 1)
            && f.max_len.is_none_or(|m| m >= 24))
        {
            // A number or a boolean is read as its text (at most 24 characters), whose
            // length the bounds hold to: allowed where every such text fits them.
            p["type"] = json!("string");
        }
    }
    if let Some(o) = p.as_object_mut() {
        if numeric {
            if let Some(v) = f.min {
                o.insert("minimum".into(), json!(v));
            }
            if let Some(v) = f.max {
                o.insert("maximum".into(), json!(v));
            }
        }
        if text {
            if let Some(v) = f.min_len {
                o.insert("minLength".into(), json!(v));
            }
            if let Some(v) = f.max_len {
                o.insert("maxLength".into(), json!(v));
            }
        }
        if let Some(v) = &f.example {
            o.insert(
                "examples".into(),
                json!([serde_json::to_value(v).unwrap_or(Value::Null)]),
            );
        }
    }
    if xml {
        p
    } else {
        // A JSON `null` is a field left out.
        json!({"anyOf": [p, {"type": "null"}]})
    }
}

/// A record inside a record: the schema's component, with its required fields (the oracle
/// requires them whatever the outer completeness rule, `spec::check`), and whether a record
/// with no fields passes.
fn nested(
    spec: &Spec,
    name: &str,
    xml: bool,
    schema_key: &dyn Fn(&str) -> String,
) -> (Value, bool) {
    let one = reference(&schema_key(name), xml);
    let need = spec
        .schema(name)
        .map(|s| required(s, Some(Completeness::RequiredSet)))
        .unwrap_or_default();
    if need.is_empty() {
        return (one, true);
    }
    let not_null: Map<String, Value> = need
        .iter()
        .map(|n| (n.clone(), json!({"not": {"type": "null"}})))
        .collect();
    (
        json!({"allOf": [one, {"required": need, "properties": not_null}]}),
        false,
    )
}

/// Plain text: a number or a boolean is read as its text.
fn plain_text(ty: FieldType) -> bool {
    matches!(
        ty,
        FieldType::String | FieldType::Hostname | FieldType::Email | FieldType::Enum
    )
}

/// What the oracle takes for a value of type `ty` (a field's, or an array element's).
fn scalar(ty: FieldType) -> Value {
    let pattern = |types: &[&str], re: &str| json!({"type": types, "pattern": re});
    match ty {
        // Within what the device reads: a signed (digits: unsigned) 64-bit integer.
        FieldType::Integer => json!({"type": ["integer", "string"], "pattern": INTEGER_TEXT, "minimum": i64::MIN, "maximum": i64::MAX}),
        FieldType::Number => pattern(&["number", "string"], NUMBER_TEXT),
        FieldType::Boolean => pattern(&["boolean", "string"], BOOLEAN_TEXT),
        FieldType::Digits => {
            json!({"type": ["string", "integer"], "pattern": "^[0-9]+$", "minimum": 0, "maximum": u64::MAX})
        }
        // Plain text: a number or a boolean is read as its text.
        FieldType::String | FieldType::Hostname | FieldType::Email | FieldType::Enum => {
            json!({"type": ["string", "number", "boolean"]})
        }
        // Formatted text; empty means "not given".
        FieldType::Ip => {
            json!({"type": "string", "anyOf": [{"maxLength": 0}, {"format": "ipv4"}, {"format": "ipv6"}]})
        }
        FieldType::Mac => pattern(
            &["string"],
            "^([0-9A-Fa-f]{12}|([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}|([0-9A-Fa-f]{2}-){5}[0-9A-Fa-f]{2})?$",
        ),
        FieldType::Uuid => pattern(
            &["string"],
            "^([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})?$",
        ),
        FieldType::Date => pattern(&["string"], &format!("^({DATE})?$")),
        FieldType::Datetime => pattern(
            &["string"],
            &format!(
                "^({DATE}T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?)?$"
            ),
        ),
        FieldType::Object => json!({"anyOf": [{"type": "object"}, {"const": ""}]}),
        FieldType::Array | FieldType::Binary | FieldType::Any => json!({}),
    }
}

/// Every schema's request-side components, for JSON and for XML bodies.
pub(super) fn components(
    spec: &Spec,
    schema_key: &dyn Fn(&str) -> String,
    into: &mut Map<String, Value>,
) {
    for s in spec.schemas() {
        let k = schema_key(s.name.get_ref());
        for xml in [false, true] {
            into.insert(key(&k, xml), component(spec, s, xml, schema_key));
        }
    }
}

/// A multipart upload's file part: bytes of at least one byte (an empty part is refused),
/// or text in the format the request names, as `spec::check::file_format_problem` reads
/// it (PEM: a BEGIN … END block somewhere; ini: every line blank, a comment, a
/// `[section]` or `name = value`).
pub(super) fn file_part(req: &Request) -> Value {
    const LINE: &str = r"[ \t\r]*([;#][^\n]*|\[[^\n]*\][ \t\r]*|[^\n]*=[^\n]*)";
    match req.file_format {
        Some(FileFormat::Pem) => {
            json!({"type": "string", "contentMediaType": "text/plain", "pattern": "-----BEGIN [\\s\\S]*-----END "})
        }
        Some(FileFormat::Ini) => json!({
            "type": "string",
            "contentMediaType": "text/plain",
            "pattern": format!("^({LINE}?\n)*{LINE}$"),
        }),
        None => json!({"type": "string", "format": "binary", "minLength": 1}),
    }
}

/// One request item: the schema's request-side component, with the fields the operation's
/// completeness rule requires. A required field may not be `null` (the device reads null as
/// absent). What the path fills in when the body leaves it out or gives it as `null` (the
/// record's key, or the field a filtering parameter compares) is never required.
pub(super) fn item(
    spec: &Spec,
    s: &Schema,
    ep: &Endpoint,
    req: &Request,
    component: Value,
) -> Value {
    let mut item = json!({"allOf": [component]});
    let filled = |f: &Field| match ep.path_fill(spec) {
        Some((_, PathFill::Key)) => f.key,
        Some((_, PathFill::Field(name))) => f.name.get_ref() == name,
        None => false,
    };
    let need: Vec<String> = required(s, req.completeness)
        .into_iter()
        .filter(|n| !s.field.iter().any(|f| f.name.get_ref() == n && filled(f)))
        .collect();
    if !need.is_empty() {
        let not_null: Map<String, Value> = need
            .iter()
            .map(|n| (n.clone(), json!({"not": {"type": "null"}})))
            .collect();
        item["properties"] = Value::Object(not_null);
        item["required"] = json!(need);
    }
    item
}

/// A JSON many-body's list as the device reads it: a list of items, or the XML-shaped
/// object that holds one item or a list of them under the item's name (`{}` for none), or
/// empty text for an empty list.
pub(super) fn many(item: Value, item_name: &str) -> Value {
    let list = json!({"type": "array", "items": item});
    json!({"anyOf": [
        list,
        {
            "type": "object",
            "properties": { item_name: {"anyOf": [list.clone(), item]} },
            "additionalProperties": false,
        },
        {"const": ""},
    ]})
}
