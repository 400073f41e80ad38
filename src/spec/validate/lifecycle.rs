//! What changes over time: device states, background jobs, volatile endpoints and the
//! references between collections.

use super::{is_method, Ctx};
use crate::diag::did_you_mean;

/// States, jobs, volatiles and references, in that order.
pub(super) fn check_states_jobs_refs(cx: &mut Ctx) {
    check_states(cx);
    check_jobs(cx);
    check_volatiles(cx);
    check_references(cx);
}

fn check_states(cx: &mut Ctx) {
    for s in &cx.raw.states {
        let off = s.name.span().start;
        cx.outcome(s.file, &s.outcome);
        for e in s.endpoints.iter().chain(&s.except) {
            cx.refer(s.file, e, "endpoint", "R010");
        }
        for c in &s.also {
            cx.outcome(s.file, &c.outcome);
            for e in &c.endpoints {
                cx.refer(s.file, e, "endpoint", "R010");
            }
        }
        if s.applies_to.is_empty() && s.endpoints.is_empty() {
            cx.err(
                s.file,
                off,
                "S009",
                format!(
                    "state `{}` affects nothing: set `applies_to` or `endpoints`",
                    s.name.get_ref()
                ),
                None,
            );
        }
        cx.provenance(
            s.file,
            off,
            &s.provenance,
            &format!("state `{}`", s.name.get_ref()),
        );
    }
}

fn check_jobs(cx: &mut Ctx) {
    for j in &cx.raw.jobs {
        let off = j.name.span().start;
        cx.refer(j.file, &j.start, "endpoint", "R010");
        cx.refer(j.file, &j.poll, "endpoint", "R010");
        if let Some(s) = &j.status_endpoint {
            cx.refer(j.file, s, "endpoint", "R010");
        }
        cx.outcome(j.file, &j.accepted);
        cx.outcome(j.file, &j.done);
        for p in &j.pending {
            cx.outcome(j.file, p);
        }
        if !is_method(&j.start_method) {
            cx.err(
                j.file,
                off,
                "E004",
                format!("`{}` is not an upper-case HTTP method", j.start_method),
                None,
            );
        }
        cx.provenance(
            j.file,
            off,
            &j.provenance,
            &format!("job `{}`", j.name.get_ref()),
        );
    }
}

fn check_volatiles(cx: &mut Ctx) {
    for v in &cx.raw.volatiles {
        let off = v.name.span().start;
        for ep in &v.endpoints {
            cx.refer(v.file, ep, "endpoint", "R015");
        }
        cx.provenance(
            v.file,
            off,
            &v.provenance,
            &format!("volatile `{}`", v.name.get_ref()),
        );
    }
}

fn check_references(cx: &mut Ctx) {
    let raw = cx.raw;
    for r in &raw.references {
        let off = r.name.span().start;
        cx.refer(r.file, &r.from, "collection", "R006");
        cx.refer(r.file, &r.to, "collection", "R006");
        if let Some(o) = &r.on_delete {
            cx.outcome(r.file, o);
        }
        if let Some(o) = &r.on_dangling {
            cx.outcome(r.file, o);
        }
        // The pointer field must exist in the `from` schema.
        if let Some(col) = raw
            .collections
            .iter()
            .find(|c| c.name.get_ref() == r.from.get_ref())
        {
            if let Some(s) = raw
                .schemas
                .iter()
                .find(|s| s.name.get_ref() == col.schema.get_ref())
            {
                if !s.field.iter().any(|f| f.name.get_ref() == &r.field) {
                    let fields: Vec<&str> =
                        s.field.iter().map(|f| f.name.get_ref().as_str()).collect();
                    cx.err(
                        r.file,
                        off,
                        "R013",
                        format!(
                            "reference `{}` uses field `{}`, which schema `{}` lacks",
                            r.name.get_ref(),
                            r.field,
                            s.name.get_ref()
                        ),
                        did_you_mean(&r.field, fields.iter().copied()),
                    );
                }
            }
        }
        cx.provenance(
            r.file,
            off,
            &r.provenance,
            &format!("reference `{}`", r.name.get_ref()),
        );
    }
}
