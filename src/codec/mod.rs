//! Body codecs shared by the emulator, the runner and the fuzzer: JSON, XML, CSV, zip and
//! multipart/form-data, one file per format, with the dotted-path helpers for JSON values.
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
//! than [`MAX_XML_DEPTH`] elements and tokens (a text run, a tag, a comment) longer
//! than [`MAX_XML_TOKEN`] bytes, since the parser holds one token whole.
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

mod csv;
mod json;
mod multipart;
mod xml;
mod zip;

pub use self::csv::{from_csv, to_csv};
pub use self::json::{from_json, get_path, set_path};
pub use self::multipart::{parse_multipart, write_multipart, Part};
pub use self::xml::{
    from_xml, to_xml, xml_children, xml_children_from, xml_name, ChildSink, MAX_XML_DEPTH,
    MAX_XML_TOKEN,
};
pub use self::zip::{for_each_zip_member, read_zip, write_zip};

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

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
