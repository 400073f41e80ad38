//! Target for the runner's reading of answers (`runner::outcome`).

use arbitrary::{Arbitrary, Unstructured};

use super::bundled_specs;
use crate::runner::http::Resp;
use crate::runner::outcome;

const CONTENT_TYPES: &[&str] = &[
    "application/json",
    "application/json; charset=utf-8",
    "application/problem+json",
    "application/xml",
    "text/xml; charset=UTF-8",
    "text/csv",
    "text/plain",
    "text/html",
    "application/octet-stream",
    "",
];

#[derive(Debug, Arbitrary)]
enum ContentType {
    Known(u8),
    Other(String),
}

#[derive(Debug, Arbitrary)]
enum Want {
    /// An outcome the spec can name: `<status>` or `<status>:<code>` for each code.
    Spec(u16),
    Other(String),
}

/// What `envelope_decode` reads from the fuzzer's bytes.
#[derive(Debug, Arbitrary)]
pub struct EnvelopeInput {
    spec: u8,
    status: u16,
    content_type: ContentType,
    want: Want,
    body: Vec<u8>,
}

/// The outcome strings a spec's codes give: `<status>` and `<status>:<code id>`.
fn outcomes(spec: &crate::spec::Spec) -> Vec<String> {
    let mut out = Vec::new();
    for c in spec.codes() {
        out.push(c.status.to_string());
        out.push(format!("{}:{}", c.status, c.id.get_ref()));
    }
    out
}

/// Answer decoding: `outcome::matches` and `outcome::parse` over any status, content type
/// and body, against each bundled spec's outcomes. Neither panics; a match implies the
/// status; for JSON content types `parse` agrees with `codec::from_json`.
pub fn envelope_decode(data: &[u8]) {
    let Ok(input) = EnvelopeInput::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let specs = bundled_specs();
    let spec = &specs[input.spec as usize % specs.len()];
    let ct = match input.content_type {
        ContentType::Known(i) => CONTENT_TYPES[i as usize % CONTENT_TYPES.len()].to_string(),
        ContentType::Other(s) => s,
    };
    let want = match input.want {
        Want::Spec(i) => {
            let all = outcomes(spec);
            if all.is_empty() {
                return;
            }
            all[i as usize % all.len()].clone()
        }
        Want::Other(s) => s,
    };
    let resp = Resp {
        status: input.status,
        headers: vec![("content-type".into(), ct.clone())],
        body: input.body.into(),
    };
    let Ok(want) = want.parse::<crate::spec::model::Outcome>() else {
        return;
    };
    if outcome::matches(spec, &want, &resp).is_ok() {
        assert_eq!(
            want.status, resp.status,
            "`{want}` matched an answer of status {}",
            resp.status
        );
    }
    let parsed = outcome::parse(&resp);
    if outcome::essence(&ct).contains("json") {
        let direct = crate::codec::from_json(&resp.body).map_err(|e| e.to_string());
        assert_eq!(parsed, direct, "parse disagrees with from_json");
    }
    if let Ok(v) = &parsed {
        // Leaves are a sorted, representation-free view; taking them twice agrees.
        assert_eq!(outcome::leaves(v), outcome::leaves(v));
    }
}
