//! Jobs: an operation that starts one answers "accepted" with a transaction id (and the
//! poll URL in a header where the spec names one); the poll endpoint answers "pending"
//! for the job's documented number of polls, then "done" with the operation's example.

use axum::body::Body;
use axum::http::{header, HeaderValue, Response};
use serde_json::{Map, Value};

use super::ctx::Ctx;
use super::fixed::static_answer;
use crate::emulator::faults::FaultId;
use crate::emulator::render;
use crate::emulator::JobRun;
use crate::spec::model::{BodyFormat, Job, Outcome};

fn job_for<'a>(ctx: &'a Ctx) -> Option<&'a Job> {
    let name = ctx.op.job.as_ref()?.get_ref();
    ctx.spec().jobs().find(|j| j.name.get_ref() == name)
}

pub(super) fn start(ctx: &Ctx) -> Response<Body> {
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
    let env = ctx.envelope();
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
                .and_then(|c| c.message.as_deref())
                .map(|m| render::fill(m, &|n| ctx.placeholder(n)))
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

pub(super) fn poll(ctx: &Ctx) -> Response<Body> {
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
