//! Scenario cases (`cases/`): steps played in order, each a control request or a request
//! whose answer is checked (status, content type, headers, body) and from which values
//! are captured for the steps after it.

use serde_json::Value;

use super::assert::{self, count_of, subst, Vars};
use super::{clip, describe, Ctx, Judgement, Step};
use crate::contract::Control;
use crate::plan::NO_CREDENTIALS;
use crate::runner::cases::{BodyCheck, Case, Control as CaseControl, Step as CaseStep};
use crate::runner::http::{Req, Resp};
use crate::runner::outcome::{self, text_of};
use crate::runner::Verdict;
use crate::sample;
use crate::spec::model::*;

impl<'a> Ctx<'a> {
    pub(super) async fn case(&mut self, case: &Case) -> Step<Judgement> {
        if case.emulator_only() {
            self.need_control("the case drives the emulator's control interface")?;
        }
        if case.safety != Safety::Read && !self.s.emulator() {
            return Err(Judgement::skip(
                "the case changes objects it does not create on a real target",
            ));
        }
        self.dirty = case.safety != Safety::Read;
        let mut vars: Vars = Default::default();
        vars.insert("prefix".into(), self.s.opts.prefix.clone());
        for (i, step) in case.steps.iter().enumerate() {
            let at = format!("step {} `{}`", i + 1, step.name);
            if let Some(c) = &step.control {
                self.case_control(&case.api, c).await?;
                continue;
            }
            let req = self.step_request(step, &vars, &at)?;
            let resp = match self.step_send(step, &req, &at).await? {
                Ok(r) => r,
                Err(o) => return Ok(o),
            };
            let tree = outcome::parse(&resp).ok();
            let checked = self
                .check_step(step, &resp, tree.as_ref(), &vars, &at)
                .and_then(|()| capture(step, &resp, tree.as_ref(), &mut vars, &at));
            if let Err(o) = checked {
                return Ok(o);
            }
        }
        Ok(Judgement::pass())
    }

    /// A control step: through the emulator's control interface.
    async fn case_control(&mut self, api: &str, c: &CaseControl) -> Step<()> {
        match c {
            CaseControl::Reset => self.control(Control::Reset, None).await?,
            CaseControl::Enter(s) => {
                self.states.push(s.clone());
                self.control(Control::EnterState { api, state: s }, None)
                    .await?
            }
            CaseControl::Leave(s) => {
                self.states.retain(|x| x != s);
                self.control(Control::LeaveState { api, state: s }, None)
                    .await?
            }
            CaseControl::Generate { collection, count } => {
                self.control(
                    Control::Generate {
                        api,
                        collection,
                        count: Some(*count),
                    },
                    None,
                )
                .await?
            }
        };
        Ok(())
    }

    /// The request a step describes, with its `{{name}}`s filled in.
    fn step_request(&self, step: &CaseStep, vars: &Vars, at: &str) -> Step<Req> {
        let method = step.method.clone().unwrap_or_default();
        let (target, op) = self.step_target(step, &method, vars, at)?;
        let role = step.role.clone().unwrap_or_else(|| NO_CREDENTIALS.into());
        let mut req = self.request(&method, &target, &role)?;
        for (h, v) in &step.headers {
            req = req.header(h, &subst(v, vars));
        }
        if let Some(b64) = &step.body_b64 {
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| Judgement::error(format!("{at}: `body_b64`: {e}")))?;
            // Exactly these bytes, with exactly the content type given (or none).
            if let Some(ct) = &step.content_type {
                req = req.header("Content-Type", ct);
            }
            req.body = Some(bytes);
        } else if step.sample || !step.set.is_empty() || !step.omit.is_empty() {
            let op = op.ok_or_else(|| {
                Judgement::error(format!(
                    "{at}: the endpoint has no {method} to take a sample from"
                ))
            })?;
            let body = if step.set.is_empty() && step.omit.is_empty() {
                sample::body(self.spec, op)
            } else {
                let set: Vec<(String, Value)> = step
                    .set
                    .iter()
                    .map(|(k, v)| {
                        let text = serde_json::to_string(v).unwrap_or_default();
                        let v = serde_json::from_str(&subst(&text, vars)).unwrap_or(Value::Null);
                        (k.clone(), v)
                    })
                    .collect();
                let omit = step.omit.clone();
                Some(self.object_body(op, move |obj| {
                    for f in &omit {
                        obj.remove(f);
                    }
                    for (k, v) in set {
                        obj.insert(k, v);
                    }
                })?)
            };
            req = self.with_body(req, body);
        } else {
            req = self.with_body(req, step_body(step, vars));
        }
        Ok(req)
    }

    /// Where a step sends: its `path` under a base, a captured full URL, or an
    /// endpoint's path with the step's parameters and the operation's required query.
    fn step_target(
        &self,
        step: &CaseStep,
        method: &str,
        vars: &Vars,
        at: &str,
    ) -> Step<(String, Option<&'a Operation>)> {
        let mut op = None;
        let mut query: Vec<(String, String)> = Vec::new();
        let mut target = if let Some(id) = &step.endpoint {
            let ep = self.spec.endpoint(id).ok_or_else(|| {
                Judgement::error(format!("{at}: the spec has no endpoint `{id}`"))
            })?;
            let edit =
                |name: &str, v: String| step.params.get(name).map(|p| subst(p, vars)).unwrap_or(v);
            op = ep.operation(method);
            let full = match op {
                Some(o) => sample::target_with(self.spec, ep, o, &edit),
                None => sample::path_with(self.spec, ep, &edit),
            };
            let (path, q) = full.split_once('?').unwrap_or((&full, ""));
            for pair in q.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                if !step.omit_query.iter().any(|o| o == k) && !step.query.contains_key(k) {
                    query.push((k.to_string(), v.to_string()));
                }
            }
            path.to_string()
        } else {
            let raw = subst(step.path.as_deref().unwrap_or("/"), vars);
            if raw.starts_with("http://") || raw.starts_with("https://") {
                raw
            } else {
                format!("{}{raw}", self.spec.base_path(step.base.as_deref()))
            }
        };
        for (k, v) in &step.query {
            query.push((sample::encode(k), sample::encode(&subst(v, vars))));
        }
        for (k, v) in query {
            target.push(if target.contains('?') { '&' } else { '?' });
            target.push_str(&format!("{k}={v}"));
        }
        Ok((target, op))
    }

    /// Send a step's request, and again while it polls. The inner `Err` is the finding
    /// that the polls ran out.
    async fn step_send(
        &mut self,
        step: &CaseStep,
        req: &Req,
        at: &str,
    ) -> Step<Result<Resp, Judgement>> {
        let mut resp = self.send(req).await?;
        if let Some(poll) = &step.poll {
            let mut n = 1;
            while outcome::matches(self.spec, &poll.until, &resp).is_err() {
                if n >= poll.max {
                    return Ok(Err(Judgement::fail(
                        format!("{at}: still not {} after {n} polls", poll.until),
                        poll.until.to_string(),
                        describe(&resp),
                    )));
                }
                if !step.expect.is_empty() && !self.answers_one_of(&step.expect, &resp) {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(poll.interval_ms)).await;
                resp = self.send(req).await?;
                n += 1;
            }
        }
        Ok(Ok(resp))
    }

    /// Check a step's answer: its outcome, content type, headers and body.
    fn check_step(
        &self,
        step: &CaseStep,
        resp: &Resp,
        tree: Option<&Value>,
        vars: &Vars,
        at: &str,
    ) -> Result<(), Judgement> {
        let want: &[Outcome] = match &step.poll {
            Some(p) => std::slice::from_ref(&p.until),
            None => &step.expect,
        };
        let o = self.judge(resp, want);
        if o.verdict != Verdict::Pass {
            return Err(Judgement {
                message: o.message.map(|m| format!("{at}: {m}")),
                ..o
            });
        }
        let method = step.method.as_deref().unwrap_or_default();
        if !step.content_types.is_empty() && !resp.body.is_empty() && method != "HEAD" {
            let got = outcome::essence(resp.content_type());
            if !step
                .content_types
                .iter()
                .any(|c| outcome::same_family(c, &got))
            {
                return Err(Judgement::fail(
                    format!("{at}: the answer is not in a listed content type"),
                    format!("Content-Type: one of {}", step.content_types.join(", ")),
                    format!("Content-Type: {got}"),
                ));
            }
        }
        for h in &step.response_headers {
            if resp.header(h).is_none() {
                return Err(Judgement::fail(
                    format!("{at}: no `{h}` header"),
                    h.clone(),
                    describe(resp),
                ));
            }
        }
        if let Some(b) = &step.body {
            check_body(b, resp, tree, vars, at)?;
        }
        assert::check_all(&step.assert, resp, tree, vars, at)
    }
}

/// A step's body and its content type: JSON, text or a zip of text members.
fn step_body(step: &CaseStep, vars: &Vars) -> Option<(String, Vec<u8>)> {
    let ct = |default: &str| step.content_type.clone().unwrap_or_else(|| default.into());
    if let Some(j) = &step.json {
        let text = serde_json::to_string(j).unwrap_or_default();
        Some((ct("application/json"), subst(&text, vars).into_bytes()))
    } else if let Some(t) = &step.text {
        Some((ct("text/plain"), subst(t, vars).into_bytes()))
    } else if !step.zip.is_empty() {
        let members: Vec<(String, Vec<u8>)> = step
            .zip
            .iter()
            .map(|m| (m.name.clone(), subst(&m.text, vars).into_bytes()))
            .collect();
        Some((ct("application/zip"), crate::codec::write_zip(&members)))
    } else {
        None
    }
}

/// Check an answer's body: texts it holds and lacks, values at JSON pointers, and the
/// lengths of arrays.
fn check_body(
    b: &BodyCheck,
    resp: &Resp,
    tree: Option<&Value>,
    vars: &Vars,
    at: &str,
) -> Result<(), Judgement> {
    let text = resp.text();
    for c in &b.contains {
        let c = subst(c, vars);
        if !text.contains(&c) {
            return Err(Judgement::fail(
                format!("{at}: the body lacks `{c}`"),
                c.clone(),
                clip(&text),
            ));
        }
    }
    for c in &b.absent {
        let c = subst(c, vars);
        if text.contains(&c) {
            return Err(Judgement::fail(
                format!("{at}: the body holds `{c}`"),
                format!("no `{c}`"),
                clip(&text),
            ));
        }
    }
    for (ptr, want) in &b.equals {
        let want = subst(want, vars);
        let got = tree.and_then(|t| t.pointer(ptr)).map(text_of);
        if got.as_deref() != Some(want.as_str()) {
            return Err(Judgement::fail(
                format!("{at}: `{ptr}` differs"),
                want,
                format!("{got:?}"),
            ));
        }
    }
    for (ptr, n) in &b.len {
        // Nothing at the pointer is no length at all, not zero.
        let got = tree.and_then(|t| t.pointer(ptr)).map(|v| count_of(Some(v)));
        if got != Some(*n) {
            return Err(Judgement::fail(
                format!("{at}: `{ptr}` has the wrong length"),
                n.to_string(),
                format!("{got:?}"),
            ));
        }
    }
    Ok(())
}

/// Capture the values a step names (a header, or a JSON pointer into the body) into
/// `vars`.
fn capture(
    step: &CaseStep,
    resp: &Resp,
    tree: Option<&Value>,
    vars: &mut Vars,
    at: &str,
) -> Result<(), Judgement> {
    for (var, from) in &step.capture {
        let from_sub = subst(from, vars);
        let v = if let Some(h) = from_sub.strip_prefix("header:") {
            resp.header(h).map(str::to_string)
        } else if let Some(p) = from_sub.strip_prefix("count:") {
            // A count is always there: nothing at the pointer counts 0.
            Some(count_of(tree.and_then(|t| t.pointer(p))).to_string())
        } else {
            tree.and_then(|t| t.pointer(&from_sub)).map(text_of)
        };
        match v {
            Some(v) => {
                vars.insert(var.clone(), v);
            }
            None => {
                return Err(Judgement::fail(
                    format!("{at}: nothing to capture at `{from}`"),
                    from.clone(),
                    describe(resp),
                ))
            }
        }
    }
    Ok(())
}
