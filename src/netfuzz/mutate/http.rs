//! Mutations of the request around the body: content type, headers, path parameters and
//! query.

use super::{Draft, Fmt, Piece};

/// A `charset` parameter on the content type (`application/octet-stream` when there is
/// none), in place of its other parameters.
pub(super) fn charset(d: &mut Draft, charset: &str) {
    let ct = d
        .content_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".into());
    let base = ct.split(';').next().unwrap_or("").trim().to_string();
    d.content_type = Some(format!("{base}; charset={charset}"));
}

/// A JSON body labelled XML, or the other way round; other bodies keep their type.
pub(super) fn swap_format(d: &mut Draft) {
    let swapped = match d.format() {
        Fmt::Json => "application/xml",
        Fmt::Xml => "application/json",
        _ => return,
    };
    d.content_type = Some(swapped.into());
}

/// `name: value`, in place of any header of that name.
pub(super) fn set_header(d: &mut Draft, name: &str, value: &str) {
    d.headers.retain(|(h, _)| !h.eq_ignore_ascii_case(name));
    d.headers.push((name.into(), value.into()));
}

/// The header `name` a second time, with a value that differs from the first.
pub(super) fn duplicate_header(d: &mut Draft, name: &str) {
    let v = d
        .headers
        .iter()
        .find(|(h, _)| h.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "dialtone".into());
    d.headers
        .push((name.to_string(), format!("{v}, dialtone-second")));
}

/// Every path parameter called `name` set to `value`.
pub(super) fn path_param(d: &mut Draft, name: &str, value: &str) {
    for p in &mut d.pieces {
        if let Piece::Param { name: n, value: v } = p {
            if n == name {
                *v = value.to_string();
            }
        }
    }
}

/// The query parameter `name` set to `value`, added when it is not there.
pub(super) fn query(d: &mut Draft, name: &str, value: &str) {
    match d.query.iter_mut().find(|(k, _)| k == name) {
        Some((_, v)) => *v = value.to_string(),
        None => d.query.push((name.to_string(), value.to_string())),
    }
}
