//! Large list answers are streamed in chunks, byte for byte the body built whole.
//!
//! Every list read of every bundled spec, in every representation it documents, is asked of
//! two emulators holding the same generated rows: one streams lists above its threshold
//! (the default), the other never streams. The answers must be equal (status, content
//! type, body), and the large ones must come as a stream (no length known beforehand).

use std::collections::BTreeSet;

use axum::body::HttpBody as _;
use axum::http::{header, HeaderValue};
use dialtone::emulator::{Emulator, STREAM_ROWS};

use crate::common::{faults, spec};
use crate::support::{read, request, As};

const APIS: [&str; 4] = ["rome", "sipxconfig", "roaming-profile", "mediant"];

/// The same bundled specs twice: streaming as shipped, and never streaming.
fn pair() -> (Emulator, Emulator) {
    let make = || {
        let specs = APIS.iter().map(|n| spec(n)).collect();
        Emulator::new(specs, faults(&[])).unwrap()
    };
    (make(), make().with_stream_rows(usize::MAX))
}

fn format_word(ct: &str) -> &'static str {
    if ct.contains("json") {
        "json"
    } else if ct.contains("csv") {
        "csv"
    } else {
        "xml"
    }
}

#[tokio::test]
async fn streamed_lists_equal_the_lists_built_whole() {
    let (streaming, whole) = pair();
    let rows = STREAM_ROWS as u64 + 537; // more than the threshold, not a whole chunk
    let mut streamed = BTreeSet::new();
    let mut compared = 0;
    for api in APIS {
        let s = &streaming.api(api).unwrap().spec;
        for c in s.collections() {
            let name = c.name.get_ref();
            assert!(streaming.api(api).unwrap().generate(name, rows));
            assert!(whole.api(api).unwrap().generate(name, rows));
        }
        for ep in s.endpoints() {
            let Some(op) = ep.operation("GET") else {
                continue;
            };
            let Some(resp) = op.response.as_ref().filter(|r| r.many) else {
                continue;
            };
            if ep.collection.is_none() {
                continue;
            }
            let Some(role) = s
                .roles_by_rank()
                .into_iter()
                .rev()
                .find(|r| s.allows(op, r))
            else {
                continue;
            };
            let role = role.name.get_ref().as_str();
            let target = dialtone::sample::target(s, ep, op);
            let mut types: Vec<&str> = resp.content_types.iter().map(String::as_str).collect();
            if types.is_empty() {
                types.push("application/json");
            }
            for ct in types {
                let path = match &resp.format_param {
                    Some(p) if !target.contains(&format!("{p}=")) => {
                        let sep = if target.contains('?') { '&' } else { '?' };
                        format!("{target}{sep}{p}={}", format_word(ct))
                    }
                    _ => target.clone(),
                };
                let ask = |emu: &Emulator| {
                    let mut r = request(emu, api, As::Role(role), "GET", &path, None);
                    r.headers_mut()
                        .insert(header::ACCEPT, HeaderValue::from_str(ct).unwrap());
                    r
                };
                let a = streaming.handle(ask(&streaming)).await;
                let b = whole.handle(ask(&whole)).await;
                let a_streams = a.body().size_hint().exact().is_none();
                assert!(
                    b.body().size_hint().exact().is_some(),
                    "{api} {path}: the reference streamed"
                );
                let (a, b) = (read(a).await, read(b).await);
                assert_eq!(a.status, b.status, "{api} {path} ({ct})");
                assert_eq!(
                    a.header("content-type"),
                    b.header("content-type"),
                    "{api} {path} ({ct})"
                );
                assert!(
                    a.body == b.body,
                    "{api} {path} ({ct}): the streamed body ({} bytes) differs from the whole \
                     one ({} bytes); first difference at byte {}",
                    a.body.len(),
                    b.body.len(),
                    a.body
                        .iter()
                        .zip(&b.body)
                        .position(|(x, y)| x != y)
                        .unwrap_or(a.body.len().min(b.body.len()))
                );
                compared += 1;
                if a_streams {
                    assert!(b.status < 300, "{api} {path}: a streamed failure");
                    streamed.insert(format!("{api} {} {}", ep.id.get_ref(), format_word(ct)));
                }
            }
        }
    }
    eprintln!("{compared} list answers compared; streamed: {streamed:#?}");
    for want in [
        "rome download/route xml",
        "rome download/route json",
        "rome download/route-csv csv",
    ] {
        assert!(streamed.contains(want), "{want} was not streamed");
    }
    for api in ["sipxconfig", "roaming-profile"] {
        assert!(
            streamed.iter().any(|s| s.starts_with(&format!("{api} "))),
            "no {api} list was streamed"
        );
    }
}
