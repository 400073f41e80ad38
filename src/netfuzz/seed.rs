//! The starting requests: one per operation, built from the runner's samples
//! (`crate::sample`) and sent as a role the operation allows, with what the operation
//! takes (its [`Shape`]) so that mutations fit it.

use super::mutate::{Draft, Piece, Shape};
use crate::runner::Session;
use crate::spec::model::{Endpoint, Operation, Safety};
use crate::spec::Spec;

/// Methods the fuzzer sends against the emulator; against a device, only the safe ones.
const ALL_METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "DIALTONE",
];
const SAFE_METHODS: [&str; 3] = ["GET", "HEAD", "OPTIONS"];

/// One operation's starting request.
#[derive(Debug, Clone)]
pub(super) struct Seed {
    pub(super) endpoint: String,
    pub(super) method: String,
    pub(super) role: String,
    pub(super) draft: Draft,
    pub(super) shape: Shape,
    /// Base name of the endpoint, for the saved case.
    pub(super) base: Option<String>,
    pub(super) base_path: String,
    pub(super) read: bool,
    pub(super) source: String,
    /// On a device with `--allow write`: the own object a write seed creates or changes.
    pub(super) own: Option<super::own::OwnSeed>,
}

/// Why an operation is not fuzzed.
#[derive(Debug, Clone, Copy)]
pub(super) enum Skip {
    Unsafe,
    NoAccount,
    /// A write on a device with `--allow write` that would touch objects the fuzzer does
    /// not create.
    NotOwn,
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Skip::Unsafe => {
                "operations that are not read-only (a device is fuzzed with safe methods only)"
            }
            Skip::NotOwn => {
                "writes that would change objects the fuzzer does not create itself (a device is write-fuzzed only on its own objects)"
            }
            Skip::NoAccount => {
                "operations with no account in the profile for a role allowed to call them"
            }
        })
    }
}

/// The starting request of `op`, or why it is not fuzzed on this session's target.
pub(super) fn seed_for(
    session: &Session,
    spec: &Spec,
    ep: &Endpoint,
    op: &Operation,
) -> Result<Seed, Skip> {
    let method = op.method.get_ref().to_ascii_uppercase();
    let read = Spec::safety(op) == Safety::Read;
    let emulator = session.emulator();
    let device_safe = read && SAFE_METHODS.contains(&method.as_str());
    let own = if emulator || device_safe {
        None
    } else if session.opts.allow_write {
        Some(super::own::own_seed(spec, ep, op).ok_or(Skip::NotOwn)?)
    } else {
        return Err(Skip::Unsafe);
    };
    let role = role_for(session, spec, op).ok_or(Skip::NoAccount)?;
    let (mut pieces, params) = path_pieces(spec, ep);
    let query = sample_query(spec, ep, op);
    let headers = headers(spec, op);
    let (mut content_type, mut body) = body(spec, op);
    let mut shape = shape_for(spec, op, params, emulator);
    if let Some(own) = &own {
        // Own writes: the path that names the object is never mutated, a method mutation
        // stays with this method or a safe one, and the marked fields keep their marks.
        shape.params.clear();
        shape.methods.push(method.clone());
        shape.protected = own.protected.clone();
        shape.encoding = own.kind == super::own::Kind::Create;
        if own.kind == super::own::Kind::Create {
            let c = spec.collection(&own.collection).ok_or(Skip::NotOwn)?;
            let (d, _) = super::own::create_draft(spec, c, ep, op, &session.opts.prefix)
                .ok_or(Skip::NotOwn)?;
            (pieces, content_type, body) = (d.pieces, d.content_type, d.body);
        }
    }
    Ok(Seed {
        endpoint: ep.id.get_ref().clone(),
        method: method.clone(),
        role,
        draft: Draft {
            method,
            pieces,
            query,
            headers,
            content_type,
            body,
        },
        shape,
        base: ep.base.as_ref().map(|b| b.get_ref().clone()),
        base_path: spec.base_of(ep).to_string(),
        read,
        source: op
            .provenance
            .source
            .clone()
            .unwrap_or_else(|| "inferred".into()),
        own,
    })
}

/// The lowest-ranked role allowed to call `op` that has an account here; no credentials
/// at all for a public operation without one.
pub(super) fn role_for(session: &Session, spec: &Spec, op: &Operation) -> Option<String> {
    let api = spec.name();
    spec.roles_by_rank()
        .into_iter()
        .filter(|r| spec.allows(op, r))
        .map(|r| r.name.get_ref().clone())
        .find(|r| session.auth(api, r).is_some())
        .or_else(|| op.public.then(|| crate::plan::NO_CREDENTIALS.to_string()))
}

/// The sample path as literal pieces and parameters, and the parameters' names in order.
fn path_pieces(spec: &Spec, ep: &Endpoint) -> (Vec<Piece>, Vec<String>) {
    path_pieces_with(spec, ep, &|_, v| v)
}

/// `path_pieces`, with each parameter's value passed through `edit(name, value)`.
pub(super) fn path_pieces_with(
    spec: &Spec,
    ep: &Endpoint,
    edit: &dyn Fn(&str, String) -> String,
) -> (Vec<Piece>, Vec<String>) {
    let params = std::cell::RefCell::new(Vec::new());
    let path = crate::sample::path_with(spec, ep, &|name, v| {
        params.borrow_mut().push((name.to_string(), edit(name, v)));
        format!("\u{0}{name}\u{0}")
    });
    let params: Vec<(String, String)> = params.into_inner();
    let mut pieces = Vec::new();
    for (i, part) in path.split('\u{0}').enumerate() {
        if i % 2 == 0 {
            if !part.is_empty() {
                pieces.push(Piece::Lit(part.to_string()));
            }
        } else {
            let value = params
                .iter()
                .find(|(n, _)| n == part)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            pieces.push(Piece::Param {
                name: part.to_string(),
                value,
            });
        }
    }
    (pieces, params.into_iter().map(|(n, _)| n).collect())
}

/// The query pairs of the sample request, as sent.
pub(super) fn sample_query(spec: &Spec, ep: &Endpoint, op: &Operation) -> Vec<(String, String)> {
    let full = crate::sample::target(spec, ep, op);
    full.split_once('?')
        .map(|(_, q)| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The headers the API requires, with `Accept` for the operation's first answer type
/// (`Content-Type` goes with the body).
pub(super) fn headers(spec: &Spec, op: &Operation) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = spec
        .auth()
        .required_headers
        .iter()
        .filter(|(h, _)| !h.eq_ignore_ascii_case("content-type"))
        .map(|(h, v)| (h.clone(), v.clone()))
        .collect();
    if let Some(accept) = op.response.as_ref().and_then(|r| r.content_types.first()) {
        headers.push(("Accept".into(), accept.clone()));
    }
    headers
}

/// The sample body with its content type; without a body, the content type the API
/// requires on every request, if any.
pub(super) fn body(spec: &Spec, op: &Operation) -> (Option<String>, Option<Vec<u8>>) {
    match crate::sample::body(spec, op) {
        Some((ct, b)) => (Some(ct), Some(b)),
        None => (
            spec.auth()
                .required_headers
                .iter()
                .find(|(h, _)| h.eq_ignore_ascii_case("content-type"))
                .map(|(_, v)| v.clone()),
            None,
        ),
    }
}

/// What `op` takes, for drawing mutations that fit it.
fn shape_for(spec: &Spec, op: &Operation, params: Vec<String>, emulator: bool) -> Shape {
    let req = op.request.as_ref().filter(|r| !r.empty);
    let pagination = op
        .pagination
        .as_ref()
        .and_then(|p| spec.pagination(p.get_ref()));
    let paging: Vec<String> = pagination
        .map(|p| p.params.values().cloned().collect())
        .unwrap_or_default();
    Shape {
        has_body: req.is_some(),
        multipart: req.is_some_and(|r| r.content_types.iter().any(|c| c.starts_with("multipart/"))),
        zip: req.is_some_and(|r| r.content_types.iter().any(|c| c.contains("zip"))),
        query: op
            .query
            .keys()
            .filter(|k| !paging.contains(k))
            .cloned()
            .collect(),
        paging,
        params,
        methods: if emulator {
            ALL_METHODS.iter().map(|m| m.to_string()).collect()
        } else {
            SAFE_METHODS.iter().map(|m| m.to_string()).collect()
        },
        protected: vec![],
        encoding: true,
    }
}
