//! Choosing mutations: a seeded random stream, and draws weighted towards what the
//! operation takes (its [`Shape`]), so that a seed replays the same requests.

use super::tree::tree_paths;
use super::{Draft, FieldOp, Kind, Mutation};

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
#[derive(Debug, Clone)]
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
    /// Body fields no mutation touches, nor the fields that hold them (a device's own
    /// object's key and marked fields).
    pub protected: Vec<String>,
    /// Mutations of the body's bytes (encoding, truncation, garbage) may be drawn.
    pub encoding: bool,
}

/// The kinds of mutation [`draw`] chooses among.
#[derive(Debug, Clone, Copy)]
enum Family {
    Header,
    Method,
    Field,
    Encoding,
    PathParam,
    Paging,
    Query,
    Multipart,
    Zip,
}

/// Content types sent in place of the right one.
const CONTENT_TYPES: [&str; 9] = [
    "text/plain",
    "application/octet-stream",
    "application/json",
    "application/xml",
    "text/csv",
    "multipart/form-data",
    "application/zip",
    ";;;",
    "application/json; charset=\"",
];

/// `Accept` values a server may not expect.
const ACCEPTS: [&str; 6] = [
    "*/*",
    "application/x-dialtone-unknown",
    "text/html",
    "application/json;q=0, application/xml;q=0",
    ",,,",
    "application/*",
];

/// Path parameter values: traversal, encodings, numbers out of range, injection.
const PATH_VALUES: [&str; 14] = [
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
];

/// Paging parameter values: negative, zero, huge, not a whole number, not a number.
const PAGING_VALUES: [&str; 13] = [
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
];

/// Values for the other query parameters.
const QUERY_VALUES: [&str; 7] = ["", "%00", "%ff", "'", "%3Cx%3E", "-1", "zz"];

/// Draw one mutation that fits `d` and its operation's `shape`.
pub fn draw(rng: &mut Rng, d: &Draft, shape: &Shape) -> Mutation {
    match *rng.pick(&families(d, shape)) {
        Family::Field => draw_field(rng, d, shape),
        Family::Encoding => draw_encoding(rng, d),
        Family::Header => draw_header(rng),
        Family::Method => Mutation::Method {
            method: rng.pick(&shape.methods).clone(),
        },
        Family::PathParam => Mutation::PathParam {
            name: rng.pick(&shape.params).clone(),
            value: rng.pick(&PATH_VALUES).to_string()
                + &if rng.below(6) == 0 {
                    "a".repeat(4096)
                } else {
                    String::new()
                },
        },
        Family::Paging => Mutation::Query {
            name: rng.pick(&shape.paging).clone(),
            value: rng.pick(&PAGING_VALUES).to_string(),
        },
        Family::Query => Mutation::Query {
            name: rng.pick(&shape.query).clone(),
            value: rng.pick(&QUERY_VALUES).to_string(),
        },
        Family::Multipart => draw_multipart(rng),
        Family::Zip => draw_zip(rng),
    }
}

/// The families that fit, weighted towards the operation's own input (a family listed
/// three times is drawn three times as often).
fn families(d: &Draft, shape: &Shape) -> Vec<Family> {
    use Family::*;
    let mut families = vec![Header, Method];
    if shape.has_body || d.body.is_some() {
        families.extend([Field, Field, Field]);
        if shape.encoding {
            families.extend([Encoding, Encoding, Encoding]);
        }
    } else if shape.encoding {
        families.push(Encoding);
    }
    if !shape.params.is_empty() {
        families.extend([PathParam, PathParam]);
    }
    if !shape.paging.is_empty() {
        families.extend([Paging, Paging, Paging]);
    }
    if !shape.query.is_empty() {
        families.push(Query);
    }
    if shape.multipart {
        families.extend([Multipart, Multipart]);
    }
    if shape.zip {
        families.extend([Zip, Zip]);
    }
    families
}

/// An edit of one field of the body's tree; an encoding mutation when the body has none.
fn draw_field(rng: &mut Rng, d: &Draft, shape: &Shape) -> Mutation {
    let mut paths = tree_paths(d);
    if !shape.protected.is_empty() {
        let held: Vec<Vec<String>> = paths
            .iter()
            .filter(|p| p.iter().any(|k| shape.protected.contains(k)))
            .cloned()
            .collect();
        paths.retain(|p| !held.iter().any(|h| h.starts_with(p)));
    }
    if paths.is_empty() {
        return if shape.encoding {
            draw_encoding(rng, d)
        } else {
            draw_header(rng)
        };
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

fn draw_header(rng: &mut Rng) -> Mutation {
    match rng.below(5) {
        0 => Mutation::NoContentType,
        1 => Mutation::ContentType {
            value: rng.pick(&CONTENT_TYPES).to_string(),
        },
        2 => Mutation::Accept {
            value: rng.pick(&ACCEPTS).to_string(),
        },
        3 => Mutation::DuplicateHeader {
            name: rng
                .pick(&["Accept", "X-Requested-With", "Host-Override"])
                .to_string(),
        },
        _ => Mutation::HugeHeader {
            len: *rng.pick(&[1024, 8192]),
        },
    }
}

fn draw_multipart(rng: &mut Rng) -> Mutation {
    match rng.below(4) {
        0 => Mutation::MultipartNoBoundary,
        1 => Mutation::MultipartWrongBoundary,
        2 => Mutation::MultipartHugeBoundary {
            len: *rng.pick(&[71, 1000]),
        },
        _ => Mutation::MultipartTruncated,
    }
}

fn draw_zip(rng: &mut Rng) -> Mutation {
    match rng.below(4) {
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
    }
}

/// A mutation of the body's bytes; for an empty body, a new one (garbage or deep nesting).
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
