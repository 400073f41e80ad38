//! The field-value oracle: what a value must be to satisfy its field's schema.
//!
//! One set of checks, used by the emulator on every request body, by the proptest
//! strategies to know which values are valid, and by their tests to cross-check both.

use serde_json::Value;

use super::model::*;
use super::Spec;

/// A scalar's text (numbers and booleans as written); `None` for objects, arrays and null.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Check one item against the schema and normalise its values. Returns the message of the
/// first problem.
pub fn check_item(
    spec: &Spec,
    schema: &Schema,
    mode: Option<Completeness>,
    item: &mut Value,
    skip_required: bool,
    skip_values: bool,
) -> Result<(), String> {
    let Some(obj) = item.as_object_mut() else {
        return Err("item is not an object".into());
    };
    // One lookup per field: presence, then the value's type.
    let mut known = 0;
    for f in &schema.field {
        let name = f.name.get_ref();
        let slot = obj.get_mut(name);
        known += usize::from(slot.is_some());
        match slot.filter(|v| !v.is_null()) {
            Some(v) => match normalise(spec, f, v) {
                Err(_) if skip_values => {}
                r => r.map_err(|e| format!("field `{name}`: {e}"))?,
            },
            None if !skip_required => {
                // The same field sets as the plan's completeness probes.
                let need = match mode {
                    Some(Completeness::AllFields) => !f.server_assigned,
                    Some(Completeness::RequiredSet) => f.required && !f.server_assigned,
                    Some(Completeness::Partial) | Some(Completeness::KeyOnly) => {
                        f.key || f.required
                    }
                    None => false,
                };
                if need {
                    return Err(format!("missing required field `{name}`"));
                }
            }
            None => {}
        }
    }
    if schema.unknown_fields == UnknownFields::Reject {
        if let Some(k) = obj
            .keys()
            .find(|k| !schema.field.iter().any(|f| f.name.get_ref() == *k))
        {
            return Err(format!("unknown field `{k}`"));
        }
    }
    // Fields the schema does not list are dropped where it says to ignore them.
    if schema.unknown_fields == UnknownFields::Ignore && known < obj.len() {
        obj.retain(|k, _| schema.field.iter().any(|f| f.name.get_ref() == k));
    }
    Ok(())
}

/// Check one field's value as the emulator checks a request body, and return it
/// normalised: `Err` names the broken constraint. For property tests of the strategies.
pub fn check_value(spec: &Spec, f: &Field, mut v: Value) -> Result<Value, String> {
    normalise(spec, f, &mut v)?;
    Ok(v)
}

/// Make a scalar a JSON string in place (numbers and booleans as written); `None` for
/// objects, arrays and null. Strings are left where they are, not copied.
fn as_text(v: &mut Value) -> Option<&str> {
    if !v.is_string() {
        *v = Value::String(scalar_text(v)?);
    }
    v.as_str()
}

/// A record inside a record carries its schema's required fields, whatever the operation's
/// completeness rule says of the outer one: the response oracle requires them in answers,
/// and the emulator merges the records of a keyed list only whole.
const NESTED: Option<Completeness> = Some(Completeness::RequiredSet);

pub fn normalise(spec: &Spec, f: &Field, v: &mut Value) -> Result<(), String> {
    match f.ty {
        FieldType::Integer => {
            // JSON Schema counts `7296.0` as an integer, and so do the devices' JSON readers.
            let integral = v
                .as_f64()
                .filter(|f| !v.is_i64() && !v.is_u64() && f.fract() == 0.0 && f.abs() < 9.2e18);
            let n: i64 = match integral {
                Some(f) => f as i64,
                None => parse_number(v, "an integer")?,
            };
            check_range(f, n as f64)?;
            *v = Value::from(n);
        }
        FieldType::Number => {
            let n: f64 = parse_number(v, "a number")?;
            check_range(f, n)?;
        }
        FieldType::Digits => {
            // A JSON number with a zero fraction is that integer's digits (as for Integer).
            if let Some(f) = v
                .as_f64()
                .filter(|f| v.is_f64() && f.fract() == 0.0 && *f >= 0.0 && *f < 1.8e19)
            {
                *v = Value::String((f as u64).to_string());
            }
            let s = as_text(v).ok_or("not a digit string")?;
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("`{s}` is not a digit string"));
            }
            // A digit string is text: its length bounds hold however it was sent.
            let len = s.len() as u64;
            if f.min_len.is_some_and(|m| len < m) || f.max_len.is_some_and(|m| len > m) {
                return Err(format!("length {len} is outside the allowed range"));
            }
        }
        FieldType::Boolean => {
            let b = match v {
                Value::Bool(b) => *b,
                Value::String(s) if s.eq_ignore_ascii_case("true") => true,
                Value::String(s) if s.eq_ignore_ascii_case("false") => false,
                _ => return Err("not a boolean".into()),
            };
            *v = Value::Bool(b);
        }
        FieldType::Enum => {
            let s = scalar_text(v).ok_or("not an enumeration value")?;
            let ok = f.enum_values.is_empty()
                || f.enum_values.iter().any(|e| match e {
                    toml::Value::String(x) => *x == s,
                    other => other.to_string() == s,
                });
            if !ok {
                return Err(format!("`{s}` is not one of the allowed values"));
            }
        }
        FieldType::Object => {
            // An empty element (XML's `<model/>`, or empty text) is a record with no fields,
            // as the response oracle reads it; stored as text it would answer a string.
            if matches!(v, Value::String(s) if s.is_empty()) {
                *v = Value::Object(Default::default());
            }
            if !v.is_object() {
                return Err("not an object".into());
            }
            if let Some(sub) = f.schema.as_ref().and_then(|sn| spec.schema(sn.get_ref())) {
                check_item(spec, sub, NESTED, v, false, false)?;
            }
        }
        FieldType::Array => {
            // Records of a schema with an XML element come as `<field><element/>…</field>`.
            let sub = f.schema.as_ref().and_then(|s| spec.schema(s.get_ref()));
            let element = sub.and_then(|s| s.xml_element.as_ref());
            if let (Some(e), Value::Object(o)) = (element, &mut *v) {
                if o.len() == 1 {
                    if let Some(inner) = o.remove(e) {
                        *v = inner;
                    }
                }
            }
            if !v.is_array() {
                // XML and CSV cannot tell one element from a list of one.
                let one = v.take();
                *v = match one {
                    Value::String(s) if s.contains(';') => {
                        Value::Array(s.split(';').map(|p| Value::String(p.to_string())).collect())
                    }
                    Value::String(s) if s.is_empty() => Value::Array(vec![]),
                    other => Value::Array(vec![other]),
                };
            }
            // Elements take their `items` type: XML and CSV deliver every one as text.
            if let (Some(_), Some(items)) = (f.items, v.as_array_mut()) {
                let each = f.element();
                for (i, it) in items.iter_mut().enumerate() {
                    normalise(spec, &each, it).map_err(|e| format!("element {i}: {e}"))?;
                }
            }
            // Records take their schema's types, and a list of records holds records.
            if let (Some(_), Some(items)) = (sub, v.as_array()) {
                if let Some(i) = items.iter().position(|it| !it.is_object()) {
                    return Err(format!("element {i} is not an object"));
                }
            }
            if let (Some(sub), Some(items)) = (sub, v.as_array_mut()) {
                for (i, it) in items
                    .iter_mut()
                    .enumerate()
                    .filter(|(_, it)| it.is_object())
                {
                    check_item(spec, sub, NESTED, it, false, false)
                        .map_err(|e| format!("element {i}: {e}"))?;
                }
            }
        }
        ty if ty.is_texty() => {
            let s = as_text(v).ok_or("not a string")?;
            if f.min_len.is_some() || f.max_len.is_some() {
                let len = s.chars().count() as u64;
                if f.min_len.is_some_and(|m| len < m) || f.max_len.is_some_and(|m| len > m) {
                    return Err(format!("length {len} is outside the allowed range"));
                }
            }
            if !f.enum_values.is_empty() && !f.enum_values.iter().any(|e| e.as_str() == Some(s)) {
                return Err(format!("`{s}` is not one of the allowed values"));
            }
            // An empty value is "not given"; whether that is allowed is `required`'s call.
            if !s.is_empty() && !format_ok(f.ty, s) {
                return Err(format!("`{s}` is not a valid {}", format_name(f.ty)));
            }
        }
        _ => {}
    }
    Ok(())
}

pub fn format_name(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Ip => "IP address",
        FieldType::Mac => "MAC address",
        FieldType::Uuid => "UUID",
        FieldType::Datetime => "date and time",
        FieldType::Date => "date",
        _ => "value",
    }
}

/// The text formats the field types promise (docs/spec-format.md, field types).
pub fn format_ok(ty: FieldType, s: &str) -> bool {
    let hex = |t: &str, n: usize| t.len() == n && t.bytes().all(|b| b.is_ascii_hexdigit());
    let num = |t: &str, lo: u32, hi: u32| {
        !t.is_empty()
            && t.bytes().all(|b| b.is_ascii_digit())
            && t.parse::<u32>().is_ok_and(|n| (lo..=hi).contains(&n))
    };
    let date = |d: &str| {
        let p: Vec<&str> = d.split('-').collect();
        p.len() == 3
            && p[0].len() == 4
            && num(p[0], 0, 9999)
            && p[1].len() == 2
            && num(p[1], 1, 12)
            && p[2].len() == 2
            && num(p[2], 1, 31)
    };
    match ty {
        FieldType::Ip => s.parse::<std::net::IpAddr>().is_ok(),
        FieldType::Mac => {
            hex(s, 12)
                || [':', '-'].iter().any(|sep| {
                    let p: Vec<&str> = s.split(*sep).collect();
                    p.len() == 6 && p.iter().all(|x| hex(x, 2))
                })
        }
        FieldType::Uuid => {
            let p: Vec<&str> = s.split('-').collect();
            p.len() == 5 && [8, 4, 4, 4, 12].iter().zip(&p).all(|(n, x)| hex(x, *n))
        }
        FieldType::Date => date(s),
        FieldType::Datetime => {
            let Some((d, t)) = s.split_once('T') else {
                return false;
            };
            // Time, then an optional zone: `Z`, `+HH:MM` or `-HH:MM`.
            let (t, zone) = match t.find(['Z', '+', '-']) {
                Some(i) => (&t[..i], &t[i..]),
                None => (t, ""),
            };
            let zone_ok = zone.is_empty()
                || zone == "Z"
                || (zone.len() == 6
                    && num(&zone[1..3], 0, 23)
                    && &zone[3..4] == ":"
                    && num(&zone[4..], 0, 59));
            let (hms, frac) = t.split_once('.').unwrap_or((t, "0"));
            let p: Vec<&str> = hms.split(':').collect();
            date(d)
                && zone_ok
                && frac.bytes().all(|b| b.is_ascii_digit())
                && !frac.is_empty()
                && p.len() == 3
                && p.iter().all(|x| x.len() == 2)
                && num(p[0], 0, 23)
                && num(p[1], 0, 59)
                && num(p[2], 0, 60)
        }
        _ => true,
    }
}

/// A number sent as a JSON number or as text (XML and CSV carry only text).
fn parse_number<T: std::str::FromStr>(v: &Value, what: &str) -> Result<T, String> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return Err(format!("not {what}")),
    };
    text.parse().map_err(|_| format!("`{text}` is not {what}"))
}

fn check_range(f: &Field, n: f64) -> Result<(), String> {
    if f.min.is_some_and(|m| n < m) || f.max.is_some_and(|m| n > m) {
        return Err(format!("{n} is outside the allowed range"));
    }
    Ok(())
}

/// Why an uploaded file is not in the format its request names, if it is not.
pub fn file_format_problem(format: FileFormat, bytes: &[u8]) -> Result<(), String> {
    let text =
        std::str::from_utf8(bytes).map_err(|e| format!("the file is not UTF-8 text: {e}"))?;
    match format {
        FileFormat::Ini => {
            for (n, line) in text.lines().enumerate() {
                let l = line.trim();
                let ok = l.is_empty()
                    || l.starts_with(';')
                    || l.starts_with('#')
                    || (l.starts_with('[') && l.ends_with(']'))
                    || l.contains('=');
                if !ok {
                    return Err(format!(
                        "line {} of the ini file is neither a comment, a [section] nor name = value",
                        n + 1
                    ));
                }
            }
            if text.trim().is_empty() {
                return Err("the ini file is empty".into());
            }
            Ok(())
        }
        FileFormat::Pem => {
            let begin = text.find("-----BEGIN ");
            let end = begin.and_then(|b| text[b..].find("-----END "));
            match (begin, end) {
                (Some(_), Some(_)) => Ok(()),
                _ => Err("the file holds no PEM block (-----BEGIN … -----END …)".into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::file_format_problem;
    use crate::spec::model::FileFormat;

    #[test]
    fn list_elements_read_as_text_take_their_items_type() {
        let spec = crate::spec::load(std::path::Path::new("tests/fixtures/good/mini.toml"))
            .expect("the good fixture loads");
        let field: crate::spec::model::Field =
            toml::from_str("name = \"trunkIds\"\ntype = \"array\"\nitems = \"integer\"\n")
                .expect("a field");
        let typed = serde_json::json!([101, 102]);
        for sent in [
            serde_json::json!(["101", "102"]),
            serde_json::json!("101;102"),
            typed.clone(),
        ] {
            assert_eq!(super::check_value(&spec, &field, sent).unwrap(), typed);
        }
        assert_eq!(
            super::check_value(&spec, &field, serde_json::json!("101")).unwrap(),
            serde_json::json!([101])
        );
        let e = super::check_value(&spec, &field, serde_json::json!(["101", "x"])).unwrap_err();
        assert!(e.contains("element 1"), "{e}");
    }

    #[test]
    fn file_formats_take_their_own_text_and_nothing_else() {
        let ini = FileFormat::Ini;
        assert!(
            file_format_problem(ini, b"; c\n# c\n[ \\IPGroup ]\nFORMAT Index = Name;\n\n").is_ok()
        );
        assert!(
            file_format_problem(ini, b"").is_err(),
            "an empty file is no ini file"
        );
        assert!(file_format_problem(ini, b"  \n\n").is_err());
        let e = file_format_problem(ini, b"a = 1\nplain words\n").unwrap_err();
        assert!(e.contains("line 2"), "{e}");
        assert!(
            file_format_problem(ini, b"a = \xff\n").is_err(),
            "not UTF-8"
        );
        let pem = FileFormat::Pem;
        let block = b"x\n-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n";
        assert!(file_format_problem(pem, block).is_ok());
        assert!(
            file_format_problem(pem, b"-----END X-----\n-----BEGIN X-----\n").is_err(),
            "END before BEGIN"
        );
        assert!(file_format_problem(pem, b"MIIB").is_err());
    }
}
