//! Structural mutations of a valid request. A [`Draft`] is a request before it is sent; a
//! [`Mutation`] is one recorded edit of a draft, so a finding can be replayed and
//! minimized by applying fewer of them to the same starting draft.
//!
//! The catalogue is the [`Mutation`] enum; [`Mutation::apply`] is its table of what each
//! one does, carried out by `tree` (a field of a JSON or XML body), `body` (the body's
//! bytes: encoding, multipart, zip) and `http` (method, path, query and headers). `draw`
//! picks mutations that fit an operation, from a seeded stream.

mod body;
mod draw;
mod http;
mod tree;

use std::fmt;

use serde::Serialize;

pub use draw::{draw, Rng, Shape};

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
            Field { path, op } => tree::edit(d, path, op),
            InvalidUtf8 => body::insert_middle(d, &[0xff, 0xfe, 0xc3]),
            Bom => body::prepend(d, &[0xef, 0xbb, 0xbf]),
            Charset { charset } => http::charset(d, charset),
            Truncate { keep_percent } => body::truncate(d, *keep_percent),
            StrayByte { byte } => body::insert_middle(d, &[*byte]),
            XmlEntity => body::xml_entity(d),
            DeepNesting { depth } => body::deep_nesting(d, *depth),
            SwapFormat => http::swap_format(d),
            EmptyBody => d.body = Some(Vec::new()),
            Garbage { len } => d.body = Some(body::garbage(*len)),
            NoContentType => d.content_type = None,
            ContentType { value } => d.content_type = Some(value.clone()),
            Accept { value } => http::set_header(d, "Accept", value),
            DuplicateHeader { name } => http::duplicate_header(d, name),
            HugeHeader { len } => d.headers.push(("X-Dialtone-Fuzz".into(), "a".repeat(*len))),
            Method { method } => d.method = method.clone(),
            PathParam { name, value } => http::path_param(d, name, value),
            Query { name, value } => http::query(d, name, value),
            MultipartNoBoundary => body::multipart_type(d, "multipart/form-data"),
            MultipartWrongBoundary => {
                body::multipart_type(d, "multipart/form-data; boundary=dialtone-other-boundary")
            }
            MultipartHugeBoundary { len } => body::multipart_boundary(d, *len),
            MultipartTruncated => body::multipart_truncated(d),
            ZipCorrupt => body::zip_corrupt(d),
            ZipMemberName { name } => body::zip_rename(d, name),
            ZipNested => body::zip_nested(d),
            ZipHugeMember { len } => body::zip_huge_member(d, *len),
        }
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
