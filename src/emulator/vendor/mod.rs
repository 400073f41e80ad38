//! What the spec language cannot say yet, per API family, behind one seam.
//!
//! An API's `api.vendor_module` names its module; [`select`] picks it once, when the
//! emulator is built, and the engine calls it through [`VendorModule`] at fixed points of
//! the pipeline. An API without a module, or naming one not listed here (sipXconfig),
//! gets [`Plain`]: nothing but spec behaviour.
//!
//! * `rome` ([`rome`]): the `queryString` filter grammar of the query commands.
//! * `mediant` ([`mediant`]): the short-lived auth token, and the KPI tree of `[data.kpi]`.

pub(crate) mod mediant;
pub(crate) mod rome;

use axum::body::Body;
use axum::http::Response;

use super::engine::ctx::{Ctx, Parsed};
use super::store::Row;
use super::EmulatorError;
use crate::spec::Spec;

/// A row filter a vendor module reads from the request.
pub(super) type RowPred = Box<dyn Fn(&Row) -> bool>;

/// The hooks a vendor module can fill; each defaults to "nothing to add".
pub(super) trait VendorModule: Send + Sync {
    /// Whether the request carries a vendor filter, so that a list cannot be served
    /// straight from a cursor over the whole table.
    fn has_filter(&self, _ctx: &Ctx) -> bool {
        false
    }

    /// A row filter from the request, or the message of a rejected filter.
    fn row_filter(&self, _ctx: &Ctx) -> Option<Result<RowPred, String>> {
        None
    }

    /// An answer that must come before the effect runs (after the body is checked).
    fn before_effect(&self, _ctx: &Ctx, _parsed: &Parsed) -> Option<Response<Body>> {
        None
    }

    /// The answer of an operation without a table, where the module serves it from data.
    fn static_answer(&self, _ctx: &Ctx) -> Option<Response<Body>> {
        None
    }

    /// Whether a token the module issued is still live (for the control interface).
    fn token_live(&self, _token: &str) -> bool {
        false
    }

    /// How many issued tokens the module holds (part of the API's fingerprint).
    fn tokens_held(&self) -> usize {
        0
    }

    /// Forget what the module holds, as the device state is reset.
    fn reset(&self) {}
}

/// No vendor module: the spec says everything.
struct Plain;

impl VendorModule for Plain {}

/// The module `spec` names, with its data read.
pub(super) fn select(spec: &Spec) -> Result<Box<dyn VendorModule>, EmulatorError> {
    Ok(match spec.api().vendor_module.as_deref() {
        Some("rome") => Box::new(rome::Rome),
        Some("mediant") => Box::new(mediant::Mediant::new(spec)?),
        _ => Box::new(Plain),
    })
}
