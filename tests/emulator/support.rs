//! The emulator tests' own helpers: build an emulator, send a request in-process, read the
//! answer.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, Response};
use base64::Engine as _;
use dialtone::emulator::{Account, Emulator};
use dialtone::spec::Spec;
use http_body_util::BodyExt;

use crate::common::{faults, spec};

/// An emulator in-process (no socket) for the bundled specs `names`, with `faults` on.
pub fn emulator(names: &[&str], faults: &[&str]) -> Arc<Emulator> {
    let specs = names.iter().map(|n| spec(n)).collect();
    Arc::new(Emulator::new(specs, self::faults(faults)).unwrap())
}

/// Who sends a request.
#[derive(Debug, Clone, Copy)]
pub enum As<'a> {
    Nobody,
    BadPassword,
    Role(&'a str),
}

pub struct Answer {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

pub fn account<'a>(emu: &'a Emulator, api: &str, role: &str) -> &'a Account {
    emu.api(api)
        .unwrap()
        .accounts()
        .iter()
        .find(|a| a.role == role)
        .unwrap_or_else(|| panic!("{api} has no role {role}"))
}

/// Build a request with the API's auth and required headers.
pub fn request(
    emu: &Emulator,
    api: &str,
    who: As,
    method: &str,
    path: &str,
    body: Option<(&str, Vec<u8>)>,
) -> Request<Body> {
    let spec = &emu.api(api).unwrap().spec;
    let auth = spec.auth();
    let mut b = Request::builder().method(method).uri(path);
    for (h, v) in &auth.required_headers {
        if !h.eq_ignore_ascii_case("content-type") {
            b = b.header(h.as_str(), v.as_str());
        }
    }
    let cred = |a: &Account, secret: &str| -> String {
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
    match who {
        As::Nobody => {}
        As::BadPassword => {
            let a = emu.api(api).unwrap().accounts().last().unwrap();
            b = b.header(auth.header.as_str(), cred(a, "wrong-secret"));
        }
        As::Role(r) => {
            let a = account(emu, api, r);
            b = b.header(auth.header.as_str(), cred(a, &a.secret));
        }
    }
    let wants_json_ct = auth
        .required_headers
        .keys()
        .any(|h| h.eq_ignore_ascii_case("content-type"));
    match body {
        Some((ct, bytes)) => b
            .header("content-type", ct)
            .body(Body::from(bytes))
            .unwrap(),
        None if wants_json_ct => b
            .header("content-type", "application/json")
            .body(Body::empty())
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    }
}

pub async fn read(r: Response<Body>) -> Answer {
    let (parts, body) = r.into_parts();
    let body = body.collect().await.unwrap().to_bytes().to_vec();
    Answer {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    }
}

pub async fn send(
    emu: &Emulator,
    api: &str,
    who: As<'_>,
    method: &str,
    path: &str,
    body: Option<(&str, Vec<u8>)>,
) -> Answer {
    read(emu.handle(request(emu, api, who, method, path, body)).await).await
}

pub async fn json_call(
    emu: &Emulator,
    api: &str,
    role: &str,
    method: &str,
    path: &str,
    body: serde_json::Value,
) -> Answer {
    send(
        emu,
        api,
        As::Role(role),
        method,
        path,
        Some(("application/json", serde_json::to_vec(&body).unwrap())),
    )
    .await
}

/// Does the answer carry the outcome's result code (its value, id or message)?
pub fn has_code(spec: &Spec, a: &Answer, code: &str) -> bool {
    let text = a.text();
    match spec.code(code) {
        // A code with neither message nor value can only be told by its status.
        Some(c) if c.message.is_none() && c.value.is_none() => true,
        Some(c) => {
            let value = c.value.clone().unwrap_or_else(|| c.id.get_ref().clone());
            text.contains(&value)
                || c.message.as_ref().is_some_and(|m| {
                    // `{name}` placeholders stand for what the emulator filled in.
                    dialtone::runner::outcome::message_matches(
                        m,
                        &text,
                        dialtone::spec::model::MatchMode::Exact,
                    )
                })
        }
        None => text.contains(code),
    }
}
