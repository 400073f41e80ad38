//! JSON bodies: decoding with located errors, and reading or writing a value at a dotted
//! path (`a.b.c`) inside a JSON object.

use serde_json::{Map, Value};

use super::CodecError;

/// Parses a JSON body; errors carry `line L, column C`.
pub fn from_json(body: &[u8]) -> Result<Value, CodecError> {
    serde_json::from_slice(body).map_err(|e| {
        let text = e.to_string();
        // serde_json appends " at line L column C"; we keep it in `location`.
        let message = match text.rfind(" at line ") {
            Some(i) => text[..i].to_owned(),
            None => text,
        };
        CodecError::new(
            "json",
            message,
            // serde_json says column 0 for an error before the first character of a line
            // (an empty body); locations here are 1-based.
            format!("line {}, column {}", e.line().max(1), e.column().max(1)),
        )
    })
}

/// Set `value` at a dotted `path` inside `obj`, creating objects on the way.
pub fn set_path(obj: &mut Map<String, Value>, path: &str, value: Value) {
    let mut cur = obj;
    let mut parts = path.split('.').peekable();
    while let Some(p) = parts.next() {
        if parts.peek().is_none() {
            cur.insert(p.to_string(), value);
            return;
        }
        let next = cur
            .entry(p.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            *next = Value::Object(Map::new());
        }
        cur = next.as_object_mut().expect("just made an object");
    }
}

/// Read a dotted path.
pub fn get_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |cur, p| cur.get(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_parses_and_locates_errors() {
        assert_eq!(
            from_json(br#"{"a": [1, 2]}"#).unwrap(),
            json!({"a": [1, 2]})
        );
        let e = from_json(b"{\n  \"a\": 1,\n  \"b\": ]\n}").unwrap_err();
        assert_eq!(e.format, "json");
        assert_eq!(e.location, "line 3, column 8");
        assert!(!e.message.contains(" at line "), "{}", e.message);
        assert_eq!(from_json(b"").unwrap_err().location, "line 1, column 1");
        // Floats read back exactly what was written (serde_json's `float_roundtrip`).
        let v = from_json(b"-1.0000000000000001e+81").unwrap();
        assert_eq!(from_json(v.to_string().as_bytes()).unwrap(), v);
        assert_eq!(
            from_json(b"[1,\n").unwrap_err().location,
            "line 2, column 1"
        );
        assert_eq!(
            e.to_string(),
            format!("json body: {} at line 3, column 8", e.message)
        );
    }
}
