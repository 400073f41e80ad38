//! Mutations of a body's bytes: broken encodings, cut or padded bodies, XML entities, deep
//! nesting, and the multipart and zip containers.

use super::{Draft, Fmt};

/// `bytes` in the middle of the body (an empty body when there is none).
pub(super) fn insert_middle(d: &mut Draft, bytes: &[u8]) {
    let b = d.body.get_or_insert_with(Vec::new);
    let mid = b.len() / 2;
    b.splice(mid..mid, bytes.iter().copied());
}

/// `bytes` before the body.
pub(super) fn prepend(d: &mut Draft, bytes: &[u8]) {
    let b = d.body.get_or_insert_with(Vec::new);
    b.splice(0..0, bytes.iter().copied());
}

/// The body cut to `keep_percent` of its length.
pub(super) fn truncate(d: &mut Draft, keep_percent: u8) {
    if let Some(b) = &mut d.body {
        let keep = b.len() * (keep_percent as usize) / 100;
        b.truncate(keep);
    }
}

/// The body behind a document type whose entity expands a thousandfold, used in the first
/// text position when there is one.
pub(super) fn xml_entity(d: &mut Draft) {
    let b = d.body.get_or_insert_with(Vec::new);
    let rest = strip_xml_decl(b);
    let root = xml_root(&rest).unwrap_or_else(|| "dialtone".into());
    let mut out = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE {root} [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>"
    )
    .into_bytes();
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

/// A body of nothing but `depth` nested XML elements or JSON arrays, as the body is.
pub(super) fn deep_nesting(d: &mut Draft, depth: usize) {
    let xml = d.format() == Fmt::Xml;
    let mut b = Vec::with_capacity(depth * 8);
    if xml {
        for _ in 0..depth {
            b.extend_from_slice(b"<a>");
        }
        for _ in 0..depth {
            b.extend_from_slice(b"</a>");
        }
    } else {
        b.extend(std::iter::repeat_n(b'[', depth));
        b.extend(std::iter::repeat_n(b']', depth));
    }
    d.body = Some(b);
}

/// `len` bytes of no format (the same ones every time).
pub(super) fn garbage(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[2])
        .collect()
}

/// A multipart body's content type replaced by `content_type`.
pub(super) fn multipart_type(d: &mut Draft, content_type: &str) {
    if d.format() == Fmt::Multipart {
        d.content_type = Some(content_type.into());
    }
}

/// A multipart body's boundary replaced by one `len` bytes long, in the body and its type.
pub(super) fn multipart_boundary(d: &mut Draft, len: usize) {
    if d.format() == Fmt::Multipart {
        if let Some(b) = &mut d.body {
            let old = crate::sample::BOUNDARY;
            let new = "b".repeat(len);
            let text = String::from_utf8_lossy(b).replace(old, &new);
            *b = text.into_bytes();
            d.content_type = Some(format!("multipart/form-data; boundary={new}"));
        }
    }
}

/// A multipart body without its closing delimiter.
pub(super) fn multipart_truncated(d: &mut Draft) {
    if let Some(b) = &mut d.body {
        let end = format!("--{}--", crate::sample::BOUNDARY);
        if let Some(i) = find(b, end.as_bytes()) {
            b.truncate(i);
        }
    }
}

/// Sixteen bytes a third of the way into the body flipped.
pub(super) fn zip_corrupt(d: &mut Draft) {
    if let Some(b) = &mut d.body {
        let n = b.len();
        for x in b.iter_mut().skip(n / 3).take(16) {
            *x ^= 0x5a;
        }
    }
}

/// Every member of a zip body renamed to `name`.
pub(super) fn zip_rename(d: &mut Draft, name: &str) {
    if let Some(members) = d.body.as_deref().and_then(zip_members) {
        let renamed: Vec<(String, Vec<u8>)> = members
            .into_iter()
            .map(|(_, v)| (name.to_string(), v))
            .collect();
        d.body = Some(crate::codec::write_zip(&renamed));
    }
}

/// The body as the one member of a zip.
pub(super) fn zip_nested(d: &mut Draft) {
    if let Some(b) = d.body.take() {
        d.body = Some(crate::codec::write_zip(&[("inner.zip".into(), b)]));
    }
}

/// A zip body with an extra member of `len` zero bytes.
pub(super) fn zip_huge_member(d: &mut Draft, len: usize) {
    if let Some(mut members) = d.body.as_deref().and_then(zip_members) {
        members.push(("dialtone-zeros.xml".into(), vec![0u8; len]));
        d.body = Some(crate::codec::write_zip(&members));
    }
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
