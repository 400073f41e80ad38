//! CSV bodies: rows of JSON objects written under a header row, and records read back as
//! objects of strings keyed by header.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::CodecError;

/// Writes rows as CSV with a header row, columns in the given order.
/// A row that is not an object yields empty cells.
pub fn to_csv(columns: &[String], rows: &[Value]) -> String {
    let mut out = String::with_capacity(64 + rows.len() * columns.len() * 12);
    let single = columns.len() == 1;
    for (i, col) in columns.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_csv_field(&mut out, col, single);
    }
    out.push('\n');

    let mut scratch = String::new();
    for row in rows {
        let obj = row.as_object();
        // Rows usually hold their keys in column order: walk them alongside
        // the columns and only hash a key when the order breaks.
        let mut in_order = obj.map(|o| o.iter());
        for (i, col) in columns.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let value = match in_order.as_mut().and_then(Iterator::next) {
                Some((k, v)) if k == col => Some(v),
                _ => {
                    in_order = None;
                    obj.and_then(|o| o.get(col))
                }
            };
            match value {
                None | Some(Value::Null) => push_csv_field(&mut out, "", single),
                Some(Value::String(s)) => push_csv_field(&mut out, s, single),
                // Never need quoting.
                Some(Value::Number(n)) => {
                    let _ = write!(out, "{n}");
                }
                Some(Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
                Some(v) => {
                    scratch.clear();
                    cell_text(&mut scratch, v);
                    push_csv_field(&mut out, &scratch, single);
                }
            }
        }
        out.push('\n');
    }
    out
}

fn cell_text(out: &mut String, v: &Value) {
    match v {
        Value::Null => {}
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(';');
                }
                match item {
                    // Nested containers as JSON, to stay unambiguous.
                    Value::Array(_) | Value::Object(_) => {
                        let _ = write!(out, "{item}");
                    }
                    _ => cell_text(out, item),
                }
            }
        }
        // Display for Value is compact JSON; for numbers and bools it is
        // exactly the literal.
        _ => {
            let _ = write!(out, "{v}");
        }
    }
}

/// Appends one field, quoted when needed. With a single column an empty
/// field is written as `""` so the record is not read back as a blank line.
fn push_csv_field(out: &mut String, s: &str, single_column: bool) {
    if s.is_empty() {
        if single_column {
            out.push_str("\"\"");
        }
        return;
    }
    // A leading U+FEFF is quoted too: unquoted at the start of a body it would be read
    // back as a byte order mark and dropped.
    if !s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) && !s.starts_with('\u{FEFF}') {
        out.push_str(s);
        return;
    }
    out.push('"');
    let mut start = 0;
    for (i, _) in s.match_indices('"') {
        out.push_str(&s[start..=i]);
        out.push('"');
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Parses CSV with a header row into one object of strings per record.
pub fn from_csv(body: &[u8]) -> Result<Vec<Map<String, Value>>, CodecError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut record = csv::ByteRecord::new();
    let read_err = |e: csv::Error| {
        let line = e.position().map_or(0, |p| p.line());
        CodecError::new("csv", e.to_string(), format!("line {line}"))
    };
    let line_of = |r: &csv::ByteRecord| r.position().map_or(0, |p| p.line());

    if !reader.read_byte_record(&mut record).map_err(read_err)? {
        return Err(CodecError::new(
            "csv",
            "empty body, expected a header row",
            "line 1",
        ));
    }
    let header_line = format!("line {}", line_of(&record));
    let mut headers: Vec<String> = Vec::with_capacity(record.len());
    // Names seen so far: a lookup per column keeps a wide header linear (a scan of the
    // names before each one made 80,000 columns take seconds).
    let mut seen: std::collections::HashSet<&[u8]> =
        std::collections::HashSet::with_capacity(record.len());
    for (i, field) in record.iter().enumerate() {
        let name = std::str::from_utf8(field).map_err(|_| {
            CodecError::new(
                "csv",
                format!("header {} is not valid UTF-8", i + 1),
                header_line.clone(),
            )
        })?;
        if name.is_empty() {
            return Err(CodecError::new(
                "csv",
                format!("header {} is empty", i + 1),
                header_line,
            ));
        }
        if !seen.insert(field) {
            return Err(CodecError::new(
                "csv",
                format!("duplicate header \"{name}\""),
                header_line,
            ));
        }
        headers.push(name.to_owned());
    }

    // Each row starts as a clone of this template, which copies the hash
    // table instead of rehashing every key; values are then filled in order.
    let template: Map<String, Value> = headers.iter().map(|h| (h.clone(), Value::Null)).collect();
    let lines = body.iter().filter(|&&b| b == b'\n').count();
    let mut rows = Vec::with_capacity(lines);
    while reader.read_byte_record(&mut record).map_err(read_err)? {
        if record.len() != headers.len() {
            return Err(CodecError::new(
                "csv",
                format!(
                    "record has {} fields, header has {}",
                    record.len(),
                    headers.len()
                ),
                format!("line {}", line_of(&record)),
            ));
        }
        let mut row = template.clone();
        for ((slot, field), header) in row.values_mut().zip(record.iter()).zip(&headers) {
            let value = std::str::from_utf8(field).map_err(|_| {
                CodecError::new(
                    "csv",
                    format!("field \"{header}\" is not valid UTF-8"),
                    format!("line {}", line_of(&record)),
                )
            })?;
            *slot = Value::String(value.to_owned());
        }
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_leading_bom_in_a_field_is_quoted() {
        let rows = vec![json!({"\u{FEFF}a": "\u{FEFF}x"})];
        let text = to_csv(&["\u{FEFF}a".to_string()], &rows);
        assert!(text.starts_with("\"\u{FEFF}a\"\n"), "{text}");
        let back = from_csv(text.as_bytes()).unwrap();
        assert_eq!(back[0]["\u{FEFF}a"], "\u{FEFF}x");
    }

    #[test]
    fn csv_round_trip_and_conversions() {
        let cols: Vec<String> = ["id", "name", "tags", "meta", "gone"]
            .map(String::from)
            .to_vec();
        let rows = [
            json!({"id": 1, "name": "a, \"b\"", "tags": ["x", "y"], "meta": {"k": 1}}),
            json!({"id": 2, "name": "line\nbreak", "tags": [], "meta": null, "extra": "ignored"}),
        ];
        let text = to_csv(&cols, &rows);
        assert_eq!(
            text,
            "id,name,tags,meta,gone\n1,\"a, \"\"b\"\"\",x;y,\"{\"\"k\"\":1}\",\n2,\"line\nbreak\",,,\n"
        );
        let back = from_csv(text.as_bytes()).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(
            Value::Object(back[0].clone()),
            json!({"id": "1", "name": "a, \"b\"", "tags": "x;y", "meta": "{\"k\":1}", "gone": ""})
        );
        assert_eq!(back[1]["name"], "line\nbreak");
        let keys: Vec<_> = back[1].keys().cloned().collect();
        assert_eq!(keys, cols);
    }

    #[test]
    fn csv_columns_found_whatever_the_key_order() {
        let cols: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let rows = [
            json!({"c": 3, "a": 1, "b": 2}),
            json!({"a": 1, "x": 0, "c": false}),
            json!("not an object"),
        ];
        assert_eq!(to_csv(&cols, &rows), "a,b,c\n1,2,3\n1,,false\n,,\n");
    }

    #[test]
    fn csv_single_column_empty_cell_survives() {
        let cols = vec!["a".to_string()];
        let text = to_csv(&cols, &[json!({"a": ""}), json!({"a": "x"})]);
        let back = from_csv(text.as_bytes()).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0]["a"], "");
    }

    #[test]
    fn csv_ragged_row_names_the_line() {
        let e = from_csv(b"a,b\n1,2\n3,4\n5\n").unwrap_err();
        assert_eq!(e.format, "csv");
        assert_eq!(e.location, "line 4");
        // A quoted newline spans lines; the record's first line is reported.
        let e = from_csv(b"a,b\n\"x\ny\",2\n1,2,3\n").unwrap_err();
        assert_eq!(e.location, "line 4");
    }

    #[test]
    fn csv_rejects_bad_headers_and_bytes() {
        assert!(from_csv(b"").unwrap_err().message.contains("header"));
        assert!(from_csv(b"a,a\n1,2\n")
            .unwrap_err()
            .message
            .contains("duplicate"));
        assert!(from_csv(b"a,,c\n1,2,3\n")
            .unwrap_err()
            .message
            .contains("empty"));
        let e = from_csv(b"a,b\n1,2\n\xff,3\n").unwrap_err();
        assert!(e.message.contains("UTF-8"), "{e}");
        assert_eq!(e.location, "line 3");
    }

    #[test]
    fn csv_header_only_bom_and_crlf() {
        assert!(from_csv(b"a,b\n").unwrap().is_empty());
        let rows = from_csv(b"\xEF\xBB\xBFa,b\r\n1,2\r\n").unwrap();
        assert_eq!(Value::Object(rows[0].clone()), json!({"a": "1", "b": "2"}));
    }
}
