//! The control interface, under [`CONTROL_PREFIX`] on the emulator's own port. The
//! requests are [`crate::contract::Control`], which the runner builds.
//!
//! | request | effect |
//! |---|---|
//! | `GET /_dialtone` | APIs, accounts' roles, active states, faults, collection sizes (JSON) |
//! | `PUT /_dialtone/{api}/states/{state}` | enter a device state |
//! | `DELETE /_dialtone/{api}/states/{state}` | leave it |
//! | `POST /_dialtone/{api}/collections/{name}/generate?count=N` | replace the rows with N generated ones |
//! | `PUT /_dialtone/{api}/collections/{name}` | replace the rows with a JSON array of objects |
//! | `GET /_dialtone/{api}/collections/{name}` | `{"count": N}` |
//! | `GET /_dialtone/{api}/tokens/{token}` | `{"live": bool}` for a token from a vendor hook |
//! | `POST /_dialtone/reset` | seed data back, every state left |
//!
//! Answers are JSON; errors are `{"error": "..."}` with a 4xx status.

use axum::body::Body;
use axum::http::{request::Parts, Response};
use serde_json::{json, Value};

use super::{faults, render, ApiEmu, Emulator};
use crate::contract::{Control, NotControl, CONTROL_PREFIX};

/// Control bodies may be large (a seeded table), but not unbounded.
const CONTROL_MAX_BODY: usize = 1 << 30;

fn answer(status: u16, v: Value) -> Response<Body> {
    render::raw(
        status,
        Some("application/json"),
        serde_json::to_vec(&v).unwrap_or_default(),
    )
}

fn error(status: u16, msg: impl Into<String>) -> Response<Body> {
    answer(status, json!({ "error": msg.into() }))
}

pub(super) async fn handle(emu: &Emulator, parts: &Parts, body: Body) -> Response<Body> {
    let request = Control::parse(parts.method.as_str(), parts.uri.path(), parts.uri.query());
    let c = match request {
        Ok(c) => c,
        Err(NotControl::CollectionMethod) => {
            return error(405, "collections take GET, PUT, or POST .../generate")
        }
        Err(NotControl::Unknown) => {
            return error(
                404,
                format!("unknown control request; see `GET {CONTROL_PREFIX}`"),
            )
        }
    };
    let api = match c.api() {
        None => None,
        Some(name) => match emu.api(name) {
            Some(a) => Some(a),
            None => return error(404, format!("no API `{name}` is served here")),
        },
    };
    match (c, api) {
        (Control::Overview, _) => answer(200, overview(emu)),
        (Control::Reset, _) => match emu.reset() {
            Ok(()) => answer(200, json!({ "reset": true })),
            Err(e) => error(500, e.to_string()),
        },
        (Control::EnterState { api, state } | Control::LeaveState { api, state }, Some(a)) => {
            let enter = matches!(c, Control::EnterState { .. });
            if a.set_state(state, enter) {
                answer(200, json!({ "api": api, "states": a.states() }))
            } else {
                let known: Vec<String> =
                    a.spec.states().map(|s| s.name.get_ref().clone()).collect();
                error(
                    404,
                    format!("{api} has no state `{state}`; states: {}", known.join(", ")),
                )
            }
        }
        (Control::TokenLive { token, .. }, Some(a)) => {
            answer(200, json!({ "live": a.vendor.token_live(token) }))
        }
        (c, Some(a)) => collection(emu, a, c, body).await,
        (_, None) => error(404, "unknown control request"),
    }
}

/// The collection requests: count, load, generate.
async fn collection(emu: &Emulator, a: &ApiEmu, c: Control<'_>, body: Body) -> Response<Body> {
    let (api, name) = match c {
        Control::CountRows { api, collection }
        | Control::LoadRows { api, collection }
        | Control::Generate {
            api, collection, ..
        } => (api, collection),
        _ => return error(404, "unknown control request"),
    };
    if a.table(name).is_none() {
        let known: Vec<&String> = a.tables.keys().collect();
        return error(
            404,
            format!("{api} has no collection `{name}`; collections: {known:?}"),
        );
    }
    match c {
        Control::CountRows { .. } => {
            answer(200, json!({ "count": a.table(name).map(|t| t.len()) }))
        }
        Control::Generate { count, .. } => {
            let Some(n) = count else {
                return error(400, "generate needs ?count=N with N a whole number");
            };
            let cap = a.generate_cap(name).unwrap_or(0);
            if n > cap {
                return error(
                    400,
                    format!(
                        "count {n} is above the {cap} rows of `{name}` that fit in the {} MiB \
                         the emulator allows generated data",
                        crate::emulator::tables::GENERATED_MEMORY >> 20
                    ),
                );
            }
            a.generate(name, n);
            answer(200, json!({ "count": n }))
        }
        _ => {
            let bytes = match emu.read_limited(body, CONTROL_MAX_BODY).await {
                Ok(b) => b,
                Err(crate::emulator::BodyRead::TooLarge) => {
                    return error(413, format!("body over {CONTROL_MAX_BODY} bytes"))
                }
                Err(crate::emulator::BodyRead::TooSlow(d)) => {
                    return error(408, format!("body not received within {} s", d.as_secs()))
                }
                Err(crate::emulator::BodyRead::Broken(e)) => {
                    return error(400, format!("body: {e}"))
                }
            };
            let items: Vec<Value> = match serde_json::from_slice(&bytes) {
                Ok(Value::Array(a)) => a,
                Ok(_) => return error(400, "expected a JSON array of objects"),
                Err(e) => return error(400, format!("body: {e}")),
            };
            match a.load_rows(name, items) {
                Ok(n) => answer(200, json!({ "count": n })),
                Err(e) => error(400, e),
            }
        }
    }
}

fn overview(emu: &Emulator) -> Value {
    let apis: Vec<Value> = emu
        .apis()
        .map(|a| {
            let collections: serde_json::Map<String, Value> = a
                .tables
                .iter()
                .map(|(k, t)| (k.clone(), json!(t.len())))
                .collect();
            json!({
                "name": a.name(),
                "bases": a.spec.api().bases,
                "roles": a.accounts().iter().map(|x| x.role.clone()).collect::<Vec<_>>(),
                "states": a.spec.states().map(|s| s.name.get_ref().clone()).collect::<Vec<_>>(),
                "active_states": a.states(),
                "collections": collections,
            })
        })
        .collect();
    let faults: Vec<&str> = emu.faults().iter().map(|f| f.info().name).collect();
    json!({ "apis": apis, "faults": faults, "catalogue": faults::CATALOGUE.len() })
}
