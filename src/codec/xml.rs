//! XML bodies: writing a JSON value as a document, and reading one back, whole or child by
//! child as a stream. The mapping and what is refused are in the parent module's docs.

use std::fmt::Write as _;
use std::io::BufRead;
use std::ops::ControlFlow;

use quick_xml::events::Event;
use serde_json::{Map, Value};

use super::CodecError;

/// Deepest element nesting [`from_xml`] accepts (the root is depth 1).
pub const MAX_XML_DEPTH: usize = 64;

/// The most bytes one token (a tag, a text run, a comment, a CDATA section) may take. The
/// parser holds a whole token at once, so a zip member of a gigabyte of blanks would
/// otherwise be held whole; no value of these APIs comes near it.
pub const MAX_XML_TOKEN: usize = 16 << 20;

/// A reader that fails once one token has taken more than [`MAX_XML_TOKEN`] bytes: the
/// parser calls [`TokenBound::next_token`] before each event.
struct TokenBound<R> {
    inner: R,
    since: usize,
}

impl<R> TokenBound<R> {
    fn next_token(&mut self) {
        self.since = 0;
    }

    fn over(&self) -> std::io::Result<()> {
        if self.since > MAX_XML_TOKEN {
            return Err(std::io::Error::other(format!(
                "one token (text, tag or comment) is longer than {MAX_XML_TOKEN} bytes"
            )));
        }
        Ok(())
    }
}

impl<R: std::io::Read> std::io::Read for TokenBound<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.over()?;
        let n = self.inner.read(buf)?;
        self.since += n;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for TokenBound<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.over()?;
        // Never more than the token may still take plus one byte, so that the parser
        // asks again (and fails) once the token is over the bound.
        let room = MAX_XML_TOKEN + 1 - self.since;
        let buf = self.inner.fill_buf()?;
        Ok(&buf[..buf.len().min(room)])
    }

    fn consume(&mut self, amt: usize) {
        self.since += amt;
        self.inner.consume(amt);
    }
}

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

    let mut reader = quick_xml::Reader::from_reader(TokenBound {
        inner: input,
        since: 0,
    });
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
        reader.get_mut().next_token();
        let event = match reader.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => return Err(err(reader.error_position() as usize, e.to_string())),
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = std::str::from_utf8(e.name().as_ref())
                    .map_err(|_| err(at, "element name is not valid UTF-8".into()))?
                    .to_owned();
                let frame = open_frame(&mut stack, root.is_some(), &size_hints, name)
                    .map_err(|m| err(at, m))?;
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

/// The frame for an element opening below `stack`: its parent (now known to have
/// children) may hold no text, there is one root, and nesting stays within
/// [`MAX_XML_DEPTH`].
fn open_frame(
    stack: &mut [Frame],
    has_root: bool,
    size_hints: &[usize; MAX_XML_DEPTH],
    name: String,
) -> Result<Frame, String> {
    let depth = stack.len();
    match stack.last_mut() {
        // First child: the text so far must be whitespace.
        Some(parent) if !parent.has_children => {
            if !parent.text.trim().is_empty() {
                return Err(format!("mixed content in <{}>", parent.name));
            }
            parent.has_children = true;
            parent.text = String::new();
            parent.children = Map::with_capacity(size_hints[depth - 1].min(1024));
        }
        Some(_) => {}
        None if has_root => return Err("more than one root element".into()),
        None => {}
    }
    if depth >= MAX_XML_DEPTH {
        return Err(format!("elements nested deeper than {MAX_XML_DEPTH}"));
    }
    Ok(Frame {
        name,
        children: Map::new(),
        text: String::new(),
        has_children: false,
    })
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

/// Text (also from character references and CDATA) may hold only the characters XML 1.0
/// allows (§2.2 `Char`): no C0 controls but tab, newline and carriage return, and no
/// U+FFFE or U+FFFF. A document holding one is not well-formed, and is refused rather than
/// stored altered.
fn push_text(stack: &mut [Frame], text: &str) -> Result<(), String> {
    if let Some(c) = text.chars().find(|c| {
        matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
    }) {
        return Err(format!(
            "character U+{:04X} is not allowed in XML 1.0 text",
            u32::from(c)
        ));
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn control_characters_make_a_document_not_well_formed() {
        for doc in [
            &b"<a><b>x\x01y</b></a>"[..],
            b"<a><b>x\x00y</b></a>",
            b"<a><b>x&#1;y</b></a>",
            b"<a><b>&#x1F;</b></a>",
            b"<a><b><![CDATA[x\x02]]></b></a>",
            "<a><b>\u{fffe}</b></a>".as_bytes(),
        ] {
            let e = from_xml(doc).expect_err(&String::from_utf8_lossy(doc));
            assert!(e.to_string().contains("not allowed in XML 1.0"), "{e}");
        }
        let ok = from_xml(b"<a><b>tab\there\nand\r\n&#9;&#10;</b></a>").unwrap();
        assert!(ok.1["b"].as_str().unwrap().contains('\t'));
    }

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
