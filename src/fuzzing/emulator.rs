//! The whole-emulator target: structured requests through the emulator's router.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use arbitrary::{Arbitrary, Unstructured};
use axum::body::Body;
use axum::http::Request;
use base64::Engine as _;
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt as _;

use super::block_on;
use crate::contract::CONTROL_PREFIX;
use crate::emulator::faults::Faults;
use crate::emulator::store::Fields as _;
use crate::emulator::Emulator;
use crate::runner::outcome::essence;
use crate::spec::Spec;

const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "get",
    "X-FUZZ",
];

const ACCEPTS: &[Option<&str>] = &[
    None,
    Some("*/*"),
    Some("application/json"),
    Some("application/xml"),
    Some("text/csv"),
    Some("text/plain"),
    Some("application/*"),
    Some("image/png"),
    Some("application/xml;q=0.5, application/json"),
    Some(""),
];

/// `None`: the sample body's own content type.
const CONTENT_TYPES: &[Option<&str>] = &[
    None,
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("application/xml"),
    Some("text/csv"),
    Some("multipart/form-data; boundary=XyZ"),
    Some("multipart/form-data"),
    Some("application/zip"),
    Some("text/plain"),
    Some("application/x-www-form-urlencoded"),
];

#[derive(Debug, Arbitrary)]
enum QueryName {
    /// One of the names the endpoint's operations or paginations use.
    Known(u8),
    Other(String),
}

#[derive(Debug, Arbitrary)]
enum BodyChoice {
    None,
    Raw(Vec<u8>),
    /// The spec's sample body for the operation, with bytes flipped: (position, xor).
    Sample(Vec<(u16, u8)>),
    /// The sample body cut short.
    Truncated(u16),
}

/// A request as the fuzzer describes it.
#[derive(Debug, Arbitrary)]
pub struct EmuRequest {
    api: u8,
    endpoint: u16,
    /// Values for the path parameters, in template order; missing ones use the sample's.
    params: Vec<Option<String>>,
    method: u8,
    /// Index into the API's accounts; one past is no credentials, two past a wrong secret.
    who: u8,
    accept: u8,
    content_type: u8,
    query: Vec<(QueryName, String)>,
    body: BodyChoice,
}

struct Fixture {
    emu: Arc<Emulator>,
    router: axum::Router,
    /// Per API: content types its spec documents anywhere (answers, envelopes, bodies).
    documented: Vec<BTreeSet<String>>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let specs: Vec<Spec> = crate::spec::BUNDLED
            .iter()
            .map(|n| crate::spec::load(&crate::spec::resolve(n)).expect("bundled spec"))
            .collect();
        let emu = Arc::new(Emulator::new(specs, Faults::default()).expect("emulator"));
        let documented = emu.apis().map(|a| documented_types(&a.spec)).collect();
        Fixture {
            router: emu.clone().router(),
            emu,
            documented,
        }
    })
}

fn documented_types(spec: &Spec) -> BTreeSet<String> {
    fn walk(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(o) => {
                for (k, v) in o {
                    if k == "content_type" || k == "content_types" {
                        match v {
                            Value::String(s) => {
                                out.insert(essence(s));
                            }
                            Value::Array(a) => {
                                out.extend(a.iter().filter_map(Value::as_str).map(essence))
                            }
                            _ => {}
                        }
                    }
                    walk(v, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    for ep in spec.endpoints() {
        walk(&serde_json::to_value(ep).unwrap_or_default(), &mut out);
    }
    for env in spec.envelopes() {
        out.insert(essence(&env.content_type));
    }
    out
}

fn encode_segment(s: &str) -> String {
    crate::sample::encode(s)
}

fn build(f: &Fixture, r: &EmuRequest) -> Option<(usize, Request<Body>)> {
    let apis: Vec<_> = f.emu.apis().collect();
    let ai = r.api as usize % apis.len();
    let api = apis[ai];
    let spec = &api.spec;
    let n = spec.endpoints().count();
    let ep = spec.endpoint_at(r.endpoint as usize % n.max(1))?;
    let method = METHODS[r.method as usize % METHODS.len()];
    let op = ep
        .op
        .iter()
        .find(|o| o.method.get_ref().eq_ignore_ascii_case(method))
        .or(ep.op.first());

    let given = std::cell::RefCell::new(r.params.iter());
    let mut path =
        crate::sample::path_with(spec, ep, &|_, default| match given.borrow_mut().next() {
            Some(Some(v)) => encode_segment(v),
            _ => default,
        });
    // The control interface is not what this target exercises.
    if path.starts_with(CONTROL_PREFIX) {
        return None;
    }
    let mut known: Vec<String> = vec!["queryString".into(), "digitMatch".into()];
    if let Some(op) = op {
        known.extend(op.query.keys().cloned());
        if let Some(p) = op
            .pagination
            .as_ref()
            .and_then(|p| spec.pagination(p.get_ref()))
        {
            known.extend(p.params.values().cloned());
        }
        if let Some(fp) = op.response.as_ref().and_then(|r| r.format_param.clone()) {
            known.push(fp);
        }
    }
    for (i, (name, value)) in r.query.iter().enumerate() {
        let name = match name {
            QueryName::Known(k) => known[*k as usize % known.len()].clone(),
            QueryName::Other(s) => s.clone(),
        };
        path.push(if i == 0 { '?' } else { '&' });
        path.push_str(&crate::sample::encode(&name));
        path.push('=');
        path.push_str(&crate::sample::encode(value));
    }

    let auth = spec.auth();
    let mut b = Request::builder().method(method).uri(&path);
    for (h, v) in &auth.required_headers {
        if !h.eq_ignore_ascii_case("content-type") {
            b = b.header(h.as_str(), v.as_str());
        }
    }
    let accounts = api.accounts();
    let who = r.who as usize % (accounts.len() + 2);
    let cred = |a: &crate::emulator::Account, secret: &str| {
        if a.bearer {
            format!("{} {secret}", auth.prefix.as_deref().unwrap_or("Bearer"))
        } else {
            let raw = format!("{}:{secret}", a.user);
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            )
        }
    };
    if who < accounts.len() {
        b = b.header(
            auth.header.as_str(),
            cred(&accounts[who], &accounts[who].secret),
        );
    } else if who == accounts.len() + 1 {
        if let Some(a) = accounts.last() {
            b = b.header(auth.header.as_str(), cred(a, "wrong-secret"));
        }
    }
    if let Some(a) = ACCEPTS[r.accept as usize % ACCEPTS.len()] {
        b = b.header("accept", a);
    }
    let sample = op.and_then(|op| crate::sample::body(spec, op));
    let body: Option<(Option<String>, Vec<u8>)> = match &r.body {
        BodyChoice::None => None,
        BodyChoice::Raw(bytes) => Some((None, bytes.clone())),
        BodyChoice::Sample(flips) => sample.map(|(ct, mut bytes)| {
            if !bytes.is_empty() {
                for (at, x) in flips {
                    let n = bytes.len();
                    bytes[*at as usize % n] ^= x;
                }
            }
            (Some(ct), bytes)
        }),
        BodyChoice::Truncated(at) => sample.map(|(ct, mut bytes)| {
            bytes.truncate(*at as usize % (bytes.len() + 1));
            (Some(ct), bytes)
        }),
    };
    let chosen = CONTENT_TYPES[r.content_type as usize % CONTENT_TYPES.len()];
    let wants_json_ct = auth
        .required_headers
        .keys()
        .any(|h| h.eq_ignore_ascii_case("content-type"));
    let req = match body {
        Some((sample_ct, bytes)) => {
            if let Some(ct) = chosen.map(str::to_string).or(sample_ct) {
                b = b.header("content-type", ct);
            }
            b.body(Body::from(bytes))
        }
        None if wants_json_ct => b
            .header("content-type", chosen.unwrap_or("application/json"))
            .body(Body::empty()),
        None => b.body(Body::empty()),
    };
    req.ok().map(|r| (ai, r))
}

/// Checks every table's rows are stored under their own key.
fn check_tables(emu: &Emulator) {
    for api in emu.apis() {
        for name in api.table_names() {
            let table = api.table(name).expect("listed table");
            if table.key_fields().is_empty() {
                continue;
            }
            for (k, row) in table.snapshot().iter() {
                if let Some(own) = table.key_of(row) {
                    assert_eq!(
                        &own,
                        k,
                        "{}: table {name}: a row is stored under another key ({:?})",
                        api.name(),
                        row.field(&table.key_fields()[0])
                    );
                }
            }
        }
    }
}

/// The emulator, whole: a structured request (API, endpoint and path parameters, method,
/// credentials, Accept, Content-Type, query, body) through the router. Never a 5xx; a 4xx
/// changes no table or device state; the answer's content type is one the API's spec
/// documents; every table keeps each row under its own key. State is reset after any
/// request that changed it, so every input starts from the seed.
pub fn emulator(data: &[u8]) {
    let Ok(r) = EmuRequest::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let f = fixture();
    let Some((ai, req)) = build(f, &r) else {
        return;
    };
    let before: Vec<u64> = f.emu.apis().map(|a| a.fingerprint()).collect();
    let desc = format!("{} {}", req.method(), req.uri());
    let (status, ct, body) = block_on(async {
        let resp = f
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("the router is infallible");
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = resp.into_body().collect().await.map(|b| b.to_bytes());
        (status, ct, body)
    });
    let body = body.unwrap_or_else(|e| panic!("{desc}: reading the answer failed: {e}"));
    assert!(
        status < 500,
        "{desc}: answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    let after: Vec<u64> = f.emu.apis().map(|a| a.fingerprint()).collect();
    if (400..500).contains(&status) {
        assert_eq!(
            before,
            after,
            "{desc}: answered {status} but changed state: {}",
            String::from_utf8_lossy(&body)
        );
    }
    if let Some(ct) = ct {
        let e = essence(&ct);
        let served_by = f
            .emu
            .apis()
            .position(|a| {
                a.spec.api().bases.values().any(|b| {
                    !b.is_empty()
                        && desc
                            .split(' ')
                            .nth(1)
                            .is_some_and(|u| u.starts_with(b.trim_end_matches('/')))
                })
            })
            .unwrap_or(ai);
        let ok = f.documented[ai].contains(&e) || f.documented[served_by].contains(&e);
        assert!(
            ok,
            "{desc}: answered {status} as `{ct}`, which the spec documents nowhere"
        );
    }
    check_tables(&f.emu);
    if before != after {
        f.emu.reset().expect("reset");
    }
}
