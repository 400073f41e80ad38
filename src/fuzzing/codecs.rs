//! Targets for the body codecs (`src/codec/`).

use std::ops::ControlFlow;

use serde_json::{Map, Value};

use super::{assert_inside, block_on, line_col};
use crate::codec::{self, CodecError, Part};

/// Decompressed-size cap used by `zip_upload`: small, so a bomb is caught quickly.
pub const ZIP_CAP: u64 = 64 << 10;

fn assert_located(body: &[u8], e: &CodecError) {
    if let Some((l, c)) = line_col(&e.location) {
        assert_inside(body, l, c, e);
    }
}

/// Nesting depth of a JSON value (a scalar is 1).
fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 1,
    }
}

/// JSON: decode → encode → decode gives the same value; errors are located inside the
/// input. Every decoded value can also be written as XML that the XML decoder reads back
/// (the emulator renders JSON rows as XML), unless it nests deeper than the XML cap.
pub fn json_decode(data: &[u8]) {
    let v = match codec::from_json(data) {
        Ok(v) => v,
        Err(e) => return assert_located(data, &e),
    };
    let text = serde_json::to_vec(&v).expect("a decoded value encodes");
    let back = codec::from_json(&text).unwrap_or_else(|e| panic!("re-decoding failed: {e}"));
    assert_eq!(back, v, "JSON round trip changed the value");
    // Arrays become repeated elements: one XML level per object or array of objects.
    if depth(&v) < codec::MAX_XML_DEPTH {
        let doc = codec::to_xml("root", &v);
        if let Err(e) = codec::from_xml(doc.as_bytes()) {
            panic!("to_xml wrote a document from_xml refuses: {e}\n{doc}");
        }
    }
}

/// Rebuilds what `from_xml` makes of a root from the children `xml_children` handed over.
fn fold_children(children: Vec<(String, Value)>) -> Map<String, Value> {
    let mut m = Map::new();
    for (name, value) in children {
        match m.get_mut(&name) {
            None => {
                m.insert(name, value);
            }
            Some(Value::Array(items)) => items.push(value),
            Some(slot) => {
                let first = slot.take();
                *slot = Value::Array(vec![first, value]);
            }
        }
    }
    m
}

type Streamed = Result<(String, Vec<(String, Value)>), CodecError>;

fn stream(f: impl FnOnce(codec::ChildSink) -> Result<String, CodecError>) -> Streamed {
    let mut got = Vec::new();
    let mut sink = |_root: &str, name: String, v: Value| {
        got.push((name, v));
        ControlFlow::Continue(())
    };
    f(&mut sink).map(|root| (root, got))
}

/// XML: `from_xml`, the streamed `xml_children` and `xml_children_from` agree on every
/// input (same verdict, same root, same children; the in-memory pair on the error too).
/// A decoded document written back with `to_xml` decodes again, and writing is idempotent
/// after the first pass: the first decode may hold what the writer normalises (names XML
/// does not allow become `_`, control characters become U+FFFD), so the value itself is
/// compared from the second pass on.
pub fn xml_decode(data: &[u8]) {
    let whole = codec::from_xml(data);
    let streamed = stream(|s| codec::xml_children(data, s));
    let from_reader = stream(|s| codec::xml_children_from(data, s));
    match (&whole, &streamed) {
        (Ok((root, v)), Ok((sroot, children))) => {
            assert_eq!(root, sroot, "xml_children names another root");
            match v {
                Value::Object(m) => assert_eq!(
                    *m,
                    fold_children(children.clone()),
                    "xml_children's children differ from from_xml's"
                ),
                other => {
                    assert!(children.is_empty(), "children of a text-only root");
                    assert!(other.is_string(), "a root is an object or a string");
                }
            }
        }
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "from_xml and xml_children fail differently");
            assert_located(data, a);
        }
        (a, b) => panic!("from_xml and xml_children disagree: {a:?} vs {b:?}"),
    }
    match (&streamed, &from_reader) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "xml_children_from differs from xml_children"),
        (Err(_), Err(_)) => {}
        (a, b) => panic!("xml_children and xml_children_from disagree: {a:?} vs {b:?}"),
    }
    let Ok((root, v)) = whole else { return };
    let doc1 = codec::to_xml(&root, &v);
    let (root2, v2) = codec::from_xml(doc1.as_bytes())
        .unwrap_or_else(|e| panic!("to_xml wrote a document from_xml refuses: {e}\n{doc1}"));
    let doc2 = codec::to_xml(&root2, &v2);
    // Two keys of one object that differ only in characters XML names cannot hold are
    // written as the same element name; reading gathers them into one array at the first
    // one's place, so the second pass reorders them once. Otherwise the first pass is
    // already canonical.
    if !names_collide(&v) {
        assert_eq!(doc1, doc2, "to_xml ∘ from_xml is not idempotent");
    }
    let (root3, v3) = codec::from_xml(doc2.as_bytes())
        .unwrap_or_else(|e| panic!("to_xml wrote a document from_xml refuses: {e}\n{doc2}"));
    assert_eq!(
        doc2,
        codec::to_xml(&root3, &v3),
        "to_xml ∘ from_xml is not idempotent from the second pass"
    );
}

/// Whether two keys of some object in `v` are written as the same XML name.
fn names_collide(v: &Value) -> bool {
    match v {
        Value::Object(m) => {
            let mut seen = std::collections::HashSet::new();
            m.keys().any(|k| !seen.insert(codec::xml_name(k))) || m.values().any(names_collide)
        }
        Value::Array(a) => a.iter().any(names_collide),
        _ => false,
    }
}

/// CSV: decode → encode (columns from the header) → decode gives the same rows; errors
/// name a line inside the input.
pub fn csv_decode(data: &[u8]) {
    let rows = match codec::from_csv(data) {
        Ok(r) => r,
        Err(e) => {
            if let Some(l) = e
                .location
                .strip_prefix("line ")
                .and_then(|l| l.parse::<usize>().ok())
            {
                // The csv crate counts a final line without a newline too.
                assert!(
                    l <= data.split(|&b| b == b'\n').count(),
                    "{e}: line {l} is outside the input"
                );
            }
            return;
        }
    };
    let Some(first) = rows.first() else { return };
    let columns: Vec<String> = first.keys().cloned().collect();
    for r in &rows {
        assert!(
            r.keys().eq(columns.iter()),
            "rows do not share the header's columns"
        );
        assert!(r.values().all(Value::is_string), "a CSV cell is a string");
    }
    let values: Vec<Value> = rows.iter().cloned().map(Value::Object).collect();
    let text = codec::to_csv(&columns, &values);
    let back =
        codec::from_csv(text.as_bytes()).unwrap_or_else(|e| panic!("re-decoding: {e}\n{text}"));
    assert_eq!(back, rows, "CSV round trip changed the rows\n{text}");
}

/// A boundary that occurs in none of the parts.
fn fresh_boundary(parts: &[Part]) -> String {
    let mut n = 0u64;
    loop {
        let b = format!("dialtone-fuzz-{n:x}");
        let hit = parts.iter().any(|p| {
            p.data.windows(b.len()).any(|w| w == b.as_bytes())
                || [
                    &p.name,
                    p.filename.as_deref().unwrap_or(""),
                    p.content_type.as_deref().unwrap_or(""),
                ]
                .iter()
                .any(|s| s.contains(&b))
        });
        if !hit {
            return b;
        }
        n += 1;
    }
}

/// Multipart: the first line of the input is the boundary, the rest the body. When it
/// parses, the parts written again with a fresh boundary parse to the same parts.
pub fn multipart(data: &[u8]) {
    let (boundary, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let boundary = String::from_utf8_lossy(boundary);
    let ct = format!("multipart/form-data; boundary={boundary}");
    let Ok(parts) = block_on(codec::parse_multipart(
        &ct,
        bytes::Bytes::copy_from_slice(body),
    )) else {
        return;
    };
    let fresh = fresh_boundary(&parts);
    let written = match codec::write_multipart(&parts, &fresh) {
        Ok(w) => w,
        Err(e) => {
            // Only the documented case: `\` together with what forces quoting.
            let quoting = |v: &str| {
                v.contains('\\')
                    && v.bytes().any(|b| {
                        b == b';' || b == b'"' || b.is_ascii_whitespace() || b.is_ascii_control()
                    })
            };
            assert!(
                parts
                    .iter()
                    .any(|p| quoting(&p.name) || p.filename.as_deref().is_some_and(quoting)),
                "write_multipart refused plain parts: {e}"
            );
            return;
        }
    };
    let ct2 = format!("multipart/form-data; boundary={fresh}");
    let again = block_on(codec::parse_multipart(&ct2, written.clone().into()))
        .unwrap_or_else(|e| panic!("re-parsing: {e}\n{}", String::from_utf8_lossy(&written)));
    // multer looks for `filename` (and `name`) anywhere in the Content-Disposition header,
    // inside another quoted value too. So a name or file name holding `name` may not
    // survive any writing; for those the parts' data, types and count must still survive.
    let plain = |s: &str| !s.contains("name");
    if parts
        .iter()
        .all(|p| plain(&p.name) && p.filename.as_deref().is_none_or(plain))
    {
        assert_eq!(again, parts, "multipart round trip changed the parts");
    } else {
        let body = |ps: &[Part]| -> Vec<(Option<String>, bytes::Bytes)> {
            ps.iter()
                .map(|p| (p.content_type.clone(), p.data.clone()))
                .collect()
        };
        assert_eq!(
            body(&again),
            body(&parts),
            "multipart round trip changed the data"
        );
    }
}

/// Zip: `read_zip` and `for_each_zip_member` agree and never inflate more than the cap;
/// the members that were read, written again with `write_zip`, read back the same. The
/// input is also cut into members, zipped and read back.
pub fn zip_upload(data: &[u8]) {
    let read = codec::read_zip(data, ZIP_CAP);
    if let Ok(members) = &read {
        let total: u64 = members.iter().map(|(_, b)| b.len() as u64).sum();
        assert!(
            total <= ZIP_CAP,
            "read_zip returned {total} bytes, over the cap"
        );
    }
    let mut streamed = Vec::new();
    let mut inflated = 0u64;
    let each = codec::for_each_zip_member(data, ZIP_CAP, &mut |name, r| {
        let mut bytes = Vec::new();
        // Read in small steps and count, so a reader that hands out more than the cap is
        // seen even when the error comes late.
        let mut buf = [0u8; 4096];
        loop {
            let n = r.read(&mut buf).map_err(|e| CodecError {
                format: "zip",
                message: e.to_string(),
                location: format!("member {name}"),
            })?;
            if n == 0 {
                break;
            }
            inflated += n as u64;
            assert!(
                inflated <= ZIP_CAP,
                "for_each_zip_member inflated {inflated} bytes"
            );
            bytes.extend_from_slice(&buf[..n]);
        }
        streamed.push((name.to_string(), bytes));
        Ok(())
    });
    match (&read, each) {
        (Ok(m), Ok(())) => assert_eq!(*m, streamed, "the two zip readers disagree"),
        (Err(a), Err(b)) => assert_eq!(a.format, b.format),
        (a, b) => panic!("read_zip and for_each_zip_member disagree: {a:?} vs {b:?}"),
    }
    if let Ok(members) = read {
        round_trip(&members);
    }
    // The input as members: `name\0content` records separated by `\x01`.
    let members: Vec<(String, Vec<u8>)> = data
        .split(|&b| b == 1)
        .filter_map(|rec| {
            let i = rec.iter().position(|&b| b == 0)?;
            let name = std::str::from_utf8(&rec[..i]).ok()?;
            Some((name.to_string(), rec[i + 1..].to_vec()))
        })
        .filter(|(n, _)| {
            let unsafe_name = n.is_empty()
                || n.ends_with(['/', '\\'])
                || n.starts_with(['/', '\\'])
                || n.split(['/', '\\']).any(|c| c == "..")
                || (n.len() >= 2 && n.as_bytes()[1] == b':');
            !unsafe_name
        })
        .collect();
    round_trip(&members);
}

fn round_trip(members: &[(String, Vec<u8>)]) {
    // write_zip keeps the first member of each name.
    let mut seen = std::collections::HashSet::new();
    let unique: Vec<(String, Vec<u8>)> = members
        .iter()
        .filter(|(n, _)| seen.insert(n.clone()))
        .cloned()
        .collect();
    let total: u64 = unique.iter().map(|(_, b)| b.len() as u64).sum();
    let zipped = codec::write_zip(&unique);
    match codec::read_zip(&zipped, ZIP_CAP) {
        Ok(back) => assert_eq!(back, unique, "write_zip → read_zip changed the members"),
        Err(e) => assert!(
            total > ZIP_CAP,
            "read_zip refuses what write_zip wrote ({total} bytes): {e}"
        ),
    }
}
