//! Mediant's vendor module.
//!
//! * The `authToken` action (web log-in, not REST) issues a random token that expires
//!   after the request's `sessionTimeout` seconds (default 180); the control interface
//!   asks whether a token is still live.
//! * The KPI tree of `[data.kpi]` is served by [`kpi_tree`], which reads request paths
//!   with the KPI path grammar of [`kpi_path`].

pub mod kpi_path;
mod kpi_tree;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Response;
use parking_lot::Mutex;

use super::VendorModule;
use crate::emulator::engine::ctx::{Ctx, Parsed};
use crate::emulator::render;
use crate::emulator::store::Fields;
use crate::emulator::EmulatorError;
use crate::spec::Spec;
use kpi_tree::KpiData;

/// The Mediant module: its KPI tree, and the tokens it has issued.
pub(super) struct Mediant {
    /// `[data.kpi]`, when the spec has one.
    kpi: Option<KpiData>,
    /// Issued tokens: token -> expiry.
    tokens: Mutex<HashMap<String, Instant>>,
}

impl Mediant {
    pub(super) fn new(spec: &Spec) -> Result<Mediant, EmulatorError> {
        let kpi = match spec.data("kpi") {
            Some(v) => {
                Some(
                    KpiData::from_toml(v, spec).map_err(|message| EmulatorError::Data {
                        api: spec.name().to_string(),
                        name: "kpi".into(),
                        message,
                    })?,
                )
            }
            None => None,
        };
        Ok(Mediant {
            kpi,
            tokens: Mutex::new(HashMap::new()),
        })
    }
}

impl VendorModule for Mediant {
    /// The auth-token action: a fresh token, answered directly.
    fn before_effect(&self, ctx: &Ctx, parsed: &Parsed) -> Option<Response<Body>> {
        let is_token = ctx
            .op
            .response
            .as_ref()
            .and_then(|r| r.schema.as_ref())
            .is_some_and(|s| s.get_ref() == "auth-token-response");
        if !is_token {
            return None;
        }
        let timeout = match parsed {
            Parsed::Items(items) => items
                .first()
                .and_then(|i| i.field("sessionTimeout"))
                .and_then(|v| v.as_u64())
                .unwrap_or(180),
            _ => 180,
        };
        let token = random_hex();
        {
            let mut tokens = self.tokens.lock();
            let now = Instant::now();
            tokens.retain(|_, exp| *exp > now);
            // A timeout past what a clock can hold (`sessionTimeout` is a 64-bit integer)
            // is a token that does not expire in practice; adding it would overflow.
            let expires = now
                .checked_add(Duration::from_secs(timeout))
                .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600));
            tokens.insert(token.clone(), expires);
        }
        let success = ctx.success();
        let msg = success
            .code
            .as_deref()
            .and_then(|c| ctx.spec().code(c))
            .and_then(|c| c.message.clone())
            .unwrap_or_else(|| "Authentication token successfully generated".into());
        let body = serde_json::json!({ "authToken": token, "description": msg });
        Some(render::raw(
            success.status,
            Some("application/json"),
            serde_json::to_vec(&body).unwrap_or_default(),
        ))
    }

    fn static_answer(&self, ctx: &Ctx) -> Option<Response<Body>> {
        kpi_tree::answer(ctx, self.kpi.as_ref()?)
    }

    fn token_live(&self, token: &str) -> bool {
        self.tokens
            .lock()
            .get(token)
            .is_some_and(|exp| *exp > Instant::now())
    }

    fn tokens_held(&self) -> usize {
        self.tokens.lock().len()
    }

    fn reset(&self) {
        self.tokens.lock().clear();
    }
}

fn random_hex() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::new();
    for _ in 0..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}
