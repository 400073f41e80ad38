//! Structural mutations of a valid request. A [`Draft`] is a request before it is sent; a
//! [`Mutation`] is one recorded edit of a draft, so a finding can be replayed and
//! minimized by applying fewer of them to the same starting draft.

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

/// A request being built: the fuzzer's starting point (from `sample`) and its mutants.
#[derive(Debug, Clone)]
pub struct Draft {
    pub method: String,
    /// The path as literal pieces and parameters, in order.
    pub pieces: Vec<Piece>,
    /// Query pairs, already percent-encoded.
    pub query: Vec<(String, String)>,
    /// Headers other than credentials and `Content-Type`.
    pub headers: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub body: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub enum Piece {
    Lit(String),
    Param { name: String, value: String },
}

impl Draft {
    /// Path and query.
    pub fn target(&self) -> String {
        let mut t = self.path();
        for (i, (k, v)) in self.query.iter().enumerate() {
            t.push(if i == 0 { '?' } else { '&' });
            t.push_str(k);
            t.push('=');
            t.push_str(v);
        }
        t
    }

    pub fn path(&self) -> String {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Lit(s) => s.as_str(),
                Piece::Param { value, .. } => value.as_str(),
            })
            .collect()
    }

    /// Body format, from the content type (or the bytes when it says nothing useful).
    fn format(&self) -> Fmt {
        let ct = self
            .content_type
            .as_deref()
            .unwrap_or("")
            .to_ascii_lowercase();
        if ct.contains("json") {
            Fmt::Json
        } else if ct.contains("xml") {
            Fmt::Xml
        } else if ct.starts_with("multipart/") {
            Fmt::Multipart
        } else if ct.contains("zip") {
            Fmt::Zip
        } else {
            Fmt::Other
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fmt {
    Json,
    Xml,
    Multipart,
    Zip,
    Other,
}

/// A value of another JSON type.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    String,
    Number,
    Bool,
    Null,
    Array,
    Object,
}

/// What to do to one field of the body's tree.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FieldOp {
    Drop,
    Duplicate,
    Rename(String),
    Nest,
    Type(Kind),
    Empty,
    /// A string of this many characters.
    Huge(usize),
    /// An array of this many copies.
    LongArray(usize),
    Unicode,
}

/// One recorded edit of a draft.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Mutation {
    /// A field of the JSON or XML body, by its path in the tree.
    Field {
        path: Vec<String>,
        op: FieldOp,
    },
    /// Two bytes that are not UTF-8 in the middle of the body.
    InvalidUtf8,
    /// A UTF-8 byte-order mark before the body.
    Bom,
    /// A `charset` parameter on the content type.
    Charset {
        charset: String,
    },
    /// The body cut to this share (percent) of its length.
    Truncate {
        keep_percent: u8,
    },
    /// A syntax character inserted in the middle of the body.
    StrayByte {
        byte: u8,
    },
    /// An XML document type with an entity that expands.
    XmlEntity,
    /// A body nested this deep (JSON arrays or XML elements, as the body is).
    DeepNesting {
        depth: usize,
    },
    /// A JSON body labelled XML or the other way round.
    SwapFormat,
    /// No body at all, or an empty one.
    EmptyBody,
    /// Bytes of no format.
    Garbage {
        len: usize,
    },
    /// The Content-Type header left out.
    NoContentType,
    ContentType {
        value: String,
    },
    Accept {
        value: String,
    },
    /// A header sent twice with different values.
    DuplicateHeader {
        name: String,
    },
    /// A header this many bytes long.
    HugeHeader {
        len: usize,
    },
    Method {
        method: String,
    },
    /// A path parameter's value replaced (already percent-encoded where it must be).
    PathParam {
        name: String,
        value: String,
    },
    /// A query parameter set (added, or its value replaced).
    Query {
        name: String,
        value: String,
    },
    /// A multipart body without a boundary parameter.
    MultipartNoBoundary,
    MultipartWrongBoundary,
    MultipartHugeBoundary {
        len: usize,
    },
    /// The closing delimiter cut off.
    MultipartTruncated,
    /// Zip bytes with their middle overwritten.
    ZipCorrupt,
    /// A zip whose member names do not say their format, or climb out of the archive.
    ZipMemberName {
        name: String,
    },
    /// The zip inside another zip.
    ZipNested,
    /// An extra member of this many zero bytes (compresses to almost nothing).
    ZipHugeMember {
        len: usize,
    },
}

impl fmt::Display for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Mutation::*;
        match self {
            Field { path, op } => {
                let at = if path.is_empty() {
                    "/".to_string()
                } else {
                    format!("/{}", path.join("/"))
                };
                match op {
                    FieldOp::Drop => write!(f, "drop field {at}"),
                    FieldOp::Duplicate => write!(f, "duplicate field {at}"),
                    FieldOp::Rename(n) => write!(f, "rename field {at} to {n}"),
                    FieldOp::Nest => write!(f, "nest field {at} in an object"),
                    FieldOp::Type(k) => write!(f, "field {at} as {k:?}"),
                    FieldOp::Empty => write!(f, "field {at} empty"),
                    FieldOp::Huge(n) => write!(f, "field {at} as a {n}-character string"),
                    FieldOp::LongArray(n) => write!(f, "field {at} as an array of {n}"),
                    FieldOp::Unicode => write!(f, "field {at} as non-ASCII text"),
                }
            }
            InvalidUtf8 => write!(f, "invalid UTF-8 in the body"),
            Bom => write!(f, "byte-order mark before the body"),
            Charset { charset } => write!(f, "charset={charset}"),
            Truncate { keep_percent } => write!(f, "body cut to {keep_percent}%"),
            StrayByte { byte } => write!(f, "stray `{}` in the body", *byte as char),
            XmlEntity => write!(f, "XML DTD with an expanding entity"),
            DeepNesting { depth } => write!(f, "body nested {depth} deep"),
            SwapFormat => write!(f, "JSON and XML content types swapped"),
            EmptyBody => write!(f, "empty body"),
            Garbage { len } => write!(f, "{len} bytes of garbage as the body"),
            NoContentType => write!(f, "no Content-Type"),
            ContentType { value } => write!(f, "Content-Type: {value}"),
            Accept { value } => write!(f, "Accept: {value}"),
            DuplicateHeader { name } => write!(f, "{name} sent twice"),
            HugeHeader { len } => write!(f, "a {len}-byte header"),
            Method { method } => write!(f, "method {method}"),
            PathParam { name, value } => write!(f, "path parameter {name} = {}", clip(value)),
            Query { name, value } => write!(f, "query {name}={}", clip(value)),
            MultipartNoBoundary => write!(f, "multipart without a boundary"),
            MultipartWrongBoundary => write!(f, "multipart with the wrong boundary"),
            MultipartHugeBoundary { len } => write!(f, "multipart boundary of {len} bytes"),
            MultipartTruncated => write!(f, "multipart without its closing delimiter"),
            ZipCorrupt => write!(f, "corrupt zip"),
            ZipMemberName { name } => write!(f, "zip member named {name}"),
            ZipNested => write!(f, "zip inside a zip"),
            ZipHugeMember { len } => write!(f, "zip member of {len} zero bytes"),
        }
    }
}

fn clip(s: &str) -> String {
    if s.len() > 40 {
        format!(
            "{}… ({} bytes)",
            &s[..s.floor_char_boundary_compat(40)],
            s.len()
        )
    } else {
        s.to_string()
    }
}

trait FloorBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}

impl FloorBoundary for str {
    fn floor_char_boundary_compat(&self, mut i: usize) -> usize {
        while i > 0 && !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}

impl Mutation {
    /// Apply to `d`. A mutation that no longer fits (its field is gone, the body no longer
    /// parses) changes nothing.
    pub fn apply(&self, d: &mut Draft) {
        use Mutation::*;
        match self {
            Field { path, op } => edit_tree(d, path, op),
            InvalidUtf8 => {
                let b = d.body.get_or_insert_with(Vec::new);
                let mid = b.len() / 2;
                b.splice(mid..mid, [0xff, 0xfe, 0xc3]);
            }
            Bom => {
                let b = d.body.get_or_insert_with(Vec::new);
                b.splice(0..0, [0xef, 0xbb, 0xbf]);
            }
            Charset { charset } => {
                let ct = d
                    .content_type
                    .clone()
                    .unwrap_or_else(|| "application/octet-stream".into());
                let base = ct.split(';').next().unwrap_or("").trim().to_string();
                d.content_type = Some(format!("{base}; charset={charset}"));
            }
            Truncate { keep_percent } => {
                if let Some(b) = &mut d.body {
                    let keep = b.len() * (*keep_percent as usize) / 100;
                    b.truncate(keep);
                }
            }
            StrayByte { byte } => {
                let b = d.body.get_or_insert_with(Vec::new);
                let mid = b.len() / 2;
                b.insert(mid, *byte);
            }
            XmlEntity => {
                let b = d.body.get_or_insert_with(Vec::new);
                let rest = strip_xml_decl(b);
                let root = xml_root(&rest).unwrap_or_else(|| "dialtone".into());
                let mut out = format!(
                    "<?xml version=\"1.0\"?><!DOCTYPE {root} [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>"
                )
                .into_bytes();
                // The entity is used in the first text position when there is one.
                let mut used = false;
                for (i, w) in rest.windows(2).enumerate() {
                    if w[0] == b'>' && w[1] != b'<' {
                        out.extend_from_slice(&rest[..=i]);
                        out.extend_from_slice(b"&c;");
                        out.extend_from_slice(&rest[i + 1..]);
                        used = true;
                        break;
                    }
                }
                if !used {
                    out.extend_from_slice(&rest);
                }
                d.body = Some(out);
            }
            DeepNesting { depth } => {
                let xml = d.format() == Fmt::Xml;
                let mut b = Vec::with_capacity(depth * 8);
                if xml {
                    for _ in 0..*depth {
                        b.extend_from_slice(b"<a>");
                    }
                    for _ in 0..*depth {
                        b.extend_from_slice(b"</a>");
                    }
                } else {
                    b.extend(std::iter::repeat_n(b'[', *depth));
                    b.extend(std::iter::repeat_n(b']', *depth));
                }
                d.body = Some(b);
            }
            SwapFormat => {
                let swapped = match d.format() {
                    Fmt::Json => "application/xml",
                    Fmt::Xml => "application/json",
                    _ => return,
                };
                d.content_type = Some(swapped.into());
            }
            EmptyBody => d.body = Some(Vec::new()),
            Garbage { len } => {
                d.body = Some(
                    (0..*len)
                        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[2])
                        .collect(),
                )
            }
            NoContentType => d.content_type = None,
            ContentType { value } => d.content_type = Some(value.clone()),
            Accept { value } => set_header(d, "Accept", value),
            DuplicateHeader { name } => {
                let v = d
                    .headers
                    .iter()
                    .find(|(h, _)| h.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| "dialtone".into());
                d.headers
                    .push((name.clone(), format!("{v}, dialtone-second")));
            }
            HugeHeader { len } => d.headers.push(("X-Dialtone-Fuzz".into(), "a".repeat(*len))),
            Method { method } => d.method = method.clone(),
            PathParam { name, value } => {
                for p in &mut d.pieces {
                    if let Piece::Param { name: n, value: v } = p {
                        if n == name {
                            *v = value.clone();
                        }
                    }
                }
            }
            Query { name, value } => match d.query.iter_mut().find(|(k, _)| k == name) {
                Some((_, v)) => *v = value.clone(),
                None => d.query.push((name.clone(), value.clone())),
            },
            MultipartNoBoundary => {
                if d.format() == Fmt::Multipart {
                    d.content_type = Some("multipart/form-data".into());
                }
            }
            MultipartWrongBoundary => {
                if d.format() == Fmt::Multipart {
                    d.content_type =
                        Some("multipart/form-data; boundary=dialtone-other-boundary".into());
                }
            }
            MultipartHugeBoundary { len } => {
                if d.format() == Fmt::Multipart {
                    if let Some(b) = &mut d.body {
                        let old = crate::sample::BOUNDARY;
                        let new = "b".repeat(*len);
                        let text = String::from_utf8_lossy(b).replace(old, &new);
                        *b = text.into_bytes();
                        d.content_type = Some(format!("multipart/form-data; boundary={new}"));
                    }
                }
            }
            MultipartTruncated => {
                if let Some(b) = &mut d.body {
                    let end = format!("--{}--", crate::sample::BOUNDARY);
                    if let Some(i) = find(b, end.as_bytes()) {
                        b.truncate(i);
                    }
                }
            }
            ZipCorrupt => {
                if let Some(b) = &mut d.body {
                    let n = b.len();
                    for x in b.iter_mut().skip(n / 3).take(16) {
                        *x ^= 0x5a;
                    }
                }
            }
            ZipMemberName { name } => {
                if let Some(members) = d.body.as_deref().and_then(zip_members) {
                    let renamed: Vec<(String, Vec<u8>)> = members
                        .into_iter()
                        .map(|(_, v)| (name.clone(), v))
                        .collect();
                    d.body = Some(crate::codec::write_zip(&renamed));
                }
            }
            ZipNested => {
                if let Some(b) = d.body.take() {
                    d.body = Some(crate::codec::write_zip(&[("inner.zip".into(), b)]));
                }
            }
            ZipHugeMember { len } => {
                if let Some(mut members) = d.body.as_deref().and_then(zip_members) {
                    members.push(("dialtone-zeros.xml".into(), vec![0u8; *len]));
                    d.body = Some(crate::codec::write_zip(&members));
                }
            }
        }
    }
}

fn set_header(d: &mut Draft, name: &str, value: &str) {
    d.headers.retain(|(h, _)| !h.eq_ignore_ascii_case(name));
    d.headers.push((name.into(), value.into()));
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn strip_xml_decl(b: &[u8]) -> Vec<u8> {
    let t = b.trim_ascii_start();
    if t.starts_with(b"<?xml") {
        if let Some(i) = find(t, b"?>") {
            return t[i + 2..].to_vec();
        }
    }
    t.to_vec()
}

fn xml_root(b: &[u8]) -> Option<String> {
    let t = std::str::from_utf8(b).ok()?.trim_start();
    let rest = t.strip_prefix('<')?;
    let end = rest.find(|c: char| c == '>' || c == '/' || c.is_whitespace())?;
    Some(rest[..end].to_string()).filter(|s| !s.is_empty())
}

/// The members of a zip, read whole (the fuzzer's own small bodies).
fn zip_members(b: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    crate::codec::for_each_zip_member(b, 1 << 24, &mut |name, data| {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(data, &mut v);
        out.push((name.to_string(), v));
        Ok(())
    })
    .ok()?;
    Some(out)
}

/// The body as a tree, with how to write it back.
enum Tree {
    Json(Value),
    Xml(String, Value),
}

fn read_tree(d: &Draft) -> Option<Tree> {
    let b = d.body.as_deref()?;
    match d.format() {
        Fmt::Json => crate::codec::from_json(b).ok().map(Tree::Json),
        Fmt::Xml => crate::codec::from_xml(b)
            .ok()
            .map(|(root, v)| Tree::Xml(root, v)),
        _ => None,
    }
}

/// Every path to a value in `v` (objects and arrays), parents before children; at most a
/// few hundred.
pub fn tree_paths(d: &Draft) -> Vec<Vec<String>> {
    let Some(t) = read_tree(d) else {
        return vec![];
    };
    let v = match &t {
        Tree::Json(v) | Tree::Xml(_, v) => v,
    };
    let mut out = Vec::new();
    fn walk(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        if out.len() > 300 || at.len() > 12 {
            return;
        }
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    at.push(k.clone());
                    out.push(at.clone());
                    walk(x, at, out);
                    at.pop();
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate().take(3) {
                    at.push(i.to_string());
                    out.push(at.clone());
                    walk(x, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }
    walk(v, &mut Vec::new(), &mut out);
    out
}

fn edit_tree(d: &mut Draft, path: &[String], op: &FieldOp) {
    let Some(mut t) = read_tree(d) else { return };
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    let root = match &mut t {
        Tree::Json(v) | Tree::Xml(_, v) => v,
    };
    let mut cur = root;
    for k in parent {
        cur = match cur {
            Value::Object(o) => match o.get_mut(k) {
                Some(x) => x,
                None => return,
            },
            Value::Array(a) => match k.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(x) => x,
                None => return,
            },
            _ => return,
        };
    }
    let mut duplicate_key: Option<(String, Value)> = None;
    match cur {
        Value::Object(o) => {
            let Some(old) = o.get(last).cloned() else {
                return;
            };
            match op {
                FieldOp::Drop => {
                    o.shift_remove(last);
                }
                FieldOp::Rename(n) => {
                    let v = o.shift_remove(last).unwrap_or(Value::Null);
                    o.insert(n.clone(), v);
                }
                FieldOp::Duplicate => duplicate_key = Some((last.clone(), old)),
                other => {
                    o.insert(last.clone(), changed(old, other));
                }
            }
        }
        Value::Array(a) => {
            let Some(i) = last.parse::<usize>().ok().filter(|i| *i < a.len()) else {
                return;
            };
            match op {
                FieldOp::Drop => {
                    a.remove(i);
                }
                FieldOp::Duplicate => {
                    let v = a[i].clone();
                    a.insert(i, v);
                }
                FieldOp::Rename(_) => {}
                other => a[i] = changed(a[i].clone(), other),
            }
        }
        _ => return,
    }
    let bytes = match &t {
        Tree::Json(v) => {
            let mut s = serde_json::to_string(v).unwrap_or_default();
            if let Some((k, old)) = duplicate_key {
                // A JSON object cannot hold a key twice; the text can.
                let key = serde_json::to_string(&k).unwrap_or_default();
                let needle = format!("{key}:");
                if let Some(i) = s.find(&needle) {
                    let extra = format!(
                        "{needle}{},",
                        serde_json::to_string(&old).unwrap_or_default()
                    );
                    s.insert_str(i, &extra);
                }
            }
            s.into_bytes()
        }
        Tree::Xml(root, v) => {
            let mut v = v.clone();
            if let Some((k, old)) = duplicate_key {
                // A repeated element is an array in the tree.
                if let Some(o) = walk_mut(&mut v, parent).and_then(Value::as_object_mut) {
                    o.insert(k, Value::Array(vec![old.clone(), old]));
                }
            }
            crate::codec::to_xml(root, &v).into_bytes()
        }
    };
    d.body = Some(bytes);
}

fn walk_mut<'v>(mut v: &'v mut Value, path: &[String]) -> Option<&'v mut Value> {
    for k in path {
        v = match v {
            Value::Object(o) => o.get_mut(k)?,
            Value::Array(a) => a.get_mut(k.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

fn changed(old: Value, op: &FieldOp) -> Value {
    match op {
        FieldOp::Nest => {
            let mut m = Map::new();
            m.insert("value".into(), old);
            Value::Object(m)
        }
        FieldOp::Type(k) => match k {
            Kind::String => Value::String(match &old {
                Value::String(s) => format!("{s}x"),
                other => other.to_string(),
            }),
            Kind::Number => match &old {
                Value::Number(_) => Value::from(-1.5e300),
                _ => Value::from(12345),
            },
            Kind::Bool => Value::Bool(true),
            Kind::Null => Value::Null,
            Kind::Array => Value::Array(vec![old]),
            Kind::Object => {
                let mut m = Map::new();
                m.insert("dialtone".into(), old);
                Value::Object(m)
            }
        },
        FieldOp::Empty => match old {
            Value::Array(_) => Value::Array(vec![]),
            Value::Object(_) => Value::Object(Map::new()),
            _ => Value::String(String::new()),
        },
        FieldOp::Huge(n) => Value::String("A".repeat(*n)),
        FieldOp::LongArray(n) => Value::Array(vec![old; *n]),
        FieldOp::Unicode => Value::String("dïälτöñé ☎ 𝄞 \u{202e}".into()),
        FieldOp::Drop | FieldOp::Duplicate | FieldOp::Rename(_) => old,
    }
}

/// A small deterministic random stream (splitmix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// What the operation a draft comes from takes, to choose mutations that fit it.
#[derive(Debug, Clone, Default)]
pub struct Shape {
    /// The operation has a request body.
    pub has_body: bool,
    pub multipart: bool,
    pub zip: bool,
    /// Paging parameter names (after, before, limit, page, ...).
    pub paging: Vec<String>,
    /// Other query parameters the operation documents.
    pub query: Vec<String>,
    /// Path parameter names.
    pub params: Vec<String>,
    /// Methods that may be sent (the safe ones only against a device).
    pub methods: Vec<String>,
}

/// Draw one mutation that fits `d` and its operation's `shape`.
pub fn draw(rng: &mut Rng, d: &Draft, shape: &Shape) -> Mutation {
    // Families, weighted towards the operation's own input.
    let mut families: Vec<u8> = vec![b'h', b'm'];
    if shape.has_body || d.body.is_some() {
        families.extend([b'f', b'f', b'f', b'e', b'e', b'e']);
    } else {
        families.push(b'e');
    }
    if !shape.params.is_empty() {
        families.extend([b'p', b'p']);
    }
    if !shape.paging.is_empty() {
        families.extend([b'c', b'c', b'c']);
    }
    if !shape.query.is_empty() {
        families.push(b'q');
    }
    if shape.multipart {
        families.extend([b'M', b'M']);
    }
    if shape.zip {
        families.extend([b'Z', b'Z']);
    }
    match *rng.pick(&families) {
        b'f' => {
            let paths = tree_paths(d);
            if paths.is_empty() {
                return draw_encoding(rng, d);
            }
            let path = rng.pick(&paths).clone();
            let op = match rng.below(13) {
                0 => FieldOp::Drop,
                1 => FieldOp::Duplicate,
                2 => FieldOp::Rename(format!("{}X", path.last().cloned().unwrap_or_default())),
                3 => FieldOp::Nest,
                4 => FieldOp::Type(Kind::String),
                5 => FieldOp::Type(Kind::Number),
                6 => FieldOp::Type(Kind::Bool),
                7 => FieldOp::Type(Kind::Null),
                8 => FieldOp::Type(*rng.pick(&[Kind::Array, Kind::Object])),
                9 => FieldOp::Empty,
                10 => FieldOp::Huge(*rng.pick(&[256, 4096, 65536])),
                11 => FieldOp::LongArray(*rng.pick(&[100, 5000])),
                _ => FieldOp::Unicode,
            };
            Mutation::Field { path, op }
        }
        b'e' => draw_encoding(rng, d),
        b'h' => match rng.below(5) {
            0 => Mutation::NoContentType,
            1 => Mutation::ContentType {
                value: rng
                    .pick(&[
                        "text/plain",
                        "application/octet-stream",
                        "application/json",
                        "application/xml",
                        "text/csv",
                        "multipart/form-data",
                        "application/zip",
                        ";;;",
                        "application/json; charset=\"",
                    ])
                    .to_string(),
            },
            2 => Mutation::Accept {
                value: rng
                    .pick(&[
                        "*/*",
                        "application/x-dialtone-unknown",
                        "text/html",
                        "application/json;q=0, application/xml;q=0",
                        ",,,",
                        "application/*",
                    ])
                    .to_string(),
            },
            3 => Mutation::DuplicateHeader {
                name: rng
                    .pick(&["Accept", "X-Requested-With", "Host-Override"])
                    .to_string(),
            },
            _ => Mutation::HugeHeader {
                len: *rng.pick(&[1024, 8192]),
            },
        },
        b'm' => Mutation::Method {
            method: rng.pick(&shape.methods).clone(),
        },
        b'p' => Mutation::PathParam {
            name: rng.pick(&shape.params).clone(),
            value: rng
                .pick(&[
                    "",
                    "..",
                    "%2e%2e",
                    "..%2f..%2fetc%2fpasswd",
                    "%00",
                    "%ff%fe",
                    "%2F",
                    "%25",
                    "-1",
                    "0",
                    "99999999999999999999999",
                    "%C3%A9%E2%98%8E%F0%9D%84%9E",
                    "dialtone%20space",
                    "'%3B--",
                ])
                .to_string()
                + &if rng.below(6) == 0 {
                    "a".repeat(4096)
                } else {
                    String::new()
                },
        },
        b'c' => Mutation::Query {
            name: rng.pick(&shape.paging).clone(),
            value: rng
                .pick(&[
                    "",
                    "zz",
                    "-1",
                    "-99999",
                    "0",
                    "99999999999999999999999",
                    "1e3",
                    "1.5",
                    "%00",
                    "0x10",
                    "%E2%98%8E",
                    "2147483648",
                    "9223372036854775808",
                ])
                .to_string(),
        },
        b'q' => Mutation::Query {
            name: rng.pick(&shape.query).clone(),
            value: rng
                .pick(&["", "%00", "%ff", "'", "%3Cx%3E", "-1", "zz"])
                .to_string(),
        },
        b'M' => match rng.below(4) {
            0 => Mutation::MultipartNoBoundary,
            1 => Mutation::MultipartWrongBoundary,
            2 => Mutation::MultipartHugeBoundary {
                len: *rng.pick(&[71, 1000]),
            },
            _ => Mutation::MultipartTruncated,
        },
        _ => match rng.below(4) {
            0 => Mutation::ZipCorrupt,
            1 => Mutation::ZipMemberName {
                name: rng
                    .pick(&["data.bin", "../evil.xml", "", "dir/"])
                    .to_string(),
            },
            2 => Mutation::ZipNested,
            _ => Mutation::ZipHugeMember {
                len: *rng.pick(&[1 << 16, 1 << 20]),
            },
        },
    }
}

fn draw_encoding(rng: &mut Rng, d: &Draft) -> Mutation {
    let has_body = d.body.as_ref().is_some_and(|b| !b.is_empty());
    let n = if has_body { 12 } else { 2 };
    match rng.below(n) {
        0 => Mutation::Garbage {
            len: *rng.pick(&[1, 64, 4096]),
        },
        1 => Mutation::DeepNesting {
            depth: *rng.pick(&[100, 10_000]),
        },
        2 => Mutation::InvalidUtf8,
        3 => Mutation::Bom,
        4 => Mutation::Charset {
            charset: rng
                .pick(&["iso-8859-1", "utf-16", "dialtone-unknown"])
                .to_string(),
        },
        5 | 6 => Mutation::Truncate {
            keep_percent: *rng.pick(&[0, 10, 50, 90]),
        },
        7 => Mutation::StrayByte {
            byte: *rng.pick(b"<>{}[]\"&,"),
        },
        8 => Mutation::XmlEntity,
        9 => Mutation::SwapFormat,
        10 => Mutation::EmptyBody,
        _ => Mutation::StrayByte { byte: 0 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_draft() -> Draft {
        Draft {
            method: "POST".into(),
            pieces: vec![
                Piece::Lit("/a/".into()),
                Piece::Param {
                    name: "id".into(),
                    value: "7".into(),
                },
            ],
            query: vec![("limit".into(), "3".into())],
            headers: vec![],
            content_type: Some("application/json".into()),
            body: Some(br#"{"x":{"name":"n","n":1}}"#.to_vec()),
        }
    }

    #[test]
    fn field_mutations_edit_the_tree() {
        let mut d = json_draft();
        Mutation::Field {
            path: vec!["x".into(), "name".into()],
            op: FieldOp::Drop,
        }
        .apply(&mut d);
        assert_eq!(d.body.as_deref().unwrap(), br#"{"x":{"n":1}}"#);
        let mut d = json_draft();
        Mutation::Field {
            path: vec!["x".into(), "n".into()],
            op: FieldOp::Duplicate,
        }
        .apply(&mut d);
        assert_eq!(
            d.body.as_deref().unwrap(),
            br#"{"x":{"name":"n","n":1,"n":1}}"#
        );
        let mut d = json_draft();
        Mutation::Field {
            path: vec!["x".into(), "n".into()],
            op: FieldOp::Type(Kind::String),
        }
        .apply(&mut d);
        assert_eq!(d.body.as_deref().unwrap(), br#"{"x":{"name":"n","n":"1"}}"#);
    }

    #[test]
    fn path_and_query_mutations_change_the_target() {
        let mut d = json_draft();
        Mutation::PathParam {
            name: "id".into(),
            value: "%2e%2e".into(),
        }
        .apply(&mut d);
        Mutation::Query {
            name: "limit".into(),
            value: "-1".into(),
        }
        .apply(&mut d);
        assert_eq!(d.target(), "/a/%2e%2e?limit=-1");
    }

    #[test]
    fn the_stream_is_deterministic() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let mut c = Rng::new(8);
        let xs: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        assert_eq!(xs, (0..4).map(|_| b.next_u64()).collect::<Vec<_>>());
        assert_ne!(xs, (0..4).map(|_| c.next_u64()).collect::<Vec<_>>());
    }
}
