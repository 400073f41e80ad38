//! The context every step of the pipeline reads: the matched request (`Ctx`), its parsed
//! body (`Parsed`), and the answers many steps share (errors in the operation's envelope,
//! "not found", an empty result, bad paging parameters).
//!
//! Engine steps, body parsing and vendor modules build on this file and on `render`; none
//! of them reaches back into the pipeline in `engine/mod.rs`.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Response};

use crate::emulator::faults::FaultId;
use crate::emulator::render;
use crate::emulator::store::{Key, Row, Table};
use crate::emulator::{ApiEmu, Emulator};
use crate::spec::model::{CodeClass, Endpoint, Operation, Outcome, Pagination};
use crate::spec::Spec;

/// A parsed request body.
pub(in crate::emulator) enum Parsed {
    Nothing,
    /// Items checked against the request schema, as rows.
    Items(Vec<Row>),
    Raw(Bytes),
}

/// A matched request, before its body is read.
pub(in crate::emulator) struct Ctx<'a> {
    pub emu: &'a Emulator,
    pub api: &'a ApiEmu,
    pub ep: &'a Endpoint,
    pub op: &'a Operation,
    pub params: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub headers: &'a HeaderMap,
}

impl Ctx<'_> {
    /// The schema the operation's response names, if any.
    pub fn response_schema(&self) -> Option<&crate::spec::model::Schema> {
        let name = self.op.response.as_ref()?.schema.as_ref()?;
        self.spec().schema(name.get_ref())
    }
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
        finish_error(
            self.emu,
            render::outcome_filled(self.spec(), o, self.envelope(), message, None, &|n| {
                self.placeholder(n)
            }),
        )
    }
    /// What a `{name}` in a documented message stands for in this request: the path or
    /// query parameter of that name, else the last literal segment of the endpoint's path
    /// (the file a message names: `debugFile`).
    pub fn placeholder(&self, name: &str) -> Option<String> {
        if let Some((_, v)) = self.params.iter().find(|(k, _)| k == name) {
            return Some(v.clone());
        }
        if let Some(v) = self.query(name) {
            return Some(v.to_string());
        }
        self.ep
            .path
            .get_ref()
            .rsplit('/')
            .find(|s| !s.is_empty() && !s.starts_with('{'))
            .map(str::to_string)
    }
    /// The envelope the operation's response names, if it names one.
    pub fn envelope(&self) -> Option<&str> {
        self.op
            .response
            .as_ref()
            .and_then(|r| r.envelope.as_ref())
            .map(|e| e.get_ref().as_str())
    }
    /// What a body over a size limit gets: the matrix's `payload_too_large`, else 413.
    pub fn payload_too_large(&self) -> Outcome {
        self.spec().payload_too_large()
    }
    /// The rejection of an invalid request.
    pub fn reject(&self, message: &str) -> Response<Body> {
        self.outcome(&self.op.reject_outcome(), Some(message))
    }
    /// "No such object": the operation's own `not_found` rule, else its own 404 code if
    /// it has one, else the matrix rule.
    pub fn not_found(&self) -> Response<Body> {
        if let Some(nf) = &self.op.not_found {
            let env = nf.envelope.as_ref().map(|e| e.get_ref().as_str());
            return finish_error(
                self.emu,
                render::outcome(
                    self.spec(),
                    nf.expect.get_ref(),
                    env,
                    Some("no such object"),
                    None,
                ),
            );
        }
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
    pub fn table(&self) -> Option<&Table> {
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
pub(super) fn finish_error(emu: &Emulator, r: Response<Body>) -> Response<Body> {
    if emu.faults.on(FaultId::WrongErrorEnvelope) && r.status().as_u16() >= 400 {
        return render::raw(r.status().as_u16(), Some("text/plain"), b"error".to_vec());
    }
    r
}

/// Key named by the path (the last path parameter), if any.
pub(in crate::emulator) fn path_key(ctx: &Ctx) -> Option<Key> {
    let c = ctx.ep.collection.as_ref()?.get_ref();
    let scope = ctx.spec().collection(c).and_then(|x| x.scope_param.clone());
    ctx.params
        .iter()
        .rev()
        .find(|(k, _)| Some(k) != scope.as_ref())
        .map(|(_, v)| Key::parse(v))
}

pub(in crate::emulator) fn empty_answer(
    ctx: &Ctx,
    pagination: Option<&Pagination>,
) -> Option<Response<Body>> {
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

pub(in crate::emulator) fn invalid_paging(ctx: &Ctx, p: &Pagination, msg: &str) -> Response<Body> {
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
