//! The request pipeline shared by every API.
//!
//! 1. Control requests (under [`CONTROL_PREFIX`]) go to `control`.
//! 2. The API is chosen by the longest base path that prefixes the request path.
//! 3. The spec's precedence checks run in the spec's order; the first that fails answers.
//! 4. The body is read (with the documented limit), parsed, validated as a whole, and only
//!    then applied: a rejected request never changes anything.

#![allow(clippy::result_large_err)] // early answers travel as `Err(Response)`

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, Response};
use base64::Engine as _;
use http_body_util::{BodyExt, Limited};
use serde_json::{Map, Value};

use super::body::{self, Parsed};
use super::faults::FaultId;
use super::paging::{self, PageKind};
use super::render::{self, Fmt};
use super::store::{scalar_text, Fields, Key, Row, Rows};
use super::{codec, control, vendor, ApiEmu, Emulator, JobRun, Seg, CONTROL_PREFIX};
use crate::spec::model::*;
use crate::spec::Spec;
use toml::Spanned;

/// The endpoint the `skip-privilege-check` fault leaves open: the first whose operations
/// need more than the lowest role.
pub(crate) fn first_restricted_endpoint(spec: &Spec) -> Option<&str> {
    let lowest = *spec.roles_by_rank().first()?;
    spec.endpoints()
        .find(|ep| ep.op.iter().any(|op| !spec.allows(op, lowest)))
        .map(|ep| ep.id.get_ref().as_str())
}

pub(super) async fn entry(State(emu): State<Arc<Emulator>>, req: Request<Body>) -> Response<Body> {
    handle(&emu, req).await
}

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Missing,
    Invalid,
    Role(usize),
}

/// A matched request, before its body is read.
pub(super) struct Ctx<'a> {
    pub emu: &'a Emulator,
    pub api: &'a ApiEmu,
    pub ep: &'a Endpoint,
    pub op: &'a Operation,
    pub params: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub headers: &'a HeaderMap,
}

impl Ctx<'_> {
    pub fn spec(&self) -> &Spec {
        &self.api.spec
    }
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn fault(&self, f: FaultId) -> bool {
        self.emu.faults.on(f)
    }
    /// The answer for an outcome, in the operation's envelope unless its code names one.
    pub fn outcome(&self, o: &Outcome, message: Option<&str>) -> Response<Body> {
        let hint = self
            .op
            .response
            .as_ref()
            .and_then(|r| r.envelope.as_ref())
            .map(|e| e.get_ref().as_str());
        finish_error(
            self.emu,
            render::outcome(self.spec(), o, hint, message, None),
        )
    }
    /// The rejection of an invalid request.
    pub fn reject(&self, message: &str) -> Response<Body> {
        let o = self
            .op
            .request
            .as_ref()
            .and_then(|r| r.reject.as_ref())
            .map(|r| r.get_ref().clone())
            .unwrap_or(Outcome {
                status: 400,
                code: None,
            });
        self.outcome(&o, Some(message))
    }
    /// "No such object": the operation's own 404 code if it has one, else the matrix rule.
    pub fn not_found(&self) -> Response<Body> {
        let code = self
            .op
            .codes
            .iter()
            .filter_map(|c| self.spec().code(c.get_ref()))
            .find(|c| c.status == 404);
        let o = match code {
            Some(c) => Outcome {
                status: 404,
                code: Some(c.id.get_ref().clone()),
            },
            None => self.spec().matrix().not_found.expect.get_ref().clone(),
        };
        self.outcome(&o, Some("no such object"))
    }
    /// The table of the endpoint's collection, if it has one.
    pub fn table(&self) -> Option<&super::store::Table> {
        self.ep
            .collection
            .as_ref()
            .and_then(|c| self.api.tables.get(c.get_ref()))
    }
    pub fn success(&self) -> Outcome {
        self.op.success_outcome()
    }
}

/// Error answers under the `wrong-error-envelope` fault lose their envelope.
fn finish_error(emu: &Emulator, r: Response<Body>) -> Response<Body> {
    if emu.faults.on(FaultId::WrongErrorEnvelope) && r.status().as_u16() >= 400 {
        return render::raw(r.status().as_u16(), Some("text/plain"), b"error".to_vec());
    }
    r
}

fn api_for_path<'a>(emu: &'a Emulator, path: &str) -> Option<&'a ApiEmu> {
    let mut best: Option<(&ApiEmu, usize)> = None;
    for a in &emu.apis {
        for b in &a.bases {
            let hit = b.is_empty()
                || path == b
                || (path.starts_with(b.as_str()) && path.as_bytes().get(b.len()) == Some(&b'/'));
            if hit && best.is_none_or(|(_, l)| b.len() > l) {
                best = Some((a, b.len()));
            }
        }
    }
    best.map(|(a, _)| a).or_else(|| {
        if emu.apis.len() == 1 {
            emu.apis.first()
        } else {
            None
        }
    })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_query(q: Option<&str>) -> Vec<(String, String)> {
    q.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(p), String::new()),
        })
        .collect()
}

fn match_route<'a>(api: &'a ApiEmu, path: &str) -> Option<(&'a Endpoint, Vec<(String, String)>)> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    'routes: for r in &api.routes {
        let rest = matches!(r.segs.last(), Some(Seg::Rest(_)));
        if r.segs.len() != segs.len() && !(rest && segs.len() >= r.segs.len()) {
            continue;
        }
        let mut params = Vec::new();
        for (i, t) in r.segs.iter().enumerate() {
            let s = segs[i];
            match t {
                Seg::Lit(l) if l == s => {}
                Seg::Lit(_) => continue 'routes,
                Seg::Param(p) => params.push((p.clone(), percent_decode(s))),
                Seg::Rest(p) => params.push((p.clone(), percent_decode(&segs[i..].join("/")))),
            }
        }
        return api.spec.endpoint_at(r.endpoint).map(|ep| (ep, params));
    }
    None
}

fn credentials(api: &ApiEmu, headers: &HeaderMap, faults: &super::Faults) -> Caller {
    let auth = api.spec.auth();
    for (h, v) in &auth.required_headers {
        // Content-Type is a body matter, checked with the body; others gate the call.
        if h.eq_ignore_ascii_case("content-type") {
            continue;
        }
        match headers.get(h.as_str()).and_then(|x| x.to_str().ok()) {
            Some(got) if got.trim().eq_ignore_ascii_case(v) => {}
            _ => return Caller::Missing,
        }
    }
    let Some(value) = headers
        .get(auth.header.as_str())
        .and_then(|v| v.to_str().ok())
    else {
        return Caller::Missing;
    };
    // `Caller::Role` holds the index of the matching account.
    let found = |pred: &dyn Fn(&super::Account) -> bool| {
        api.accounts
            .iter()
            .position(pred)
            .map_or(Caller::Invalid, Caller::Role)
    };
    match auth.scheme {
        AuthScheme::Basic => {
            let Some(b64) = value
                .strip_prefix("Basic ")
                .or(value.strip_prefix("basic "))
            else {
                return Caller::Invalid;
            };
            let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
                return Caller::Invalid;
            };
            let text = String::from_utf8_lossy(&raw);
            let (user, pass) = text.split_once(':').unwrap_or((&text, ""));
            let any_password = faults.on(FaultId::BadCredentialsAccepted);
            found(&|a| a.user == user && (a.secret == pass || any_password))
        }
        AuthScheme::Bearer => {
            let token = match &auth.prefix {
                Some(p) => match value
                    .strip_prefix(p.as_str())
                    .and_then(|r| r.strip_prefix(' '))
                {
                    Some(t) => t.trim(),
                    None => return Caller::Invalid,
                },
                None => value.trim(),
            };
            match found(&|a| a.secret == token) {
                // The faulty device takes any token as its most privileged account.
                Caller::Invalid if faults.on(FaultId::BadCredentialsAccepted) => api
                    .accounts
                    .len()
                    .checked_sub(1)
                    .map_or(Caller::Invalid, Caller::Role),
                c => c,
            }
        }
    }
}

fn with_auth_challenge(api: &ApiEmu, mut r: Response<Body>) -> Response<Body> {
    let auth = api.spec.auth();
    if auth.scheme == AuthScheme::Basic && r.status() == 401 {
        let realm = auth.realm.as_deref().unwrap_or(api.name());
        if let Ok(v) = HeaderValue::from_str(&format!("Basic realm=\"{realm}\"")) {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    r
}

fn generic_not_found() -> Response<Body> {
    render::raw(
        404,
        Some("text/plain"),
        b"no API is served under this path".to_vec(),
    )
}

/// The whole pipeline for one request.
pub(super) async fn handle(emu: &Emulator, req: Request<Body>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let control = path
        .strip_prefix(CONTROL_PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    if control {
        return control::handle(emu, &parts, body).await;
    }
    let Some(api) = api_for_path(emu, &path) else {
        return generic_not_found();
    };
    let spec = &api.spec;
    let m = spec.matrix();
    let method = if parts.method == Method::HEAD {
        "GET".to_string()
    } else {
        parts.method.as_str().to_string()
    };
    let routed = match_route(api, &path);
    let op = routed.as_ref().and_then(|(ep, _)| ep.operation(&method));
    let caller = credentials(api, &parts.headers, &emu.faults);
    let role = match caller {
        Caller::Role(i) => spec.role(&api.accounts[i].role),
        _ => None,
    };
    let bare = |o: &Outcome, env: Option<&Spanned<String>>| {
        with_auth_challenge(
            api,
            finish_error(
                emu,
                render::outcome(spec, o, env.map(|e| e.get_ref().as_str()), None, None),
            ),
        )
    };
    for check in m.precedence.get_ref() {
        match check {
            Check::Route => {
                if routed.is_none() {
                    return bare(m.not_found.expect.get_ref(), m.not_found.envelope.as_ref());
                }
            }
            Check::Auth => {
                let public = op.is_some_and(|o| o.public);
                if role.is_none() && !public {
                    let o = if caller == Caller::Missing {
                        &spec.auth().missing
                    } else {
                        &spec.auth().invalid
                    };
                    return bare(o.get_ref(), None);
                }
            }
            Check::Method => {
                if let (Some((ep, _)), None) = (&routed, op) {
                    if emu.faults.on(FaultId::NotFoundForMethod) {
                        return bare(m.not_found.expect.get_ref(), m.not_found.envelope.as_ref());
                    }
                    let c = &m.method_not_allowed;
                    let mut r = bare(c.expect.get_ref(), c.envelope.as_ref());
                    if c.allow_header && !emu.faults.on(FaultId::NoAllowHeader) {
                        let allow: Vec<&str> =
                            ep.op.iter().map(|o| o.method.get_ref().as_str()).collect();
                        if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
                            r.headers_mut().insert(header::ALLOW, v);
                        }
                    }
                    return r;
                }
            }
            Check::Role => {
                if let (Some(op), Some(r), Some((ep, _))) = (op, role, &routed) {
                    let skip = emu.faults.on(FaultId::SkipPrivilegeCheck)
                        && first_restricted_endpoint(spec) == Some(ep.id.get_ref().as_str());
                    if !spec.allows(op, r) && !skip {
                        let c = op.forbidden.as_ref().unwrap_or(&m.forbidden);
                        return bare(c.expect.get_ref(), c.envelope.as_ref());
                    }
                }
            }
            Check::State | Check::Validation => {}
        }
    }
    // Every check before `state` passed; an endpoint and an op exist unless the spec's
    // precedence omits route or method, in which case they answer here.
    let Some((ep, params)) = routed else {
        return bare(m.not_found.expect.get_ref(), m.not_found.envelope.as_ref());
    };
    let Some(op) = op else {
        return bare(
            m.method_not_allowed.expect.get_ref(),
            m.method_not_allowed.envelope.as_ref(),
        );
    };
    let ctx = Ctx {
        emu,
        api,
        ep,
        op,
        params,
        query: parse_query(parts.uri.query()),
        headers: &parts.headers,
    };
    let resp = after_checks(&ctx, body).await;
    if parts.method == Method::HEAD {
        let (p, _) = resp.into_parts();
        return Response::from_parts(p, Body::empty());
    }
    resp
}

/// Active state that applies to this operation, if any.
fn blocking_state<'a>(ctx: &'a Ctx) -> Option<&'a crate::spec::model::State> {
    if ctx.fault(FaultId::StateIgnored) {
        return None;
    }
    let device = ctx.api.device.lock();
    let active = &device.states;
    if active.is_empty() {
        return None;
    }
    let eid = ctx.ep.id.get_ref();
    ctx.spec().states().find(|st| {
        active.contains(st.name.get_ref())
            && !st.except.iter().any(|x| x.get_ref() == eid)
            && (st.endpoints.iter().any(|x| x.get_ref() == eid)
                || st.applies_to.contains(&Spec::safety(ctx.op)))
    })
}

async fn read_body(ctx: &Ctx<'_>, body: Body) -> Result<Bytes, Response<Body>> {
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
    match Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                let o = ctx
                    .spec()
                    .matrix()
                    .payload_too_large
                    .as_ref()
                    .map(|c| c.expect.get_ref().clone())
                    .unwrap_or(Outcome {
                        status: 413,
                        code: None,
                    });
                let mut r = ctx.outcome(&o, Some(&format!("request body exceeds {limit} bytes")));
                r.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                Err(r)
            } else {
                // The client went away or sent a broken body: answer 400; nobody may read it.
                Err(ctx.reject("request body could not be read"))
            }
        }
    }
}

/// Content type the client asked for, among those the operation produces.
fn negotiate(ctx: &Ctx) -> Result<Option<(Fmt, String)>, Response<Body>> {
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
            let f = match v.to_ascii_lowercase().as_str() {
                "json" => Fmt::Json,
                "xml" => Fmt::Xml,
                "csv" => Fmt::Csv,
                _ => return Err(ctx.reject(&format!("unknown {p} `{v}`"))),
            };
            match by_fmt(f) {
                Some(c) => chosen = Some(c),
                None => return Err(ctx.reject(&format!("{p}={v} is not offered here"))),
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

/// A `[[state.also]]` case of an active state that matches this request.
fn state_case<'a>(ctx: &'a Ctx) -> Option<&'a crate::spec::model::StateCase> {
    if ctx.fault(FaultId::StateIgnored) {
        return None;
    }
    let device = ctx.api.device.lock();
    let eid = ctx.ep.id.get_ref();
    let method = ctx.op.method.get_ref();
    let ct = ctx
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    ctx.spec()
        .states()
        .filter(|st| device.states.contains(st.name.get_ref()))
        .flat_map(|st| st.also.iter())
        .find(|c| {
            c.endpoints.iter().any(|e| e.get_ref() == eid)
                && (c.methods.is_empty() || c.methods.iter().any(|m| m == method))
                && (c.content_types.is_empty()
                    || c.content_types
                        .iter()
                        .any(|t| ct.starts_with(&t.to_ascii_lowercase())))
        })
}

async fn after_checks(ctx: &Ctx<'_>, body: Body) -> Response<Body> {
    if let Some(c) = state_case(ctx) {
        return ctx.outcome(c.outcome.get_ref(), None);
    }
    let state = blocking_state(ctx);
    if let Some(st) = state {
        if st.applies_change != Some(true) {
            return ctx.outcome(st.outcome.get_ref(), Some(&st.description));
        }
    }
    let fmt = match negotiate(ctx) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let body = match read_body(ctx, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let parsed = match body::parse_body(ctx, &body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Some(r) = vendor::before_effect(ctx, &parsed, fmt.as_ref()) {
        return r;
    }
    if let Some(missing) = ctx
        .op
        .query
        .iter()
        .find(|(name, p)| p.required() && ctx.query(name).is_none())
    {
        return ctx.reject(&format!("missing query parameter `{}`", missing.0));
    }
    let resp = apply(ctx, parsed, fmt).await;
    match state {
        // The change landed, but the device reports the state's outcome instead.
        Some(st) if resp.status().is_success() => {
            ctx.outcome(st.outcome.get_ref(), Some(&st.description))
        }
        _ => resp,
    }
}

/// Apply the operation's effect.
async fn apply(ctx: &Ctx<'_>, parsed: Parsed, fmt: Option<(Fmt, String)>) -> Response<Body> {
    let effect = ctx.op.effect.unwrap_or(Effect::Static);
    let coll = ctx.ep.collection.as_ref().map(|c| c.get_ref().as_str());
    let table_effect = matches!(
        effect,
        Effect::List
            | Effect::Get
            | Effect::Query
            | Effect::Create
            | Effect::Update
            | Effect::Upsert
            | Effect::Delete
            | Effect::Replace
    );
    match (coll, table_effect) {
        (Some(c), true) if ctx.api.tables.contains_key(c) => {
            super::engine::table_effect(ctx, c, effect, parsed, fmt)
        }
        _ => match effect {
            Effect::JobStart => job_start(ctx),
            Effect::JobPoll => job_poll(ctx),
            _ => static_answer(ctx, fmt),
        },
    }
}

/// Answer of an operation without a table: its documented body, or its success outcome.
fn static_answer(ctx: &Ctx, fmt: Option<(Fmt, String)>) -> Response<Body> {
    if let Some(r) = vendor::static_answer(ctx) {
        return r;
    }
    let success = ctx.success();
    let resp = ctx.op.response.as_ref();
    if let Some(r) = resp {
        if r.envelope.is_some() && r.body.is_none() && r.example.is_none() {
            return ctx.outcome(&success, None);
        }
        if let (Some(body), Some((f, ct))) = (r.body.as_ref().or(r.example.as_ref()), fmt.clone()) {
            return static_body(ctx, success.status, body, f, &ct);
        }
        // No fixed body: one record built from the schema's examples, in the format asked.
        let schema = r
            .schema
            .as_ref()
            .and_then(|s| ctx.spec().schema(s.get_ref()));
        if let (Some(schema), Some((f @ (Fmt::Json | Fmt::Xml), ct))) = (schema, fmt.clone()) {
            let obj = Value::Object(crate::sample::object(ctx.spec(), schema));
            let item = render::item_name(Some(schema));
            let bytes = match (f, r.many, &r.wrapper) {
                (Fmt::Json, true, Some(w)) => serde_json::to_vec(&serde_json::json!({ w: [obj] })),
                (Fmt::Json, true, None) => serde_json::to_vec(&serde_json::json!([obj])),
                (Fmt::Json, false, _) => serde_json::to_vec(&obj),
                (_, true, w) => Ok(codec::to_xml(
                    w.as_deref().unwrap_or(&format!("{item}s")),
                    &serde_json::json!({ item: obj }),
                )
                .into_bytes()),
                (_, false, _) => Ok(codec::to_xml(&item, &obj).into_bytes()),
            }
            .unwrap_or_default();
            return render::raw(success.status, Some(&ct), bytes);
        }
        // Nothing documented to serve: a placeholder in the representation negotiated, so a
        // download is never answered in a type the resource does not produce.
        if let (None, None, Some((f, ct))) = (&r.body, &r.example, fmt) {
            if r.envelope.is_none() && success.status != 204 {
                let bytes: Vec<u8> = match f {
                    Fmt::Json => b"{}".to_vec(),
                    Fmt::Xml => b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><dialtone/>".to_vec(),
                    Fmt::Zip => {
                        codec::write_zip(&[("dialtone.txt".into(), b"dialtone\n".to_vec())])
                    }
                    _ => b"dialtone sample content\n".to_vec(),
                };
                return render::raw(success.status, Some(&ct), bytes);
            }
        }
    }
    ctx.outcome(&success, None)
}

/// A fixed body, in the representation negotiated (a JSON body served as XML and the other
/// way round), and paged when the operation documents a cursor over its items.
fn static_body(ctx: &Ctx, status: u16, body: &str, f: Fmt, ct: &str) -> Response<Body> {
    let t = body.trim_start();
    let parsed: Option<(Option<String>, Value)> = if t.starts_with('{') || t.starts_with('[') {
        codec::from_json(body.as_bytes()).ok().map(|v| (None, v))
    } else if t.starts_with('<') {
        codec::from_xml(body.as_bytes())
            .ok()
            .map(|(root, v)| (Some(root), v))
    } else {
        None
    };
    let Some((root, mut v)) = parsed else {
        return render::raw(status, Some(ct), body.as_bytes().to_vec());
    };
    let pagination = ctx
        .op
        .pagination
        .as_ref()
        .and_then(|p| ctx.spec().pagination(p.get_ref()))
        .filter(|p| p.style == PaginationStyle::Cursor);
    let mut paged = false;
    if let Some(p) = pagination {
        match static_page(ctx, p, &mut v) {
            Ok(true) => paged = true,
            Ok(false) => {}
            Err(r) => return r,
        }
    }
    let same = match f {
        Fmt::Json => root.is_none(),
        Fmt::Xml => root.is_some(),
        _ => true,
    };
    if same && !paged {
        return render::raw(status, Some(ct), body.as_bytes().to_vec());
    }
    let bytes = match f {
        Fmt::Xml => {
            let name = root.unwrap_or_else(|| render::item_name(None));
            codec::to_xml(&name, &v).into_bytes()
        }
        _ => serde_json::to_vec(&v).unwrap_or_default(),
    };
    render::raw(status, Some(ct), bytes)
}

/// Cut the items of a fixed list body down to one cursor page. Cursors are 1-based item
/// positions. `Ok(false)` when the body has no item list at the documented place.
fn static_page(ctx: &Ctx, p: &Pagination, v: &mut Value) -> Result<bool, Response<Body>> {
    let Some(items_path) = p.fields.get("items") else {
        return Ok(false);
    };
    let Some(Value::Array(items)) = render::get_path(v, items_path).cloned() else {
        return Ok(false);
    };
    let sentinel = p.sentinel.unwrap_or(-1);
    let req =
        paging::parse(p, &ctx.query, PageKind::Cursor).map_err(|e| invalid_paging(ctx, p, &e.0))?;
    let (after, before) = (req.after, req.before);
    // A fixed list is cut by the limit as given: `max_limit` is not applied here.
    let limit = req.effective_limit(p, false).unwrap_or(usize::MAX);
    let limit = if ctx.fault(FaultId::LimitIgnored) {
        1000
    } else {
        limit
    };
    let n = items.len();
    // Positions (1-based) of the window.
    let (from, to) = if after == Some(sentinel) || before == Some(sentinel) {
        (n + 1, n)
    } else if let Some(b) = before {
        let end = (b.max(1) as usize - 1).min(n);
        (end.saturating_sub(limit) + 1, end)
    } else {
        let start = after.map_or(1, |a| a.max(0) as usize + 1);
        (start, (start + limit.min(n)).saturating_sub(1).min(n))
    };
    let window: Vec<Value> = if from > to || from > n {
        vec![]
    } else {
        items[from - 1..to].to_vec()
    };
    if window.is_empty() {
        if let Some(r) = empty_answer(ctx, Some(p)) {
            return Err(r);
        }
    }
    let end_mark = if ctx.fault(FaultId::MissingSentinel) {
        0
    } else {
        sentinel
    };
    let prev = if !window.is_empty() && from > 1 {
        Value::from(from as i64)
    } else {
        Value::from(end_mark)
    };
    let next = if !window.is_empty() && to < n {
        Value::from(to as i64)
    } else {
        Value::from(end_mark)
    };
    if let Value::Object(obj) = v {
        render::set_path(obj, items_path, Value::Array(window));
        for (k, path) in &p.fields {
            match k.as_str() {
                "prev" => render::set_path(obj, path, prev.clone()),
                "next" => render::set_path(obj, path, next.clone()),
                "start" => {
                    render::set_path(obj, path, Value::from(if n > 0 { 1 } else { end_mark }))
                }
                "end" => render::set_path(
                    obj,
                    path,
                    Value::from(if n > 0 { n as i64 } else { end_mark }),
                ),
                _ => {}
            }
        }
    }
    Ok(true)
}

fn job_for<'a>(ctx: &'a Ctx) -> Option<&'a Job> {
    let name = ctx.op.job.as_ref()?.get_ref();
    ctx.spec().jobs().find(|j| j.name.get_ref() == name)
}

fn job_start(ctx: &Ctx) -> Response<Body> {
    let Some(job) = job_for(ctx) else {
        return static_answer(ctx, None);
    };
    let id = {
        let mut d = ctx.api.device.lock();
        d.next_job += 1;
        let id = d.next_job.to_string();
        let polls = if ctx.fault(FaultId::JobNeverReady) {
            u32::MAX
        } else {
            job.emulator_pending_polls.unwrap_or(1)
        };
        d.jobs.insert(
            id.clone(),
            JobRun {
                job: job.name.get_ref().clone(),
                polls_left: polls,
            },
        );
        id
    };
    let data = serde_json::json!(id);
    let env = ctx
        .op
        .response
        .as_ref()
        .and_then(|r| r.envelope.as_ref())
        .map(|e| e.get_ref().as_str());
    let mut r = render::outcome(ctx.spec(), job.accepted.get_ref(), env, None, None);
    // The accepted body carries the transaction id beside the message.
    if let Some(env) = env.and_then(|n| ctx.spec().envelope(n)) {
        if env.format == BodyFormat::Json {
            let code = job
                .accepted
                .get_ref()
                .code
                .as_deref()
                .and_then(|c| ctx.spec().code(c));
            let msg = code
                .and_then(|c| c.message.clone())
                .unwrap_or_else(|| "accepted".into());
            let mut obj = Map::new();
            if let Some(p) = &env.message_path {
                render::set_path(&mut obj, p, Value::String(msg));
            }
            obj.insert("transactionId".into(), data);
            r = render::raw(
                job.accepted.get_ref().status,
                Some(&env.content_type),
                serde_json::to_vec(&obj).unwrap_or_default(),
            );
        }
    }
    if let Some(h) = &job.location_header {
        if let Some(poll) = ctx.spec().endpoint(job.poll.get_ref()) {
            let path = fill_template(&ctx.spec().full_path(poll), &id);
            if let (Ok(name), Ok(v)) = (
                header::HeaderName::from_bytes(h.as_bytes()),
                HeaderValue::from_str(&path),
            ) {
                r.headers_mut().insert(name, v);
            }
        }
    }
    r
}

/// Put `value` in the first `{param}` of a template.
fn fill_template(t: &str, value: &str) -> String {
    match (t.find('{'), t.find('}')) {
        (Some(a), Some(b)) if a < b => format!("{}{}{}", &t[..a], value, &t[b + 1..]),
        _ => t.to_string(),
    }
}

fn job_poll(ctx: &Ctx) -> Response<Body> {
    let Some(mut job) = job_for(ctx) else {
        return static_answer(ctx, None);
    };
    let id = ctx
        .params
        .first()
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let state = {
        let mut d = ctx.api.device.lock();
        match d.jobs.get_mut(&id) {
            // Jobs sharing a poll endpoint answer with the started job's outcomes.
            Some(run) => {
                if let Some(started) = ctx.spec().jobs().find(|j| *j.name.get_ref() == run.job) {
                    job = started;
                }
                if run.polls_left > 0 {
                    run.polls_left = run
                        .polls_left
                        .saturating_sub(if run.polls_left == u32::MAX { 0 } else { 1 });
                    Some(false)
                } else {
                    Some(true)
                }
            }
            _ => None,
        }
    };
    match state {
        None => ctx.not_found(),
        Some(false) => {
            let o = job
                .pending
                .first()
                .map(|p| p.get_ref().clone())
                .unwrap_or(Outcome {
                    status: 202,
                    code: None,
                });
            ctx.outcome(&o, Some("still in progress"))
        }
        Some(true) => {
            let done = job.done.get_ref();
            let body = ctx
                .op
                .response
                .as_ref()
                .and_then(|r| r.example.clone())
                .unwrap_or_default();
            let ct = ctx
                .op
                .response
                .as_ref()
                .and_then(|r| r.content_types.first().cloned())
                .unwrap_or_else(|| "application/octet-stream".into());
            render::raw(done.status, Some(&ct), body.into_bytes())
        }
    }
}

// ---------------------------------------------------------------------------
// Table effects
// ---------------------------------------------------------------------------

/// Rows of the table visible under this request's scope parameter: those whose scope
/// field has the requested value, and those without one (the schema need not carry the
/// scope; such rows belong to every scope).
fn scoped(ctx: &Ctx, collection: &str, rows: &Rows) -> Option<Vec<Row>> {
    let c = ctx.spec().collection(collection)?;
    let sp = c.scope_param.as_ref()?;
    let want = ctx.param(sp).or_else(|| ctx.query(sp))?;
    Some(
        rows.values()
            .filter(|r| match r.field(sp) {
                None => true,
                Some(v) => scalar_text(v).is_some_and(|v| v == want),
            })
            .cloned()
            .collect(),
    )
}

/// Key named by the path (the last path parameter), if any.
pub(super) fn path_key(ctx: &Ctx) -> Option<Key> {
    let c = ctx.ep.collection.as_ref()?.get_ref();
    let scope = ctx.spec().collection(c).and_then(|x| x.scope_param.clone());
    ctx.params
        .iter()
        .rev()
        .find(|(k, _)| Some(k) != scope.as_ref())
        .map(|(_, v)| Key::parse(v))
}

/// How the path names rows: by key, or by another field of the schema.
enum Sel {
    Key(Key),
    Field(String, String),
    /// The parameter is neither a key nor a field (sipXconfig's "user id, name or alias"):
    /// rows holding the value as a scalar field, or as a delimited part of one.
    Any(String),
}

fn path_sel(ctx: &Ctx, collection: &str) -> Option<Sel> {
    let key = path_key(ctx)?;
    let (name, value) = ctx.params.last()?;
    let keys = ctx.api.key_fields(collection);
    let is_field = ctx
        .api
        .collection_schema(collection)
        .is_some_and(|s| s.field.iter().any(|f| f.name.get_ref() == name));
    let single_key_named_otherwise =
        keys.len() == 1 && !keys.contains(name) && ctx.params.len() == 1;
    if is_field && !keys.contains(name) {
        Some(Sel::Field(name.clone(), value.clone()))
    } else if single_key_named_otherwise && ctx.api.tables[collection].get(&key).is_none() {
        let alias = ctx
            .ep
            .params
            .get(name)
            .and_then(|p| p.spec().lookup)
            .and_then(|l| l.resolve(ctx.spec(), value));
        Some(Sel::Any(alias.unwrap_or_else(|| value.clone())))
    } else {
        Some(Sel::Key(key))
    }
}

fn sel_matches(sel: &Sel, k: &Key, row: &Row) -> bool {
    match sel {
        Sel::Key(want) => want == k,
        Sel::Field(f, v) => row.field(f).and_then(scalar_text).as_deref() == Some(v.as_str()),
        Sel::Any(v) => row.fields().filter_map(|(_, x)| scalar_text(x)).any(|t| {
            // The whole value, or one delimited part of it (the host of a contact URI),
            // never a substring: `/pagegroups/2` must not match a timeout of 286694.
            t == *v
                || t.split(|c: char| !(c.is_alphanumeric() || matches!(c, '.' | '-' | '_')))
                    .any(|part| part == v)
        }),
    }
}

pub(super) fn table_effect(
    ctx: &Ctx,
    collection: &str,
    effect: Effect,
    parsed: Parsed,
    fmt: Option<(Fmt, String)>,
) -> Response<Body> {
    let table = &ctx.api.tables[collection];
    let keys = table.key_fields();
    let req = ctx.op.request.as_ref();
    let schema = req
        .and_then(|r| r.schema.as_ref())
        .and_then(|s| ctx.spec().schema(s.get_ref()))
        .or_else(|| ctx.api.collection_schema(collection));
    // Items arrive checked (see `body`); nothing below fails half-way through a write.
    let mut items: Vec<Row> = match parsed {
        Parsed::Items(v) => v,
        // A raw body (a vCard, a file) written to a path-named object is stored as text.
        Parsed::Raw(b) if matches!(effect, Effect::Upsert | Effect::Update | Effect::Create) => {
            match (ctx.params.last(), keys.first()) {
                (Some((_, v)), Some(kf)) => {
                    let mut o = Map::new();
                    o.insert(kf.clone(), Value::String(v.clone()));
                    o.insert(
                        "content".into(),
                        Value::String(String::from_utf8_lossy(&b).into_owned()),
                    );
                    vec![table.row(Value::Object(o))]
                }
                _ => vec![],
            }
        }
        _ => vec![],
    };
    match effect {
        Effect::List | Effect::Query => list(ctx, collection, fmt),
        Effect::Get => {
            let Some(sel) = path_sel(ctx, collection) else {
                return list(ctx, collection, fmt);
            };
            let row = match &sel {
                Sel::Key(k) => table.get(k),
                Sel::Field(..) | Sel::Any(_) => table
                    .snapshot()
                    .iter()
                    .find(|(k, r)| sel_matches(&sel, k, r))
                    .map(|(_, r)| r.clone()),
            };
            match row {
                Some(row) => render_one(ctx, &row.to_value(), fmt),
                None => ctx.not_found(),
            }
        }
        Effect::Create => {
            let Some(mut item) = items.pop().map(|r| r.to_value()) else {
                return ctx.reject("empty body");
            };
            if let Some(s) = schema {
                if !ctx.fault(FaultId::ClientIdsHonoured) {
                    if let Some(o) = item.as_object_mut() {
                        for f in s.field.iter().filter(|f| f.server_assigned) {
                            o.remove(f.name.get_ref());
                        }
                    }
                }
                if let Some(r) = unique_conflict(ctx, collection, s, &item, None) {
                    return r;
                }
            }
            if let Some(r) = dangling(ctx, collection, &item) {
                return r;
            }
            // A create whose URL names the new record (`POST .../entry/{entryId}`) keys it
            // by that name, when the key is the client's to choose.
            let from_path = keys
                .first()
                .filter(|kf| {
                    keys.len() == 1
                        && schema.is_some_and(|s| {
                            s.field
                                .iter()
                                .any(|f| f.name.get_ref() == *kf && !f.server_assigned)
                        })
                })
                .and_then(|kf| ctx.params.last().map(|(_, v)| (kf.clone(), v.clone())));
            if let (Some((kf, v)), Some(o)) = (&from_path, item.as_object_mut()) {
                o.insert(kf.clone(), Value::String(v.clone()));
            }
            // The key is the client's when no key field is server-assigned.
            let key_field =
                |k: &String| schema.and_then(|s| s.field.iter().find(|f| f.name.get_ref() == k));
            let client_key = !keys.is_empty()
                && keys
                    .iter()
                    .all(|k| key_field(k).is_some_and(|f| !f.server_assigned));
            let key = match table.key_of(&item) {
                Some(k) if client_key && from_path.is_none() && table.get(&k).is_some() => {
                    let o = keys
                        .iter()
                        .find_map(|k| key_field(k).and_then(|f| f.on_duplicate.as_ref()))
                        .map(|o| o.get_ref().clone())
                        .unwrap_or(Outcome {
                            status: 409,
                            code: None,
                        });
                    return ctx.outcome(&o, Some("an object with this key exists"));
                }
                Some(k)
                    if ctx.fault(FaultId::ClientIdsHonoured)
                        || from_path.is_some()
                        || client_key =>
                {
                    k
                }
                _ => {
                    let n = table.next_int();
                    if let (Some(o), Some(kf)) = (item.as_object_mut(), keys.first()) {
                        o.insert(kf.clone(), ctx.api.numbered_key(collection, kf, n));
                    }
                    Key::Int(n)
                }
            };
            // Fill documented defaults.
            if let (Some(s), Some(o)) = (schema, item.as_object_mut()) {
                for f in &s.field {
                    if let (Some(d), false) = (&f.default, o.contains_key(f.name.get_ref())) {
                        if let Ok(v) = serde_json::to_value(d) {
                            o.insert(f.name.get_ref().clone(), v);
                        }
                    }
                }
            }
            let row = table.row(item);
            table.update(|rows| rows.insert(key.clone(), row));
            write_ok(
                ctx,
                Some((keys.first().cloned().unwrap_or_else(|| "id".into()), key)),
            )
        }
        Effect::Update => {
            let Some(item) = items.pop() else {
                return ctx.reject("empty body");
            };
            let (key, from_path) = match path_key(ctx) {
                Some(k) => (k, true),
                None => match table.key_of(&item) {
                    Some(k) => (k, false),
                    None => return ctx.reject("no key given"),
                },
            };
            let Some(old) = table.get(&key) else {
                return if from_path {
                    ctx.not_found()
                } else {
                    ctx.reject("no such object")
                };
            };
            let partial = req.and_then(|r| r.completeness) == Some(Completeness::Partial);
            let mut new = if partial {
                old.to_value()
            } else {
                Value::Object(Map::new())
            };
            if let Some(n) = new.as_object_mut() {
                for (k, v) in item.fields() {
                    let v = match (ctx.fault(FaultId::UpdateAppends), old.field(k), v) {
                        // The fault: lists and text grow instead of being replaced.
                        (true, Some(Value::Array(a)), Value::Array(b)) => {
                            Value::Array(a.iter().chain(b).cloned().collect())
                        }
                        (true, Some(Value::String(a)), Value::String(b)) => {
                            Value::String(format!("{a}{b}"))
                        }
                        _ => v.clone(),
                    };
                    n.insert(k.to_string(), v);
                }
                // Keys and server-assigned fields keep their stored values.
                if let Some(s) = ctx.api.collection_schema(collection) {
                    for f in s.field.iter().filter(|f| f.server_assigned || f.key) {
                        match old.field(f.name.get_ref()) {
                            Some(v) => n.insert(f.name.get_ref().clone(), v.clone()),
                            None => n.remove(f.name.get_ref()),
                        };
                    }
                }
            }
            if let Some(s) = ctx.api.collection_schema(collection) {
                if unique_conflict(ctx, collection, s, &new, Some(&key)).is_some() {
                    return ctx.reject("another object already has this value");
                }
            }
            if let Some(r) = dangling(ctx, collection, &new) {
                return r;
            }
            let row = table.row(new);
            table.update(|rows| rows.insert(key, row));
            write_ok(ctx, None)
        }
        Effect::Upsert => {
            if items.is_empty() {
                return ctx.reject("no items");
            }
            let mut keyed = Vec::with_capacity(items.len());
            for (i, it) in items.into_iter().enumerate() {
                match table.key_of(&it) {
                    Some(k) => keyed.push((k, it)),
                    None => return ctx.reject(&format!("item {}: no key", i + 1)),
                }
            }
            table.update(|rows| {
                for (k, it) in keyed {
                    // An update merges into the stored row; a new key is stored as sent.
                    let merged = match rows.get(&k) {
                        Some(old) => old.merged(&it),
                        None => it,
                    };
                    rows.insert(k, merged);
                }
            });
            write_ok(ctx, None)
        }
        Effect::Delete => {
            let targets: Vec<Key> = match path_sel(ctx, collection) {
                Some(Sel::Key(k)) => vec![k],
                Some(sel) => table
                    .snapshot()
                    .iter()
                    .filter(|(k, r)| sel_matches(&sel, k, r))
                    .map(|(k, _)| k.clone())
                    .collect(),
                None => items.iter().filter_map(|it| table.key_of(it)).collect(),
            };
            let from_path = path_key(ctx).is_some();
            if targets.is_empty() {
                return if from_path {
                    ctx.not_found()
                } else {
                    ctx.reject("no key given")
                };
            }
            for k in &targets {
                if table.get(k).is_none() {
                    return if from_path {
                        ctx.not_found()
                    } else {
                        ctx.reject("no such object")
                    };
                }
                if let Some(r) = referenced(ctx, collection, k) {
                    return r;
                }
            }
            table.update(|rows| {
                for k in &targets {
                    rows.remove(k);
                }
            });
            write_ok(ctx, None)
        }
        Effect::Replace => {
            let mut rows = Rows::new();
            for (i, it) in items.into_iter().enumerate() {
                match table.key_of(&it) {
                    Some(k) => {
                        rows.insert(k, it);
                    }
                    None => return ctx.reject(&format!("item {}: no key", i + 1)),
                }
            }
            table.replace(rows);
            write_ok(ctx, None)
        }
        _ => static_answer(ctx, fmt),
    }
}

fn write_ok(ctx: &Ctx, created: Option<(String, Key)>) -> Response<Body> {
    let mut o = ctx.success();
    if ctx.fault(FaultId::SwappedResultCode) && ctx.op.effect == Some(Effect::Update) {
        // Answer with the create operation's success outcome of the same collection.
        let coll = ctx.ep.collection.as_ref().map(|c| c.get_ref());
        if let Some(create) = ctx
            .spec()
            .endpoints()
            .filter(|e| e.collection.as_ref().map(|c| c.get_ref()) == coll)
            .flat_map(|e| e.op.iter())
            .find(|op| op.effect == Some(Effect::Create))
        {
            if let Some(s) = &create.success {
                o = s.get_ref().clone();
            }
        }
    }
    let env = ctx
        .op
        .response
        .as_ref()
        .and_then(|r| r.envelope.as_ref())
        .map(|e| e.get_ref().as_str());
    let data = created.map(|(f, k)| {
        let mut m = Map::new();
        m.insert(if f.is_empty() { "id".into() } else { f }, k.to_value());
        Value::Object(m)
    });
    render::outcome(ctx.spec(), &o, env, None, data)
}

fn unique_conflict(
    ctx: &Ctx,
    collection: &str,
    schema: &Schema,
    item: &Value,
    except: Option<&Key>,
) -> Option<Response<Body>> {
    let table = &ctx.api.tables[collection];
    let keys = ctx.api.key_fields(collection);
    for f in schema.field.iter().filter(|f| f.unique) {
        let Some(v) = item.get(f.name.get_ref()).and_then(scalar_text) else {
            continue;
        };
        let rows = table.snapshot();
        let clash = rows.iter().any(|(k, r)| {
            Some(k) != except
                && Key::of_row(r, keys).as_ref() != except
                && r.field(f.name.get_ref()).and_then(scalar_text).as_deref() == Some(v.as_str())
        });
        if clash {
            let o = f
                .on_duplicate
                .as_ref()
                .map(|o| o.get_ref().clone())
                .unwrap_or(Outcome {
                    status: 409,
                    code: None,
                });
            return Some(ctx.outcome(
                &o,
                Some(&format!("`{}` is already in use", f.name.get_ref())),
            ));
        }
    }
    None
}

fn dangling(ctx: &Ctx, collection: &str, item: &Value) -> Option<Response<Body>> {
    for r in ctx.spec().references() {
        if r.from.get_ref() != collection {
            continue;
        }
        let Some(o) = &r.on_dangling else { continue };
        let Some(v) = item.get(&r.field).and_then(scalar_text) else {
            continue;
        };
        let target = ctx.api.tables.get(r.to.get_ref())?;
        if target.get(&Key::parse(&v)).is_none() {
            let o = if ctx.op.effect == Some(Effect::Update) {
                ctx.op
                    .request
                    .as_ref()
                    .and_then(|q| q.reject.as_ref())
                    .map(|x| x.get_ref().clone())
                    .unwrap_or(o.get_ref().clone())
            } else {
                o.get_ref().clone()
            };
            return Some(ctx.outcome(&o, Some(&format!("`{}` names no existing object", r.field))));
        }
    }
    None
}

fn referenced(ctx: &Ctx, collection: &str, key: &Key) -> Option<Response<Body>> {
    if ctx.fault(FaultId::DeleteReferenced) {
        return None;
    }
    let want = key.to_string();
    for r in ctx.spec().references() {
        if r.to.get_ref() != collection {
            continue;
        }
        let Some(o) = &r.on_delete else { continue };
        let Some(from) = ctx.api.tables.get(r.from.get_ref()) else {
            continue;
        };
        let rows = from.snapshot();
        if rows
            .values()
            .any(|row| row.field(&r.field).and_then(scalar_text).as_deref() == Some(want.as_str()))
        {
            return Some(ctx.outcome(o.get_ref(), Some("the object is still referenced")));
        }
    }
    None
}

/// Items after filtering by query parameters that name schema fields.
fn list(ctx: &Ctx, collection: &str, fmt: Option<(Fmt, String)>) -> Response<Body> {
    let table = &ctx.api.tables[collection];
    let schema = ctx
        .op
        .response
        .as_ref()
        .and_then(|r| r.schema.as_ref())
        .and_then(|s| ctx.spec().schema(s.get_ref()))
        .or_else(|| ctx.api.collection_schema(collection));
    let pagination = ctx
        .op
        .pagination
        .as_ref()
        .and_then(|p| ctx.spec().pagination(p.get_ref()));
    let pag_params: Vec<&String> = pagination
        .map(|p| p.params.values().collect())
        .unwrap_or_default();
    let filters: Vec<(String, String)> = ctx
        .query
        .iter()
        .filter(|(k, _)| !pag_params.contains(&k))
        .filter(|(k, _)| {
            ctx.api
                .collection_schema(collection)
                .is_some_and(|s| s.field.iter().any(|f| f.name.get_ref() == k))
        })
        .cloned()
        .collect();
    let scoped_rows = scoped(ctx, collection, &table.snapshot());
    let filtered = !filters.is_empty() || scoped_rows.is_some() || vendor::has_filter(ctx);
    if pagination.is_some_and(|p| p.style == PaginationStyle::Cursor) && !filtered {
        return cursor_page(ctx, collection, pagination.expect("checked"), schema, fmt);
    }
    let mut rows: Vec<Row> = match scoped_rows {
        Some(r) => r,
        None => table.snapshot().values().cloned().collect(),
    };
    if !filters.is_empty() {
        rows.retain(|r| {
            filters.iter().all(|(k, v)| {
                r.field(k)
                    .and_then(scalar_text)
                    .is_some_and(|x| x.trim() == v.trim())
            })
        });
    }
    if let Some(f) = vendor::row_filter(ctx) {
        match f {
            Ok(pred) => rows.retain(|r| pred(r)),
            Err(msg) => return ctx.reject(&msg),
        }
    }
    let mut meta = Map::new();
    if let Some(p) = pagination {
        match page_slice(ctx, p, &mut rows, &mut meta) {
            Ok(()) => {}
            Err(r) => return r,
        }
    }
    if rows.is_empty() {
        if let Some(r) = empty_answer(ctx, pagination) {
            return r;
        }
    }
    render_many(
        ctx,
        &rows,
        schema,
        Some(meta).filter(|m| !m.is_empty()),
        fmt,
    )
}

pub(super) fn empty_answer(ctx: &Ctx, pagination: Option<&Pagination>) -> Option<Response<Body>> {
    if ctx.fault(FaultId::EmptyAs200) {
        return None;
    }
    if let (Some(e), false) = (
        pagination.and_then(|p| p.empty.as_ref()),
        ctx.fault(FaultId::EmptyAs200),
    ) {
        return Some(ctx.outcome(e.get_ref(), None));
    }
    // An operation with an "empty" result code answers it for an empty result.
    let code = ctx
        .op
        .codes
        .iter()
        .filter_map(|c| ctx.spec().code(c.get_ref()))
        .find(|c| c.class == CodeClass::Empty)?;
    let o = Outcome {
        status: code.status,
        code: Some(code.id.get_ref().clone()),
    };
    Some(ctx.outcome(&o, None))
}

pub(super) fn invalid_paging(ctx: &Ctx, p: &Pagination, msg: &str) -> Response<Body> {
    if ctx.fault(FaultId::BadCursor500) {
        return render::raw(
            500,
            Some("text/html"),
            b"<h1>Internal Server Error</h1>".to_vec(),
        );
    }
    match &p.invalid {
        Some(o) => ctx.outcome(o.get_ref(), Some(msg)),
        None => ctx.reject(msg),
    }
}

/// Page, rows and offset styles: cut `rows` down to the requested window.
fn page_slice(
    ctx: &Ctx,
    p: &Pagination,
    rows: &mut Vec<Row>,
    meta: &mut Map<String, Value>,
) -> Result<(), Response<Body>> {
    let total = rows.len();
    let first = p.first_index.unwrap_or(0) as usize;
    let req =
        paging::parse(p, &ctx.query, PageKind::Window).map_err(|e| invalid_paging(ctx, p, &e.0))?;
    let (offset, size) = match p.style {
        PaginationStyle::Page => {
            let size = req.effective_limit(p, false);
            let page = req.page.map_or(0, |n| n - first);
            match size {
                Some(s) => (page.saturating_mul(s), Some(s)),
                None => (0, None),
            }
        }
        PaginationStyle::Rows => {
            let start = req.start.unwrap_or(first);
            let off = start.saturating_sub(first);
            (off, req.end.map(|e| e.saturating_sub(start)))
        }
        PaginationStyle::Offset | PaginationStyle::Cursor => {
            let start = req.start.unwrap_or(first);
            (start.saturating_sub(first), req.effective_limit(p, false))
        }
    };
    let size = size.map(|s| p.max_limit.map_or(s, |m| s.min(m as usize)));
    let size = if ctx.fault(FaultId::LimitIgnored) {
        size.map(|_| 1000)
    } else {
        size
    };
    let end = size.map_or(total, |s| offset.saturating_add(s).min(total));
    let window: Vec<_> = if offset >= total {
        vec![]
    } else {
        rows[offset..end].to_vec()
    };
    *rows = window;
    let page_size = size.unwrap_or(total.max(1));
    for (k, path) in &p.fields {
        let v = match k.as_str() {
            "total" => Value::from(total),
            "page" => Value::from((offset / page_size.max(1)).saturating_add(first)),
            "pages" => Value::from(total.div_ceil(page_size.max(1))),
            "size" if p.style == PaginationStyle::Page => Value::from(page_size),
            "size" => Value::from(total),
            "start" => Value::from(offset.saturating_add(first)),
            "end" => Value::from(
                offset
                    .saturating_add(rows.len())
                    .saturating_sub(1)
                    .saturating_add(first),
            ),
            _ => continue,
        };
        render::set_path(meta, path, v);
    }
    Ok(())
}

/// A cursor page straight from the ordered table: cost grows with the page, not the table.
fn cursor_page(
    ctx: &Ctx,
    collection: &str,
    p: &Pagination,
    schema: Option<&Schema>,
    fmt: Option<(Fmt, String)>,
) -> Response<Body> {
    let table = &ctx.api.tables[collection];
    let sentinel = p.sentinel.unwrap_or(-1);
    let req = match paging::parse(p, &ctx.query, PageKind::Cursor) {
        Ok(r) => r,
        Err(e) => return invalid_paging(ctx, p, &e.0),
    };
    let after = req.after.map(Key::Int);
    let before = req.before.map(Key::Int);
    let limit = req.effective_limit(p, false).unwrap_or(usize::MAX);
    let limit = p.max_limit.map_or(limit, |m| limit.min(m as usize));
    let limit = if ctx.fault(FaultId::LimitIgnored) {
        1000
    } else {
        limit
    };
    let at_sentinel = |k: &Option<Key>| *k == Some(Key::Int(sentinel));
    let mut page = if at_sentinel(&after) || at_sentinel(&before) {
        table.page_after(Some(&Key::Int(i64::MAX)), 0)
    } else if let Some(b) = &before {
        table.page_before(b, limit)
    } else {
        let skip = after.is_some() && ctx.fault(FaultId::CursorSkipsItem);
        let mut pg = table.page_after(after.as_ref(), limit + usize::from(skip));
        if skip && !pg.items.is_empty() {
            pg.items.remove(0);
            pg.keys.remove(0);
            pg.more_before = true;
        }
        pg
    };
    if page.items.is_empty() {
        if let Some(r) = empty_answer(ctx, Some(p)) {
            return r;
        }
    }
    let end_mark = if ctx.fault(FaultId::MissingSentinel) {
        0
    } else {
        sentinel
    };
    // The cursor of each end: the key of the item there, or the sentinel when nothing lies
    // beyond it.
    let cursor = |more: bool, k: Option<&Key>| match (more, k) {
        (true, Some(k)) => k.to_value(),
        _ => Value::from(end_mark),
    };
    let prev = cursor(page.more_before, page.keys.first());
    let next = cursor(page.more_after, page.keys.last());
    let mut meta = Map::new();
    for (k, path) in &p.fields {
        match k.as_str() {
            "prev" | "start" => render::set_path(&mut meta, path, prev.clone()),
            "next" | "end" => render::set_path(&mut meta, path, next.clone()),
            _ => {}
        }
    }
    let items = std::mem::take(&mut page.items);
    render_many(ctx, &items, schema, Some(meta), fmt)
}

fn render_one(ctx: &Ctx, row: &Value, fmt: Option<(Fmt, String)>) -> Response<Body> {
    let resp = ctx.op.response.as_ref();
    let schema = resp
        .and_then(|r| r.schema.as_ref())
        .and_then(|s| ctx.spec().schema(s.get_ref()));
    let (f, ct) = fmt.unwrap_or((Fmt::Json, "application/json".into()));
    let status = ctx.success().status;
    let wrapper = resp.and_then(|r| r.wrapper.clone());
    let body = match f {
        Fmt::Xml => {
            let root = wrapper.unwrap_or_else(|| render::item_name(schema));
            codec::to_xml(&root, row).into_bytes()
        }
        Fmt::Csv => codec::to_csv(
            &render::csv_columns(schema, Some(row)),
            std::slice::from_ref(row),
        )
        .into_bytes(),
        _ => {
            let v = match wrapper {
                Some(w) => serde_json::json!({ w: row }),
                None => row.clone(),
            };
            serde_json::to_vec(&v).unwrap_or_default()
        }
    };
    render::raw(status, Some(&ct), body)
}

fn render_many(
    ctx: &Ctx,
    rows: &[Row],
    schema: Option<&Schema>,
    meta: Option<Map<String, Value>>,
    fmt: Option<(Fmt, String)>,
) -> Response<Body> {
    let resp = ctx.op.response.as_ref();
    let (f, ct) = fmt.unwrap_or((Fmt::Json, "application/json".into()));
    let success = ctx.success();
    let item = render::item_name(schema);
    let items_path = ctx
        .op
        .pagination
        .as_ref()
        .and_then(|p| ctx.spec().pagination(p.get_ref()))
        .and_then(|p| p.fields.get("items").cloned());
    let wrapper = resp.and_then(|r| r.wrapper.clone());
    let array = || Value::Array(rows.iter().map(Row::to_value).collect());
    // Envelope with a data path (result code + rows).
    if let Some(env) = resp
        .and_then(|r| r.envelope.as_ref())
        .and_then(|n| ctx.spec().envelope(n.get_ref()))
    {
        if env.data_path.is_some() && matches!(env.format, BodyFormat::Json | BodyFormat::Xml) {
            let code = success.code.as_deref().and_then(|c| ctx.spec().code(c));
            let cv = code.map(|c| c.value.clone().unwrap_or_else(|| c.id.get_ref().clone()));
            let msg = code
                .and_then(|c| c.message.clone())
                .unwrap_or_else(|| "OK".into());
            let body =
                render::envelope_body(env, cv.as_deref(), &msg, success.status, Some(array()));
            return render::raw(success.status, Some(&env.content_type), body);
        }
    }
    let body = match f {
        Fmt::Csv => {
            let values: Vec<Value> = rows.iter().map(Row::to_value).collect();
            codec::to_csv(&render::csv_columns(schema, values.first()), &values).into_bytes()
        }
        Fmt::Xml => {
            let mut obj = meta.unwrap_or_default();
            let list = serde_json::json!({ item.clone(): array() });
            match (&items_path, &wrapper) {
                (Some(p), _) => {
                    render::set_path(&mut obj, p, list);
                    codec::to_xml(
                        wrapper.as_deref().unwrap_or("response"),
                        &Value::Object(obj),
                    )
                }
                (None, Some(w)) if !obj.is_empty() => {
                    obj.insert(w.clone(), list);
                    codec::to_xml(&item, &Value::Object(obj))
                }
                (None, Some(w)) => codec::to_xml(w, &list),
                (None, None) if !obj.is_empty() => {
                    obj.insert(item.clone(), array());
                    codec::to_xml(&format!("{item}s"), &Value::Object(obj))
                }
                (None, None) => codec::to_xml(&format!("{item}s"), &list),
            }
            .into_bytes()
        }
        _ => {
            let mut obj = meta.unwrap_or_default();
            let v = match (&items_path, &wrapper) {
                (Some(p), _) => {
                    render::set_path(&mut obj, p, array());
                    Value::Object(obj)
                }
                (None, Some(w)) => {
                    obj.insert(w.clone(), array());
                    Value::Object(obj)
                }
                (None, None) if obj.is_empty() => array(),
                (None, None) => {
                    obj.insert("items".into(), array());
                    Value::Object(obj)
                }
            };
            serde_json::to_vec(&v).unwrap_or_default()
        }
    };
    render::raw(success.status, Some(&ct), body)
}
