//! Tests about request bodies and what writes do.
//!
//! * completeness: for each operation whose request names a schema and a completeness
//!   mode, one probe per field that may not be left out, a full body, and the property
//!   tests that generate bodies from the schema (idempotent update, create-read, invalid
//!   values, unknown fields);
//! * deletes: a deleted record is gone;
//! * robustness: the error envelope, XML/JSON equivalence, malformed and oversized bodies.

use super::{highest_role, outcomes, status, Exercise, PlanEntry};
use crate::spec::model::*;
use crate::spec::Spec;

pub(super) fn completeness(spec: &Spec, api: &str, out: &mut Vec<PlanEntry>) {
    for ep in spec.endpoints() {
        for op in &ep.op {
            let Some(req) = &op.request else { continue };
            let (Some(mode), Some(sname)) = (req.completeness, &req.schema) else {
                continue;
            };
            let Some(schema) = spec.schema(sname.get_ref()) else {
                continue;
            };
            let body = Body {
                spec,
                api,
                ep,
                op,
                req,
                schema,
                reject: req
                    .reject
                    .as_ref()
                    .map(|r| r.get_ref().clone())
                    .unwrap_or_else(|| status(400)),
            };
            out.extend(body.omissions(mode));
            out.push(body.full());
            out.extend(body.properties());
            out.extend(body.unknown_field());
        }
    }
}

/// An operation that takes a body of a known schema.
struct Body<'a> {
    spec: &'a Spec,
    api: &'a str,
    ep: &'a Endpoint,
    op: &'a Operation,
    req: &'a Request,
    schema: &'a Schema,
    /// The outcome a rejected body gets: the request's `reject`, else 400.
    reject: Outcome,
}

impl Body<'_> {
    /// An entry about the operation, with the id `{api}/{endpoint}/{group}/{METHOD}/{name}`.
    fn entry(&self, kind: RuleKind, group: &str, name: &str, check: Exercise) -> PlanEntry {
        let (eid, method) = (self.ep.id.get_ref(), self.op.method.get_ref());
        let id = format!("{}/{eid}/{group}/{method}/{name}", self.api);
        PlanEntry::new(self.api, kind, id, check).about(self.spec, self.ep, self.op)
    }

    /// One probe per field the mode requires: a body without it is rejected.
    fn omissions(&self, mode: Completeness) -> Vec<PlanEntry> {
        // A key the path carries (an item URL) need not be in the body too.
        let in_path =
            crate::spec::template_params(&self.spec.full_path(self.ep)).unwrap_or_default();
        let changes = if self.req.atomic {
            " and changes nothing"
        } else {
            ""
        };
        self.schema
            .field
            .iter()
            .filter(|f| !f.server_assigned)
            .filter(|f| !f.key || in_path.is_empty())
            .filter(|f| match mode {
                Completeness::AllFields => true,
                Completeness::RequiredSet => f.required,
                Completeness::Partial | Completeness::KeyOnly => f.key || f.required,
            })
            .map(|f| {
                let fname = f.name.get_ref();
                let mut e = self
                    .entry(
                        RuleKind::Completeness,
                        "completeness",
                        &format!("omit-{fname}"),
                        Exercise::Omit,
                    )
                    .expect(vec![self.reject.clone()])
                    .summary(format!("a body without `{fname}` is rejected{changes}"));
                e.field = Some(fname.clone());
                e
            })
            .collect()
    }

    fn full(&self) -> PlanEntry {
        self.entry(
            RuleKind::Completeness,
            "completeness",
            "full",
            Exercise::Full,
        )
        .success(self.op)
        .summary("a complete body is accepted and reads back equal")
    }

    /// The property tests a body of this schema supports: idempotent update, create then
    /// read, invalid values rejected.
    fn properties(&self) -> Vec<PlanEntry> {
        let mut out = Vec::new();
        let (op, schema) = (self.op, self.schema);
        let keyed = self.ep.collection.is_some();
        if matches!(op.effect, Some(Effect::Update | Effect::Upsert)) && keyed {
            out.push(
                self.entry(
                    RuleKind::Behaviour,
                    "property",
                    "idempotent",
                    Exercise::PropertyIdempotent,
                )
                .success(op)
                .source(
                    "inferred: an update states the record's new fields; stating them again \
                     changes nothing (RFC 9110 §9.2.2 for PUT)",
                )
                .summary("the same valid update sent twice leaves the state it left once"),
            );
        }
        if matches!(op.effect, Some(Effect::Create | Effect::Upsert)) && keyed {
            out.push(
                self.entry(
                    RuleKind::Behaviour,
                    "property",
                    "create-read",
                    Exercise::PropertyCreateRead,
                )
                .success(op)
                .source(format!(
                    "inferred: a stored record reads back as it was written ({})",
                    schema.provenance.describe()
                ))
                .summary(
                    "a record created from generated valid values reads back as sent, apart \
                     from server-assigned fields",
                ),
            );
        }
        if schema
            .field
            .iter()
            .any(|f| !f.server_assigned && crate::props::strategy::invalid(f).is_some())
        {
            out.push(
                self.entry(
                    RuleKind::Completeness,
                    "property",
                    "invalid-rejected",
                    Exercise::PropertyInvalid,
                )
                .expect(vec![self.reject.clone()])
                .source(schema.provenance.describe())
                .summary(
                    "generated values that break a documented field constraint are rejected \
                     and change nothing",
                ),
            );
        }
        out
    }

    /// A field the schema does not list, when the schema says what happens to one.
    fn unknown_field(&self) -> Option<PlanEntry> {
        let schema = self.schema;
        if schema.unknown_fields == UnknownFields::Unspecified {
            return None;
        }
        let e = self
            .entry(
                RuleKind::Completeness,
                "completeness",
                "unknown-field",
                Exercise::UnknownField,
            )
            .source(schema.provenance.describe());
        Some(if schema.unknown_fields == UnknownFields::Reject {
            e.expect(vec![self.reject.clone()])
                .summary("a body with a field the schema does not list is rejected")
        } else {
            e.success(self.op)
                .summary("a field the schema does not list is ignored: accepted, never stored")
        })
    }
}

/// The delete property: one per delete operation of a collection.
pub(super) fn deletes(spec: &Spec, api: &str, out: &mut Vec<PlanEntry>) {
    for ep in spec.endpoints() {
        let Some(c) = &ep.collection else { continue };
        for op in &ep.op {
            if op.effect != Some(Effect::Delete) {
                continue;
            }
            let id = format!(
                "{api}/{}/property/{}/delete-gone",
                ep.id.get_ref(),
                op.method.get_ref()
            );
            out.push(
                PlanEntry::new(api, RuleKind::Behaviour, id, Exercise::PropertyDeleteGone)
                    .about(spec, ep, op)
                    .success(op)
                    .source(format!(
                        "inferred: a deleted record of `{}` is no longer listed, and reading it \
                         answers the API's not-found ({})",
                        c.get_ref(),
                        op.provenance.describe()
                    ))
                    .summary(
                        "after a delete the record is gone: not listed, and a read answers the \
                         API's own not-found",
                    ),
            );
        }
    }
}

/// Checks every API gets whatever its spec says: the error envelope, XML/JSON
/// equivalence where both are served, and a bounded request body.
pub(super) fn robustness(spec: &Spec, api: &str, out: &mut Vec<PlanEntry>) {
    out.extend(error_shape(spec, api));
    equivalence(spec, api, out);
    malformed(spec, api, out);
    out.extend(oversize(spec, api));
}

/// An error answer has the API's envelope, when the envelope says where anything is.
fn error_shape(spec: &Spec, api: &str) -> Option<PlanEntry> {
    let env = spec.default_envelope()?;
    if env.message_path.is_none() && env.code_path.is_none() && env.template.is_none() {
        return None;
    }
    let nf = &spec.matrix().not_found;
    Some(
        PlanEntry::new(
            api,
            RuleKind::Envelope,
            format!("{api}/envelope/error-shape"),
            Exercise::ErrorEnvelope,
        )
        .method("GET")
        .role(highest_role(spec))
        .expect(outcomes(nf.expect.get_ref(), &nf.accept))
        .source(env.provenance.describe())
        .summary(format!(
            "an error answer is the `{}` envelope ({})",
            env.name.get_ref(),
            env.content_type
        )),
    )
}

/// One per `GET` served as both XML and JSON with a schema: both forms carry the same data.
fn equivalence(spec: &Spec, api: &str, out: &mut Vec<PlanEntry>) {
    for ep in spec.endpoints() {
        for op in &ep.op {
            let Some(resp) = &op.response else { continue };
            let both = resp.content_types.iter().any(|c| c.contains("json"))
                && resp.content_types.iter().any(|c| c.contains("xml"));
            if op.method.get_ref() != "GET" || !both || resp.schema.is_none() {
                continue;
            }
            let id = format!("{api}/{}/format/GET/xml-json-equivalent", ep.id.get_ref());
            out.push(
                PlanEntry::new(api, RuleKind::Format, id, Exercise::Equivalent)
                    .target(spec, ep, op)
                    .expect(outcomes(&op.success_outcome(), &[]))
                    .source(op.provenance.describe())
                    .summary("the XML and the JSON form of the resource carry the same data"),
            );
        }
    }
}

/// Whether a request takes a structured (XML or JSON) body of a known schema.
fn structured(req: &Request) -> bool {
    !req.empty
        && req.schema.is_some()
        && req
            .content_types
            .iter()
            .any(|c| c.contains("json") || c.contains("xml"))
}

/// One per operation taking a structured body: a body that is not well-formed gets a 4xx.
fn malformed(spec: &Spec, api: &str, out: &mut Vec<PlanEntry>) {
    for ep in spec.endpoints() {
        for op in &ep.op {
            let Some(req) = op.request.as_ref().filter(|r| structured(r)) else {
                continue;
            };
            let id = format!(
                "{api}/{}/robustness/{}/malformed-body",
                ep.id.get_ref(),
                op.method.get_ref()
            );
            let reject = status(req.reject.as_ref().map_or(400, |r| r.get_ref().status));
            out.push(
                PlanEntry::new(api, RuleKind::Behaviour, id, Exercise::Malformed)
                    .target(spec, ep, op)
                    .expect(vec![reject])
                    .safety(op.safety())
                    .source(
                        "inferred: a body that is not well-formed cannot be processed; the \
                         operation's rejection status applies, and a 5xx is a crash",
                    )
                    .summary("a body that is not well-formed is refused with the API's 4xx"),
            );
        }
    }
}

/// One oversized body per API, to the first operation that takes a structured body.
fn oversize(spec: &Spec, api: &str) -> Option<PlanEntry> {
    let (ep, op) = spec.endpoints().find_map(|ep| {
        ep.op
            .iter()
            .find(|op| op.request.as_ref().is_some_and(structured))
            .map(|op| (ep, op))
    })?;
    let too_large = spec.matrix().payload_too_large.as_ref();
    let summary = match op.request.as_ref().and_then(|r| r.max_bytes) {
        Some(n) => format!("a body over the documented {n} bytes is refused unread"),
        None => "a body over the body limit (`--body-limit`) is refused unread".into(),
    };
    Some(
        PlanEntry::new(
            api,
            RuleKind::Behaviour,
            format!("{api}/robustness/oversize"),
            Exercise::Oversize,
        )
        .target(spec, ep, op)
        .expect(
            too_large
                .map(|c| outcomes(c.expect.get_ref(), &c.accept))
                .unwrap_or_else(|| vec![status(413)]),
        )
        .safety(op.safety())
        .source(
            too_large
                .map(|c| c.provenance.describe())
                .unwrap_or_else(|| {
                    "inferred: a device must bound what it reads (dialtone's emulator \
                     refuses above 64 MiB); RFC 9110 §15.5.14 gives 413"
                        .into()
                }),
        )
        .summary(summary),
    )
}
