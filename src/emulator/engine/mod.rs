//! The request pipeline shared by every API.
//!
//! 1. Control requests (under [`CONTROL_PREFIX`]) go to `control`.
//! 2. The API is chosen by the longest base path that prefixes the request path.
//! 3. The spec's precedence checks run in the spec's order; the first that fails answers.
//! 4. The body is read (with the documented limit), parsed, validated as a whole, and only
//!    then applied: a rejected request never changes anything.
//!
//! This file is the pipeline itself; each step lives in its own file and reads the
//! request through [`ctx::Ctx`].

#![allow(clippy::result_large_err)] // early answers travel as `Err(Response)`

mod act;
mod auth;
pub(super) mod ctx;
mod effect;
pub(in crate::emulator) use effect::named_record;
mod fixed;
mod jobs;
mod list;
mod names;
mod negotiate;
mod owned;
mod records;
pub(super) mod route;
mod settings;
mod spoil;
mod state;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, Method, Request, Response};
use toml::Spanned;

use super::body::{large_turn, parse_body};
use super::faults::FaultId;
use super::render::{self, Fmt};
use super::{control, ApiEmu, Emulator, CONTROL_PREFIX};
use crate::spec::model::{CellRule, Check, Effect, Endpoint, Operation, Outcome, Role};
use crate::spec::Spec;
use auth::{credentials, with_auth_challenge, Caller};
use ctx::{finish_error, Ctx, Parsed};
use negotiate::{invalid_query_value, negotiate, read_body};
use route::{api_for_path, parse_query};
use state::{blocking_state, state_case};

/// The endpoint the `skip-privilege-check` fault leaves open: the first whose operations
/// need more than the lowest role.
fn first_restricted_endpoint(spec: &Spec) -> Option<&str> {
    let lowest = *spec.roles_by_rank().first()?;
    spec.endpoints()
        .find(|ep| ep.op.iter().any(|op| !spec.allows(op, lowest)))
        .map(|ep| ep.id.get_ref().as_str())
}

pub(super) async fn entry(State(emu): State<Arc<Emulator>>, req: Request<Body>) -> Response<Body> {
    handle(&emu, req).await
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
    let Some((api, routed)) = api_for_path(emu, &path) else {
        return generic_not_found();
    };
    let spec = &api.spec;
    let m = spec.matrix();
    let method = if parts.method == Method::HEAD {
        "GET".to_string()
    } else {
        parts.method.as_str().to_string()
    };
    let op = routed.as_ref().and_then(|(ep, _)| ep.operation(&method));
    let caller = credentials(api, &parts.headers, &emu.faults);
    let role = match caller {
        Caller::Role(i) => spec.role(&api.accounts[i].role),
        _ => None,
    };
    let ep = routed.as_ref().map(|(ep, _)| *ep);
    if let Some(r) = precedence(emu, api, ep, op, caller, role, &path) {
        return r;
    }
    // Every check before `state` passed; an endpoint and an op exist unless the spec's
    // precedence omits route or method, in which case they answer here.
    let Some((ep, params)) = routed else {
        return route_miss(emu, api, &path);
    };
    let Some(op) = op else {
        return early(emu, api, &m.method_not_allowed);
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
    let resp = spoil::spoil(&ctx, after_checks(&ctx, body).await).await;
    if parts.method == Method::HEAD {
        let (p, _) = resp.into_parts();
        return Response::from_parts(p, Body::empty());
    }
    resp
}

/// The spec's precedence checks before `state`, in the spec's order: the answer of the
/// first that fails, if one does. `ep` is the matched endpoint, `op` its operation for
/// the request's method.
fn precedence(
    emu: &Emulator,
    api: &ApiEmu,
    ep: Option<&Endpoint>,
    op: Option<&Operation>,
    caller: Caller,
    role: Option<&Role>,
    path: &str,
) -> Option<Response<Body>> {
    let spec = &api.spec;
    let m = spec.matrix();
    for check in m.precedence.get_ref() {
        match check {
            Check::Route => {
                if ep.is_none() {
                    return Some(route_miss(emu, api, path));
                }
            }
            Check::Auth => {
                let public = op.is_some_and(|o| o.public);
                if role.is_none() && !public {
                    let auth = spec.auth();
                    let o = match caller {
                        Caller::Missing => &auth.missing,
                        Caller::UnknownUser => auth.unknown_user.as_ref().unwrap_or(&auth.invalid),
                        _ => &auth.invalid,
                    };
                    return Some(bare(emu, api, o.get_ref(), None));
                }
            }
            Check::Method => {
                if let (Some(ep), None) = (ep, op) {
                    if emu.faults.on(FaultId::NotFoundForMethod) {
                        return Some(early(emu, api, &m.not_found));
                    }
                    let c = &m.method_not_allowed;
                    let mut r = early(emu, api, c);
                    if c.allow_header && !emu.faults.on(FaultId::NoAllowHeader) {
                        let allow: Vec<&str> =
                            ep.op.iter().map(|o| o.method.get_ref().as_str()).collect();
                        if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
                            r.headers_mut().insert(header::ALLOW, v);
                        }
                    }
                    return Some(r);
                }
            }
            Check::Role => {
                if let (Some(op), Some(r), Some(ep)) = (op, role, ep) {
                    let skip = emu.faults.on(FaultId::SkipPrivilegeCheck)
                        && first_restricted_endpoint(spec) == Some(ep.id.get_ref().as_str());
                    if !spec.allows(op, r) && !skip {
                        let c = op.forbidden.as_ref().unwrap_or(&m.forbidden);
                        return Some(early(emu, api, c));
                    }
                }
            }
            Check::State | Check::Validation => {}
        }
    }
    None
}

/// The answer of a failed check: its expected outcome, in its envelope.
/// The answer for a path no endpoint matches: `[matrix].unknown_leaf` when the path's parent
/// holds documented paths (its message naming the unknown segment), else `not_found`.
fn route_miss(emu: &Emulator, api: &ApiEmu, path: &str) -> Response<Body> {
    let spec = &api.spec;
    let leaf = spec.matrix().unknown_leaf.as_ref().and_then(|rule| {
        let (parent, leaf) = path.rsplit_once('/')?;
        let dir = format!("{parent}/");
        let known_dir = !leaf.is_empty()
            && !spec.api().bases.values().any(|b| b == parent)
            && spec
                .endpoints()
                .any(|e| spec.full_path(e).starts_with(&dir));
        known_dir.then_some((rule, leaf))
    });
    let Some((rule, leaf)) = leaf else {
        return early(emu, api, &spec.matrix().not_found);
    };
    let value = |_: &str| Some(leaf.to_string());
    let env = rule.envelope.as_ref().map(|e| e.get_ref().as_str());
    let r = render::outcome_filled(spec, rule.expect.get_ref(), env, None, None, &value);
    with_auth_challenge(api, finish_error(emu, r))
}

fn early(emu: &Emulator, api: &ApiEmu, c: &CellRule) -> Response<Body> {
    bare(emu, api, c.expect.get_ref(), c.envelope.as_ref())
}

/// An answer before the request reaches its operation: the outcome in `env` (else its
/// code's or the API's envelope), with the Basic challenge on a 401.
fn bare(
    emu: &Emulator,
    api: &ApiEmu,
    o: &Outcome,
    env: Option<&Spanned<String>>,
) -> Response<Body> {
    let env = env.map(|e| e.get_ref().as_str());
    with_auth_challenge(
        api,
        finish_error(emu, render::outcome(&api.spec, o, env, None, None)),
    )
}

/// The steps after the precedence checks: state cases and blocking states, negotiation,
/// the body, the vendor module's check, required query parameters, then the effect.
async fn after_checks(ctx: &Ctx<'_>, body: Body) -> Response<Body> {
    if let Some(c) = state_case(ctx) {
        return ctx.outcome(c.outcome.get_ref(), None);
    }
    let state = blocking_state(ctx);
    // A state whose outcome is the operation's own success enables the operation (the
    // redundant unit's debug file exists only in an HA pair): it runs as usual.
    let state = state.filter(|st| {
        let o = st.outcome.get_ref();
        !(o.status < 300 && *o == ctx.success())
    });
    if let Some(st) = state {
        if st.applies_change != Some(true) {
            return ctx.outcome(st.outcome.get_ref(), Some(&st.description));
        }
    }
    if let Some(r) = invalid_query_value(ctx) {
        return r;
    }
    let fmt = match negotiate(ctx) {
        Ok(f) => f,
        Err(r) => return r,
    };
    if let Some(r) = effect::update_of_nothing(ctx) {
        return r;
    }
    let turn = large_turn(&body).await;
    let body = match read_body(ctx, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let parsed = match parse_body(ctx, &body, turn).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Some(r) = ctx.api.vendor.before_effect(ctx, &parsed) {
        return r;
    }
    let empty = ctx.params.iter().find(|(_, v)| v.is_empty());
    if let Some(o) = empty.and_then(|(n, _)| ctx.ep.params.get(n)?.spec().empty) {
        return ctx.outcome(&o, Some("a path parameter is empty"));
    }
    if let Some(r) = invalid_param(ctx) {
        return r;
    }
    if let Some(r) = names::unknown(ctx) {
        return r;
    }
    if let Some(missing) = ctx
        .op
        .query
        .iter()
        .find(|(name, p)| p.required() && ctx.query(name).is_none())
    {
        let message = format!("missing query parameter `{}`", missing.0);
        return match missing.1.spec().missing {
            Some(o) => ctx.outcome(&o, Some(&message)),
            None => ctx.reject(&message),
        };
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

/// The answer to a path parameter the device checks (`invalid`) whose value is not of its
/// type, not one of its `enum`, shorter than its `min_len` or unlike its `pattern`.
fn invalid_param(ctx: &Ctx<'_>) -> Option<Response<Body>> {
    use crate::spec::model::FieldType;
    ctx.params.iter().find_map(|(name, v)| {
        let p = ctx.ep.params.get(name)?.spec();
        let o = p.invalid.as_ref()?;
        let typed = match p.ty {
            FieldType::Digits => !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()),
            FieldType::Integer => v.parse::<i64>().is_ok(),
            FieldType::Boolean => v == "true" || v == "false",
            _ => true,
        };
        let listed = p.enum_values.is_empty()
            || p.enum_values
                .iter()
                .any(|e| e.as_str().map_or(e.to_string() == *v, |s| s == v));
        let long = p.min_len.is_none_or(|m| v.chars().count() >= m);
        let like = p
            .pattern
            .as_ref()
            .is_none_or(|pat| crate::pattern::matches_whole(pat, v));
        (!(typed && listed && long && like))
            .then(|| ctx.outcome(o, Some(&format!("`{name}` is not a valid value"))))
    })
}

/// Whether the request names a record of `collection` by its one path parameter and no
/// such record is stored. (With more parameters, which one is the record's key is not
/// said: a copy's target, a period's index.)
fn missing_record(ctx: &Ctx<'_>, collection: &str) -> bool {
    let Some(table) = ctx.api.tables.get(collection) else {
        return false;
    };
    let scope = ctx
        .spec()
        .collection(collection)
        .and_then(|c| c.scope_param.clone());
    let named = ctx
        .params
        .iter()
        .filter(|(k, _)| Some(k) != scope.as_ref())
        .count();
    if named != 1 {
        return false;
    }
    match ctx::path_key(ctx) {
        Some(k) => table.get(&k).is_none(),
        None => false,
    }
}

/// Apply the operation's effect.
async fn apply(ctx: &Ctx<'_>, parsed: Parsed, fmt: Option<(Fmt, String)>) -> Response<Body> {
    if let Some(tree) = &ctx.ep.settings {
        if let Some(r) = settings::answer(ctx, tree, &parsed, fmt.clone()) {
            return r;
        }
    }
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
    // An `owned` endpoint acts on the caller's records only.
    let parsed = match coll.filter(|c| ctx.api.tables.contains_key(*c)) {
        Some(c) if ctx.ep.owned.is_some() => match owned::before(ctx, c, effect, parsed, &fmt) {
            Ok(p) => p,
            Err(r) => return r,
        },
        _ => parsed,
    };
    if effect == Effect::Action {
        if let Some(r) = act::record_action(ctx) {
            return r;
        }
    }
    // An upload recorded in the collection (a prompt file by name) adds its record.
    if let (Effect::Upload, Parsed::Items(items), Some(t)) = (effect, &parsed, ctx.table()) {
        t.update(|rows| {
            for it in items {
                if let Some(k) = t.key_of(it) {
                    rows.insert(k, it.clone());
                }
            }
        });
    }
    match (coll, table_effect) {
        (Some(c), true) if ctx.api.tables.contains_key(c) => {
            effect::table_effect(ctx, c, effect, parsed, fmt)
        }
        // A sub-resource of a record (a TLS context's private key) exists only while the
        // record does.
        // (An `owned` endpoint's record was looked up before: see `owned`.)
        (Some(c), false) if ctx.ep.owned.is_none() && missing_record(ctx, c) => ctx.not_found(),
        _ => match effect {
            Effect::JobStart => jobs::start(ctx),
            Effect::JobPoll => jobs::poll(ctx),
            _ => fixed::static_answer(ctx, fmt),
        },
    }
}
