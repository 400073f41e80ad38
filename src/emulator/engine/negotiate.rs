//! What the request asks of the representation: the content type to answer in (format
//! parameter, else `Accept`), and the request body, read up to the operation's size limit.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, Response};
use http_body_util::BodyExt;

use super::ctx::Ctx;
use crate::emulator::faults::FaultId;
use crate::emulator::render::{self, Fmt};
use crate::emulator::BodyRead;

pub(super) async fn read_body(ctx: &Ctx<'_>, body: Body) -> Result<Bytes, Response<Body>> {
    let limit = ctx
        .op
        .request
        .as_ref()
        .and_then(|r| r.max_bytes)
        .map(|b| b as usize)
        .unwrap_or(ctx.emu.max_body);
    let limit = if ctx.fault(FaultId::OversizeAccepted) {
        usize::MAX
    } else {
        limit
    };
    let declared = ctx
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        // Refused on its declared length, at once; the rest is read and dropped for a
        // bounded while, so that the client finishes sending and reads the answer instead
        // of a reset connection.
        linger(body);
        return Err(too_large(ctx, limit));
    }
    let min = ctx.op.request.as_ref().and_then(|r| r.min_bytes);
    match ctx.emu.read_limited(body, limit).await {
        Ok(b) if min.is_some_and(|m| (b.len() as u64) < m) => {
            Err(ctx.reject("the request body is shorter than the resource requires"))
        }
        Ok(b) => Ok(b),
        Err(BodyRead::TooLarge) => Err(too_large(ctx, limit)),
        Err(BodyRead::TooSlow(d)) => {
            // A body that trickles in holds a connection for nothing: cut it.
            let mut r = render::raw(
                408,
                Some("text/plain"),
                format!("request body not received within {} s", d.as_secs()).into_bytes(),
            );
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            Err(r)
        }
        // The client went away or sent a broken body: answer 400; nobody may read it.
        Err(BodyRead::Broken(_)) => Err(ctx.reject("request body could not be read")),
    }
}

/// Read and drop what is left of a refused body: at most [`LINGER_BYTES`], for at most
/// [`LINGER`].
fn linger(body: Body) {
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + LINGER;
        let mut body = body;
        let mut read = 0usize;
        while read < LINGER_BYTES {
            match tokio::time::timeout_at(deadline, body.frame()).await {
                Ok(Some(Ok(f))) => read += f.data_ref().map_or(0, |d| d.len()),
                _ => break,
            }
        }
    });
}

/// How long, and how much, a refused body is still read (a lingering close).
const LINGER: std::time::Duration = std::time::Duration::from_secs(2);
const LINGER_BYTES: usize = 256 << 20;

/// The API's answer to a body over `limit`, closing the connection.
fn too_large(ctx: &Ctx<'_>, limit: usize) -> Response<Body> {
    let o = ctx.payload_too_large();
    let mut r = ctx.outcome(&o, Some(&format!("request body exceeds {limit} bytes")));
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// The answer to a query parameter whose value is outside its `enum`, where the spec names
/// that answer (`invalid`): the documented refusal, before the body is read.
pub(super) fn invalid_query_value(ctx: &Ctx) -> Option<Response<Body>> {
    ctx.op.query.iter().find_map(|(name, p)| {
        let spec = p.spec();
        let o = spec.invalid?;
        let v = ctx.query(name)?;
        let listed = spec
            .enum_values
            .iter()
            .any(|e| e.as_str().map_or(e.to_string() == v, |s| s == v));
        (!spec.enum_values.is_empty() && !listed)
            .then(|| ctx.outcome(&o, Some(&format!("unknown {name} `{v}`"))))
    })
}

/// Content type the client asked for, among those the operation produces.
pub(super) fn negotiate(ctx: &Ctx) -> Result<Option<(Fmt, String)>, Response<Body>> {
    let Some(resp) = &ctx.op.response else {
        return Ok(None);
    };
    if resp.content_types.is_empty() {
        return Ok(None);
    }
    let by_fmt = |f: Fmt| {
        resp.content_types
            .iter()
            .find(|c| Fmt::of_content_type(c) == f)
    };
    let mut chosen: Option<&String> = None;
    if let Some(p) = &resp.format_param {
        if let Some(v) = ctx.query(p) {
            let invalid = ctx.op.query.get(p).and_then(|q| q.spec().invalid);
            let bad = |message: String| match &invalid {
                Some(o) => ctx.outcome(o, Some(&message)),
                None => ctx.reject(&message),
            };
            let f = match v.to_ascii_lowercase().as_str() {
                "json" => Fmt::Json,
                "xml" => Fmt::Xml,
                "csv" => Fmt::Csv,
                _ => return Err(bad(format!("unknown {p} `{v}`"))),
            };
            match by_fmt(f) {
                Some(c) => chosen = Some(c),
                None => return Err(bad(format!("{p}={v} is not offered here"))),
            }
        }
    }
    if chosen.is_none() {
        let accept = ctx
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let ranges: Vec<String> = accept
            .split(',')
            .map(|r| {
                r.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .filter(|r| !r.is_empty())
            .collect();
        let wildcard = ranges.is_empty() || ranges.iter().any(|r| r == "*/*");
        if !wildcard {
            chosen = ranges.iter().find_map(|r| {
                resp.content_types.iter().find(|c| {
                    let c = c.to_ascii_lowercase();
                    c == *r || (r.ends_with("/*") && c.starts_with(&r[..r.len() - 1]))
                })
            });
            if chosen.is_none() {
                if let (Some(na), false) = (
                    &ctx.spec().matrix().not_acceptable,
                    ctx.fault(FaultId::IgnoreAccept),
                ) {
                    return Err(ctx.outcome(
                        na.expect.get_ref(),
                        Some("cannot produce the requested representation"),
                    ));
                }
            }
        }
    }
    let mut ct = chosen.unwrap_or(&resp.content_types[0]).clone();
    if ctx.fault(FaultId::XmlForJson) && Fmt::of_content_type(&ct) == Fmt::Json {
        if let Some(x) = by_fmt(Fmt::Xml) {
            ct = x.clone();
        }
    }
    Ok(Some((Fmt::of_content_type(&ct), ct)))
}
