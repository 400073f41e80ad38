//! Body codecs for the emulator: JSON, XML, CSV, zip and multipart/form-data.
//!
//! Everything here is a pure function over buffered bytes; no I/O. Decoders
//! return a [`CodecError`] naming the format, what went wrong and where.
//!
//! # Conventions
//!
//! **JSON** ([`from_json`]): plain `serde_json`, errors located as
//! `line L, column C`.
//!
//! **XML** ([`to_xml`], [`from_xml`]) maps onto JSON as follows:
//! * an object becomes child elements, in insertion order;
//! * an array under key `k` becomes repeated `<k>` elements (nested arrays are
//!   flattened); a top-level array becomes `<item>` children of the root;
//! * strings become escaped text, numbers and booleans are written as JSON
//!   writes them, `null`, `""` and `{}` become an empty element; characters
//!   XML 1.0 cannot carry (C0 controls other than tab and newline, U+FFFE,
//!   U+FFFF) are written as U+FFFD, and `\r` as `&#13;`;
//! * keys that are not valid XML names have offending characters replaced by
//!   `_` (and get a `_` prefix if they start with a digit, `-` or `.`).
//!
//! Reading goes the other way: an element with child elements is an object,
//! a child name seen more than once becomes an array in document order, a
//! text-only element is a trimmed string and an empty element is `""`. So all
//! scalars come back as strings, and a one-item array comes back as a bare
//! value. Attributes, comments and processing instructions are ignored.
//! Non-whitespace text beside child elements is an error. DOCTYPE (and with it
//! any entity declaration) is refused outright, as are documents nested deeper
//! than [`MAX_XML_DEPTH`] elements.
//!
//! **CSV** ([`to_csv`], [`from_csv`]): a header row, `\n` line ends, RFC 4180
//! quoting. Writing: arrays are joined with `;`, objects are compact JSON,
//! `null` or a missing key is an empty cell. Reading yields one object of
//! strings per record, keyed by header in header order; a leading UTF-8 BOM and
//! blank lines are skipped.
//!
//! **Zip** ([`read_zip`], [`write_zip`]): members in archive order; directory
//! entries are skipped. Reading enforces a cap on the total bytes actually
//! decompressed, whatever the headers claim.
//!
//! **Multipart** ([`parse_multipart`], [`write_multipart`]): `multipart/form-data` only,
//! parsed with `multer`; every part must have a name. Writing quotes names (escaping `"`)
//! unless they hold `\`, and refuses the few names multer could not read back.

use std::fmt::Write as _;
use std::io::{BufRead, Cursor, Read, Write as _};
use std::ops::ControlFlow;

use bytes::Bytes;
use quick_xml::events::Event;
use serde_json::{Map, Value};

/// A body that could not be decoded.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[error("{format} body: {message} at {location}")]
pub struct CodecError {
    /// `"json"`, `"xml"`, `"csv"`, `"zip"` or `"multipart"`.
    pub format: &'static str,
    pub message: String,
    /// e.g. `line 3, column 7`, `line 4`, `member routes.csv`, `part 2`.
    pub location: String,
}

impl CodecError {
    fn new(format: &'static str, message: impl Into<String>, location: impl Into<String>) -> Self {
        Self {
            format,
            message: message.into(),
            location: location.into(),
        }
    }
}

// ---------------------------------------------------------------------------
// JSON

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

// ---------------------------------------------------------------------------
// XML

/// Deepest element nesting [`from_xml`] accepts (the root is depth 1).
pub const MAX_XML_DEPTH: usize = 64;

const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

/// Writes `value` as an XML document whose root element is `root`.
/// See the module docs for the mapping.
pub fn to_xml(root: &str, value: &Value) -> String {
    let mut out = String::with_capacity(4096);
    out.push_str(XML_DECL);
    match value {
        Value::Array(items) if !items.is_empty() => {
            open_tag(&mut out, root);
            for item in items {
                write_element(&mut out, "item", item);
            }
            close_tag(&mut out, root);
        }
        // An empty array still needs exactly one root.
        Value::Array(_) => empty_tag(&mut out, root),
        _ => write_element(&mut out, root, value),
    }
    out
}

fn write_element(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Array(items) => {
            for item in items {
                write_element(out, name, item);
            }
        }
        Value::Null => empty_tag(out, name),
        Value::Object(map) if map.is_empty() => empty_tag(out, name),
        Value::Object(map) => {
            open_tag(out, name);
            for (k, v) in map {
                write_element(out, k, v);
            }
            close_tag(out, name);
        }
        Value::String(s) if s.is_empty() => empty_tag(out, name),
        Value::String(s) => {
            open_tag(out, name);
            escape_text(out, s);
            close_tag(out, name);
        }
        Value::Number(n) => {
            open_tag(out, name);
            let _ = write!(out, "{n}");
            close_tag(out, name);
        }
        Value::Bool(b) => {
            open_tag(out, name);
            out.push_str(if *b { "true" } else { "false" });
            close_tag(out, name);
        }
    }
}

fn open_tag(out: &mut String, name: &str) {
    out.push('<');
    push_name(out, name);
    out.push('>');
}

fn close_tag(out: &mut String, name: &str) {
    out.push_str("</");
    push_name(out, name);
    out.push('>');
}

fn empty_tag(out: &mut String, name: &str) {
    out.push('<');
    push_name(out, name);
    out.push_str("/>");
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || (!c.is_ascii() && c.is_alphabetic())
}

fn is_name_char(c: char) -> bool {
    is_name_start(c)
        || c.is_ascii_digit()
        || matches!(c, '-' | '.' | ':')
        || (!c.is_ascii() && c.is_alphanumeric())
}

/// `name` as [`to_xml`] writes it: characters XML names cannot hold become `_`.
pub fn xml_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    push_name(&mut out, name);
    out
}

/// Appends `name` as an XML name, replacing what XML would reject.
fn push_name(out: &mut String, name: &str) {
    let mut chars = name.chars();
    match chars.next() {
        None => {
            out.push('_');
            return;
        }
        Some(c) if is_name_start(c) => out.push(c),
        Some(c) if is_name_char(c) && c != ':' => {
            out.push('_');
            out.push(c);
        }
        Some(_) => out.push('_'),
    }
    if chars.as_str().chars().all(is_name_char) {
        out.push_str(chars.as_str());
    } else {
        out.extend(chars.map(|c| if is_name_char(c) { c } else { '_' }));
    }
}

/// Escapes text content. Characters XML 1.0 forbids become U+FFFD; `\r` is
/// written as a character reference so parsers do not normalise it away.
fn escape_text(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (rep, len): (&str, usize) = match b {
            b'&' => ("&amp;", 1),
            b'<' => ("&lt;", 1),
            b'>' => ("&gt;", 1),
            b'\r' => ("&#13;", 1),
            b'\t' | b'\n' => {
                i += 1;
                continue;
            }
            0..=0x1f => ("\u{FFFD}", 1),
            // U+FFFE and U+FFFF are not XML characters either.
            0xEF if bytes.get(i + 1) == Some(&0xBF)
                && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)) =>
            {
                ("\u{FFFD}", 3)
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(&s[start..i]);
        out.push_str(rep);
        i += len;
        start = i;
    }
    out.push_str(&s[start..]);
}

/// 1-based `line L, column C` for a byte offset; columns count characters.
fn line_col(body: &[u8], offset: usize) -> String {
    let offset = offset.min(body.len());
    let before = &body[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    // Count UTF-8 lead bytes only.
    let column = before[line_start..]
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count()
        + 1;
    format!("line {line}, column {column}")
}

struct Frame {
    name: String,
    children: Map<String, Value>,
    text: String,
    has_children: bool,
}

impl Frame {
    fn into_value(self) -> Value {
        if self.has_children {
            return Value::Object(self.children);
        }
        let trimmed = self.text.trim();
        if trimmed.len() == self.text.len() {
            Value::String(self.text)
        } else {
            Value::String(trimmed.to_owned())
        }
    }
}

fn add_child(parent: &mut Map<String, Value>, name: String, value: Value) {
    use serde_json::map::Entry;
    match parent.entry(name) {
        Entry::Vacant(v) => {
            v.insert(value);
        }
        // Child values are only ever strings or objects, so an array here
        // means the name has already repeated.
        Entry::Occupied(o) => match o.into_mut() {
            Value::Array(items) => items.push(value),
            slot => {
                let first = slot.take();
                *slot = Value::Array(vec![first, value]);
            }
        },
    }
}

/// Parses an XML document into its root element name and a JSON value.
/// See the module docs for the mapping and what is refused.
pub fn from_xml(body: &[u8]) -> Result<(String, Value), CodecError> {
    parse_xml(body, &|offset| line_col(body, offset), None)
}

/// Receives each child of the root element as it closes: (root name, child name, child).
pub type ChildSink<'a> = &'a mut dyn FnMut(&str, String, Value) -> ControlFlow<()>;

/// Like [`from_xml`], but hands each child of the root to `sink` as soon as it is
/// complete instead of building the whole tree, so a million-row upload never exists as
/// one document in memory. Returns the root's name; parsing stops early when `sink`
/// breaks. Well-formedness is checked as far as parsing went.
pub fn xml_children(body: &[u8], sink: ChildSink) -> Result<String, CodecError> {
    parse_xml(body, &|offset| line_col(body, offset), Some(sink)).map(|(root, _)| root)
}

/// [`xml_children`] over a stream (a zip member being inflated): the document is never
/// held whole. Error locations are byte offsets, since earlier lines are gone.
pub fn xml_children_from(input: impl BufRead, sink: ChildSink) -> Result<String, CodecError> {
    parse_xml(input, &|offset| format!("byte {offset}"), Some(sink)).map(|(root, _)| root)
}

fn parse_xml(
    input: impl BufRead,
    locate: &dyn Fn(usize) -> String,
    mut sink: Option<ChildSink>,
) -> Result<(String, Value), CodecError> {
    let err = |offset: usize, message: String| CodecError::new("xml", message, locate(offset));

    let mut reader = quick_xml::Reader::from_reader(input);
    let mut buf = Vec::new();
    // Whitespace is kept and trimmed per element, so text around CDATA or
    // comments is joined correctly.
    reader.config_mut().trim_text(false);
    reader.config_mut().check_end_names = true;

    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<(String, Value)> = None;
    // Child count of the last object finished at each depth: siblings in
    // tables look alike, so this sizes the next one without regrowing.
    let mut size_hints = [0usize; MAX_XML_DEPTH];

    loop {
        let at = reader.buffer_position() as usize;
        buf.clear();
        let event = match reader.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => return Err(err(reader.error_position() as usize, e.to_string())),
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = std::str::from_utf8(e.name().as_ref())
                    .map_err(|_| err(at, "element name is not valid UTF-8".into()))?
                    .to_owned();
                let depth = stack.len();
                match stack.last_mut() {
                    // First child: the text so far must be whitespace.
                    Some(parent) if !parent.has_children => {
                        if !parent.text.trim().is_empty() {
                            return Err(err(at, format!("mixed content in <{}>", parent.name)));
                        }
                        parent.has_children = true;
                        parent.text = String::new();
                        parent.children = Map::with_capacity(size_hints[depth - 1].min(1024));
                    }
                    Some(_) => {}
                    None if root.is_some() => {
                        return Err(err(at, "more than one root element".into()));
                    }
                    None => {}
                }
                if stack.len() >= MAX_XML_DEPTH {
                    return Err(err(
                        at,
                        format!("elements nested deeper than {MAX_XML_DEPTH}"),
                    ));
                }
                let frame = Frame {
                    name,
                    children: Map::new(),
                    text: String::new(),
                    has_children: false,
                };
                if matches!(event, Event::Start(_)) {
                    stack.push(frame);
                } else if finish(&mut stack, &mut root, frame, &mut size_hints, &mut sink)
                    .is_break()
                {
                    return Ok((stack[0].name.clone(), Value::Null));
                }
            }
            Event::End(_) => {
                // quick-xml has already checked that the names match.
                let frame = stack
                    .pop()
                    .ok_or_else(|| err(at, "closing tag without an open element".into()))?;
                if finish(&mut stack, &mut root, frame, &mut size_hints, &mut sink).is_break() {
                    return Ok((stack[0].name.clone(), Value::Null));
                }
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|e| {
                    let (offset, message) = describe_escape_error(e, at);
                    err(offset, message)
                })?;
                push_text(&mut stack, &text).map_err(|m| err(at, m))?;
            }
            Event::CData(c) => {
                let raw = c.into_inner();
                let text = std::str::from_utf8(&raw)
                    .map_err(|_| err(at, "CDATA is not valid UTF-8".into()))?;
                push_text(&mut stack, text).map_err(|m| err(at, m))?;
            }
            Event::DocType(_) => {
                return Err(err(at, "DOCTYPE declarations are not allowed".into()));
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    let end = reader.buffer_position() as usize;
    if let Some(open) = stack.last() {
        return Err(err(end, format!("unclosed element <{}>", open.name)));
    }
    root.ok_or_else(|| err(end, "no root element".into()))
}

/// Turns an entity error into a message and the byte offset of its `&`.
fn describe_escape_error(e: quick_xml::Error, text_start: usize) -> (usize, String) {
    use quick_xml::escape::EscapeError;
    match e {
        // The range covers the name, just after the `&`.
        quick_xml::Error::Escape(EscapeError::UnrecognizedEntity(range, name)) => (
            text_start + range.start.saturating_sub(1),
            format!("unknown entity `&{name};`"),
        ),
        quick_xml::Error::Escape(EscapeError::UnterminatedEntity(range)) => {
            (text_start + range.start, "`&` without a closing `;`".into())
        }
        other => (text_start, other.to_string()),
    }
}

fn finish(
    stack: &mut [Frame],
    root: &mut Option<(String, Value)>,
    mut frame: Frame,
    size_hints: &mut [usize; MAX_XML_DEPTH],
    sink: &mut Option<ChildSink>,
) -> ControlFlow<()> {
    if frame.has_children {
        size_hints[stack.len()] = frame.children.len();
    }
    let name = std::mem::take(&mut frame.name);
    let value = frame.into_value();
    match (stack, sink) {
        ([parent], Some(sink)) => return sink(&parent.name, name, value),
        ([.., parent], _) => add_child(&mut parent.children, name, value),
        ([], _) => *root = Some((name, value)),
    }
    ControlFlow::Continue(())
}

fn push_text(stack: &mut [Frame], text: &str) -> Result<(), String> {
    match stack.last_mut() {
        None if text.trim().is_empty() => Ok(()),
        None => Err("text outside the root element".into()),
        Some(f) if f.has_children => {
            if text.trim().is_empty() {
                Ok(())
            } else {
                Err(format!("mixed content in <{}>", f.name))
            }
        }
        Some(f) => {
            f.text.push_str(text);
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------
// CSV

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
        if headers.iter().any(|h| h == name) {
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

// ---------------------------------------------------------------------------
// Zip

/// Why a member name is unsafe to honour, if it is.
fn unsafe_member_name(name: &str) -> Option<&'static str> {
    let b = name.as_bytes();
    if name.is_empty() {
        Some("empty member name")
    } else if name.contains('\0') {
        Some("member name contains NUL")
    } else if b[0] == b'/' || b[0] == b'\\' {
        Some("absolute member path")
    } else if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        Some("member path has a drive letter")
    } else if name.split(['/', '\\']).any(|c| c == "..") {
        Some("member path contains `..`")
    } else {
        None
    }
}

/// Reads a zip archive into `(name, bytes)` members in archive order.
/// Directory entries are skipped. At most `max_total` bytes are decompressed
/// across all members; going over is an error.
pub fn read_zip(body: &[u8], max_total: u64) -> Result<Vec<(String, Vec<u8>)>, CodecError> {
    let mut members = Vec::new();
    for_each_zip_member(body, max_total, &mut |name, data| {
        let mut bytes = Vec::new();
        data.read_to_end(&mut bytes)
            .map_err(|e| CodecError::new("zip", e.to_string(), format!("member {name}")))?;
        members.push((name.to_string(), bytes));
        Ok(())
    })?;
    Ok(members)
}

/// Hands each member of an archive to `f` as a stream, in archive order, with the same
/// checks as [`read_zip`]. The uncompressed-size limit is enforced on the bytes `f`
/// actually reads: reading past it fails with an I/O error naming the limit.
pub fn for_each_zip_member(
    body: &[u8],
    max_total: u64,
    f: &mut dyn FnMut(&str, &mut dyn BufRead) -> Result<(), CodecError>,
) -> Result<(), CodecError> {
    let zerr = |message: String, location: String| CodecError::new("zip", message, location);
    let mut archive = zip::ZipArchive::new(Cursor::new(body))
        .map_err(|e| zerr(e.to_string(), "central directory".into()))?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let (name, is_dir) = {
            let raw = archive
                .by_index_raw(i)
                .map_err(|e| zerr(e.to_string(), format!("member #{}", i + 1)))?;
            let name = raw.name().to_owned();
            if raw.encrypted() {
                return Err(zerr(
                    "encrypted members are not supported".into(),
                    format!("member {name}"),
                ));
            }
            (name, raw.is_dir())
        };
        if let Some(why) = unsafe_member_name(&name) {
            return Err(zerr(why.into(), format!("member {name}")));
        }
        if is_dir {
            continue;
        }
        let mut file = archive
            .by_index(i)
            .map_err(|e| zerr(e.to_string(), format!("member {name}")))?;
        // The header's size is never trusted: the limit counts bytes actually inflated.
        let mut limited = Limit {
            inner: &mut file,
            left: max_total - total,
            max_total,
        };
        let mut buffered = std::io::BufReader::with_capacity(64 << 10, &mut limited);
        f(&name, &mut buffered)?;
        drop(buffered);
        total = max_total - limited.left;
    }
    Ok(())
}

/// A reader that fails once more than `left` bytes have been read through it.
struct Limit<R> {
    inner: R,
    left: u64,
    max_total: u64,
}

impl<R: Read> Read for Limit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // Ask for one byte beyond the limit so that crossing it is seen.
        let want = buf.len().min(self.left.saturating_add(1) as usize);
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            return Err(std::io::Error::other(format!(
                "uncompressed size exceeds the limit of {} bytes",
                self.max_total
            )));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Writes members into a deflate-compressed zip archive. A member whose name
/// was already written is skipped (zip archives cannot hold duplicates).
pub fn write_zip(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut seen = std::collections::HashSet::with_capacity(members.len());
    for (name, data) in members {
        if !seen.insert(name.as_str()) {
            continue;
        }
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(data.len() as u64 >= u32::MAX as u64);
        // Writing to an in-memory cursor cannot fail, and names are unique.
        writer
            .start_file(name.as_str(), options)
            .expect("zip member header");
        writer.write_all(data).expect("zip member data");
    }
    writer.finish().expect("zip central directory").into_inner()
}

// ---------------------------------------------------------------------------
// Multipart

/// One part of a `multipart/form-data` body.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Bytes,
}

/// Parses a buffered `multipart/form-data` body. `content_type` is the
/// request's Content-Type header, which must carry the boundary.
pub async fn parse_multipart(content_type: &str, body: Bytes) -> Result<Vec<Part>, CodecError> {
    use http_body_util::BodyExt as _;
    let boundary = multer::parse_boundary(content_type)
        .map_err(|e| CodecError::new("multipart", e.to_string(), "Content-Type header"))?;
    let stream = http_body_util::Full::new(body).into_data_stream();
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut parts = Vec::new();
    loop {
        let location = format!("part {}", parts.len() + 1);
        let merr = |e: multer::Error| CodecError::new("multipart", e.to_string(), location.clone());
        let Some(field) = multipart.next_field().await.map_err(merr)? else {
            break;
        };
        let name = field
            .name()
            .map(str::to_owned)
            .ok_or_else(|| CodecError::new("multipart", "part has no name", location.clone()))?;
        let filename = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(|m| m.to_string());
        let data = field.bytes().await.map_err(merr)?;
        parts.push(Part {
            name,
            filename,
            content_type,
            data,
        });
    }
    Ok(parts)
}

/// Writes parts as a `multipart/form-data` body with `boundary` (which must not occur in
/// any part's data). Names and file names are written in double quotes, as browsers do,
/// with `"` escaped as `\"` (what `parse_multipart` reads back). A value holding `\` is
/// written unquoted, since the parser would take `\"` at its end for an escaped quote; one
/// that also holds a space, `;`, `"` or a control character cannot be written so that it
/// reads back, and is refused.
pub fn write_multipart(parts: &[Part], boundary: &str) -> Result<Vec<u8>, CodecError> {
    let value = |out: &mut Vec<u8>, v: &str, at: usize| -> Result<(), CodecError> {
        if !v.contains('\\') {
            out.push(b'"');
            out.extend_from_slice(v.replace('"', "\\\"").as_bytes());
            out.push(b'"');
            return Ok(());
        }
        if v.bytes()
            .any(|b| b == b';' || b == b'"' || b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err(CodecError::new(
                "multipart",
                "a name with `\\` and a space, `;`, `\"` or a control character cannot be written",
                format!("part {}", at + 1),
            ));
        }
        out.extend_from_slice(v.as_bytes());
        Ok(())
    };
    let mut out = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(b"\r\nContent-Disposition: form-data; name=");
        value(&mut out, &p.name, i)?;
        if let Some(f) = &p.filename {
            out.extend_from_slice(b"; filename=");
            value(&mut out, f, i)?;
        }
        out.extend_from_slice(b"\r\n");
        if let Some(ct) = &p.content_type {
            out.extend_from_slice(b"Content-Type: ");
            out.extend_from_slice(ct.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&p.data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"--");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"--\r\n");
    Ok(out)
}

// ---- dotted paths into JSON values ----------------------------------------------

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

    // --- JSON ---

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

    // --- XML ---

    #[test]
    fn xml_round_trip_of_strings() {
        let v = json!({
            "name": "trunk <1> & \"co\"",
            "host": {"addr": "10.0.0.1", "port": "5060"},
            "route": ["a", "b", "c"],
            "empty": ""
        });
        let doc = to_xml("trunk", &v);
        assert!(
            doc.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><trunk>"),
            "{doc}"
        );
        let (root, back) = from_xml(doc.as_bytes()).unwrap();
        assert_eq!(root, "trunk");
        assert_eq!(back, v);
        // Insertion order survives.
        let keys: Vec<_> = back.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["name", "host", "route", "empty"]);
    }

    #[test]
    fn xml_scalars_and_nulls_are_written_as_text() {
        let doc = to_xml("r", &json!({"n": 1.5, "b": true, "z": null, "o": {}}));
        assert!(
            doc.ends_with("<r><n>1.5</n><b>true</b><z/><o/></r>"),
            "{doc}"
        );
        let (_, back) = from_xml(doc.as_bytes()).unwrap();
        assert_eq!(back, json!({"n": "1.5", "b": "true", "z": "", "o": ""}));
    }

    #[test]
    fn xml_top_level_array_and_bad_names() {
        let doc = to_xml("list", &json!([{"1x": "a", "a b": "c"}, "s"]));
        assert!(
            doc.ends_with("<list><item><_1x>a</_1x><a_b>c</a_b></item><item>s</item></list>"),
            "{doc}"
        );
        let (_, back) = from_xml(doc.as_bytes()).unwrap();
        assert_eq!(back, json!({"item": [{"_1x": "a", "a_b": "c"}, "s"]}));
        assert!(to_xml("e", &json!([])).ends_with("<e/>"));
    }

    #[test]
    fn xml_escapes_control_characters_and_cr() {
        let doc = to_xml("t", &json!({"v": "a\u{1}b\r\nc\u{FFFF}"}));
        assert!(doc.contains("a\u{FFFD}b&#13;\nc\u{FFFD}"), "{doc}");
        let (_, back) = from_xml(doc.as_bytes()).unwrap();
        assert_eq!(back["v"], "a\u{FFFD}b\r\nc\u{FFFD}");
    }

    #[test]
    fn xml_repeated_elements_become_arrays() {
        let doc = b"<routes>\n  <route><id>1</id></route>\n  <route><id>2</id></route>\n  <x> hi </x>\n  <route/>\n</routes>";
        let (root, v) = from_xml(doc).unwrap();
        assert_eq!(root, "routes");
        assert_eq!(
            v,
            json!({"route": [{"id": "1"}, {"id": "2"}, ""], "x": "hi"})
        );
    }

    #[test]
    fn xml_siblings_of_different_shapes() {
        let doc =
            b"<r><a><x>1</x><y>2</y><z>3</z></a><a><w>4</w></a><b>t</b><a><x>5</x><x>6</x></a></r>";
        let (_, v) = from_xml(doc).unwrap();
        assert_eq!(
            v,
            json!({"a": [{"x": "1", "y": "2", "z": "3"}, {"w": "4"}, {"x": ["5", "6"]}], "b": "t"})
        );
    }

    #[test]
    fn xml_text_entities_cdata_comments_attributes() {
        let doc = br#"<?xml version="1.0"?><!-- c --><a k="v"><b>x &amp; &#65;</b><c>p <![CDATA[<q>]]> r</c><e/></a>"#;
        let (_, v) = from_xml(doc).unwrap();
        assert_eq!(v, json!({"b": "x & A", "c": "p <q> r", "e": ""}));
        let (root, v) = from_xml(b"\xEF\xBB\xBF<only/>").unwrap();
        assert_eq!((root.as_str(), v), ("only", json!("")));
    }

    #[test]
    fn xml_error_reports_line_and_column() {
        let doc = b"<a>\n  <b>1</b>\n  <c>2</d>\n</a>";
        let e = from_xml(doc).unwrap_err();
        assert_eq!(e.format, "xml");
        assert!(e.location.starts_with("line 3, column "), "{e}");
        let e = from_xml(b"<a>\n<b>x &bogus;</b></a>").unwrap_err();
        assert_eq!(e.location, "line 2, column 6");
        assert_eq!(e.message, "unknown entity `&bogus;`");
        let e = from_xml("<a>\n<b>é & y</b></a>".as_bytes()).unwrap_err();
        assert_eq!(e.location, "line 2, column 6");
    }

    #[test]
    fn xml_rejects_doctype_and_entities() {
        let bomb = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>
<lolz>&lol2;</lolz>"#;
        let e = from_xml(bomb).unwrap_err();
        assert!(e.message.contains("DOCTYPE"), "{e}");
        assert_eq!(e.location, "line 2, column 1");
    }

    #[test]
    fn xml_rejects_deep_nesting() {
        let ok = format!(
            "{}{}",
            "<a>".repeat(MAX_XML_DEPTH),
            "</a>".repeat(MAX_XML_DEPTH)
        );
        assert!(from_xml(ok.as_bytes()).is_ok());
        let deep = format!(
            "{}{}",
            "<a>".repeat(MAX_XML_DEPTH + 1),
            "</a>".repeat(MAX_XML_DEPTH + 1)
        );
        let e = from_xml(deep.as_bytes()).unwrap_err();
        assert!(e.message.contains("deeper"), "{e}");
        assert_eq!(
            e.location,
            format!("line 1, column {}", 3 * MAX_XML_DEPTH + 1)
        );
    }

    #[test]
    fn xml_rejects_bad_structure() {
        for (doc, needle) in [
            (&b"<a/><b/>"[..], "more than one root"),
            (b"", "no root"),
            (b"<!-- only -->", "no root"),
            (b"<a><b>", "unclosed"),
            (b"<a>text<b/></a>", "mixed content"),
            (b"<a><b/>text</a>", "mixed content"),
            (b"<a/>junk", "outside the root"),
            (b"<a></b>", ""),
        ] {
            let e = from_xml(doc).expect_err(std::str::from_utf8(doc).unwrap());
            assert!(e.message.contains(needle), "{e}");
        }
    }

    // --- CSV ---

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

    // --- Zip ---

    #[test]
    fn zip_round_trip() {
        let members = vec![
            ("routes.csv".to_string(), b"a,b\n1,2\n".to_vec()),
            ("dir/trunks.json".to_string(), b"{}".to_vec()),
            ("routes.csv".to_string(), b"dropped".to_vec()),
        ];
        let archive = write_zip(&members);
        let back = read_zip(&archive, 1 << 20).unwrap();
        assert_eq!(back, members[..2].to_vec());
    }

    #[test]
    fn zip_bomb_is_rejected_while_reading() {
        let archive = write_zip(&[("zeros.bin".to_string(), vec![0u8; 1 << 20])]);
        assert!(archive.len() < 10_000, "deflate should shrink zeros");
        let e = read_zip(&archive, 100_000).unwrap_err();
        assert_eq!(e.location, "member zeros.bin");
        assert!(e.message.contains("limit"), "{e}");
        // The limit is on the total, across members.
        let two = write_zip(&[("a".into(), vec![1; 600]), ("b".into(), vec![2; 600])]);
        assert!(read_zip(&two, 1200).is_ok());
        assert_eq!(read_zip(&two, 1199).unwrap_err().location, "member b");
    }

    #[test]
    fn zip_bomb_with_lying_header_is_rejected() {
        // Patch the declared uncompressed sizes down to 1: the limit must
        // still hold because it counts bytes actually produced.
        let mut archive = write_zip(&[("z".to_string(), vec![0u8; 1 << 20])]);
        let size = (1u32 << 20).to_le_bytes();
        let mut i = 0;
        while let Some(p) = archive[i..].windows(4).position(|w| w == size) {
            archive[i + p..i + p + 4].copy_from_slice(&1u32.to_le_bytes());
            i += p + 4;
        }
        assert!(i > 0, "no size field patched");
        let e = read_zip(&archive, 1000).unwrap_err();
        assert!(e.message.contains("limit"), "{e}");
    }

    #[test]
    fn zip_rejects_unsafe_names_and_garbage() {
        for bad in ["../etc/passwd", "a/../../b", "/abs", "C:/win", "a\\..\\b"] {
            let archive = write_zip(&[(bad.to_string(), b"x".to_vec())]);
            let e = read_zip(&archive, 1000).expect_err(bad);
            assert_eq!(e.location, format!("member {bad}"));
        }
        let e = read_zip(b"not a zip at all", 1000).unwrap_err();
        assert_eq!(
            (e.format, e.location.as_str()),
            ("zip", "central directory")
        );
    }

    #[test]
    fn zip_rejects_encrypted_members() {
        let mut archive = write_zip(&[("secret".to_string(), b"x".to_vec())]);
        // Set bit 0 (encrypted) of the general-purpose flags in both the local
        // header (offset 6) and the central directory header (offset 8).
        let local = archive.windows(4).position(|w| w == b"PK\x03\x04").unwrap();
        archive[local + 6] |= 1;
        let central = archive.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        archive[central + 8] |= 1;
        let e = read_zip(&archive, 1000).unwrap_err();
        assert!(e.message.contains("encrypted"), "{e}");
    }

    // --- Multipart ---

    const CT: &str = "multipart/form-data; boundary=XyZ";

    #[tokio::test]
    async fn multipart_two_parts() {
        let body = "--XyZ\r\n\
            Content-Disposition: form-data; name=\"comment\"\r\n\r\n\
            hello\r\n\
            --XyZ\r\n\
            Content-Disposition: form-data; name=\"file\"; filename=\"routes.csv\"\r\n\
            Content-Type: text/csv\r\n\r\n\
            a,b\n1,2\n\r\n\
            --XyZ--\r\n";
        let parts = parse_multipart(CT, Bytes::from(body)).await.unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "comment");
        assert_eq!(parts[0].filename, None);
        assert_eq!(parts[0].content_type, None);
        assert_eq!(&parts[0].data[..], b"hello");
        assert_eq!(parts[1].filename.as_deref(), Some("routes.csv"));
        assert_eq!(parts[1].content_type.as_deref(), Some("text/csv"));
        assert_eq!(&parts[1].data[..], b"a,b\n1,2\n");
    }

    #[tokio::test]
    async fn multipart_written_parts_read_back() {
        let part = |name: &str, filename: Option<&str>| Part {
            name: name.into(),
            filename: filename.map(str::to_string),
            content_type: Some("text/csv".into()),
            data: Bytes::from_static(b"a,b\r\n1,2\r\n"),
        };
        let parts = vec![
            part("file", Some("routes.csv")),
            part("say \"hi\"", Some("a\"b.txt")),
            part("back\\slash\\", Some("C:\\dir\\f.txt")),
        ];
        let body = write_multipart(&parts, "XyZ").unwrap();
        assert_eq!(parse_multipart(CT, body.into()).await.unwrap(), parts);
        let e = write_multipart(&[part("a\\ b", None)], "XyZ").unwrap_err();
        assert_eq!(e.location, "part 1");
    }

    #[tokio::test]
    async fn multipart_without_boundary_is_rejected() {
        let e = parse_multipart("multipart/form-data", Bytes::from_static(b"--x--\r\n"))
            .await
            .unwrap_err();
        assert_eq!(
            (e.format, e.location.as_str()),
            ("multipart", "Content-Type header")
        );
        assert!(parse_multipart("application/json", Bytes::new())
            .await
            .is_err());
    }

    #[tokio::test]
    async fn multipart_truncated_or_malformed_is_rejected() {
        let truncated = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhel";
        let e = parse_multipart(CT, Bytes::from(truncated))
            .await
            .unwrap_err();
        assert_eq!(e.location, "part 1");
        let no_name = "--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--\r\n";
        let e = parse_multipart(CT, Bytes::from(no_name)).await.unwrap_err();
        assert!(e.message.contains("no name"), "{e}");
        assert!(parse_multipart(CT, Bytes::new()).await.is_err());
    }
}

#[cfg(test)]
mod streaming_tests {
    use super::*;

    #[test]
    fn xml_children_streams_items_and_can_stop() {
        let body = b"<list><item><a>1</a></item><item><a>2</a></item><item><a>3</a></item></list>";
        let mut seen = vec![];
        let mut sink = |root: &str, name: String, v: Value| {
            assert_eq!(root, "list");
            seen.push((name, v["a"].clone()));
            if seen.len() == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        assert_eq!(xml_children(body, &mut sink).unwrap(), "list");
        assert_eq!(seen.len(), 2, "parsing stopped at the break");
        assert_eq!(seen[1], ("item".to_string(), Value::String("2".into())));
        let mut all = 0;
        let mut count = |_: &str, _: String, _: Value| {
            all += 1;
            ControlFlow::Continue(())
        };
        assert!(
            xml_children(b"<list><item/><item>", &mut count).is_err(),
            "unclosed"
        );
        assert_eq!(all, 1, "items before the error were handed out");
    }
}
