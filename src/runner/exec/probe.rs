//! Checks that send one request and judge its answer: the entry's own probe (matrix
//! cells, explicit rules, device states, 404 and 406), the error envelope of an unknown
//! path, the JSON and XML forms of one read carrying the same data, and bodies that are
//! too large or do not parse.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{describe, either, lookup, Ctx, Judgement, Step};
use crate::plan::{Exercise, NO_CREDENTIALS};
use crate::runner::http::{Auth, Resp};
use crate::runner::outcome::{self, leaves};
use crate::runner::Verdict;
use crate::sample;
use crate::spec::model::*;

impl<'a> Ctx<'a> {
    /// One request described by the entry (matrix cells, explicit rules, states, 404, 406).
    pub(super) async fn probe(&mut self, accept: Option<&str>) -> Step<Judgement> {
        let e = self.t.entry.clone();
        let Some(method) = e.method.clone() else {
            return Err(Judgement::skip(
                "the rule is prose only: the spec gives it no request to send",
            ));
        };
        if e.expect.is_empty() {
            return Err(Judgement::skip(
                "the spec gives this rule no outcome to check",
            ));
        }
        let (ep, op) = self.endpoint_op();
        let rule = if e.check == Exercise::Rule {
            self.rule()
        } else {
            None
        };
        let send = rule.and_then(|r| r.send.clone()).unwrap_or_default();
        let params = send.params.clone();
        let with_params = move |name: &str, v: String| params.get(name).cloned().unwrap_or(v);
        let mut target = match (ep, op) {
            (Some(ep), Some(op)) => sample::target_with(self.spec, ep, op, &with_params),
            (Some(ep), None) => sample::path_with(self.spec, ep, &with_params),
            (None, _) => match &e.path {
                Some(p) if !p.contains('{') => p.clone(),
                Some(_) => {
                    return Err(Judgement::skip(
                        "the rule's path has parameters the spec gives no value for",
                    ))
                }
                None => return Err(Judgement::skip("the rule names no endpoint or path")),
            },
        };
        if let Some(rule) = rule {
            for (k, v) in &rule.query {
                target.push(if target.contains('?') { '&' } else { '?' });
                target.push_str(&format!("{}={}", sample::encode(k), sample::encode(v)));
            }
        }
        let role = e.role.clone().unwrap_or_else(|| NO_CREDENTIALS.to_string());
        if let Some(st) = &e.state {
            self.enter_state(st).await?;
        }
        if e.safety != Safety::Read && !self.s.emulator() {
            return Err(Judgement::skip(
                "would change an object dialtone did not create on a real target",
            ));
        }
        let mut req = self.request(&method, &target, &role)?;
        let body = self.probe_body(&send, op)?;
        req = self.with_body(req, body);
        match accept {
            Some(a) => req = req.header("Accept", a),
            None => {
                if let Some(a) = Self::accept_for(op) {
                    req = req.header("Accept", &a);
                }
            }
        }
        // The rule's own headers come last and win; a credential header among them replaces
        // the role's credentials instead of joining them.
        let auth_header = self.spec.auth().header.clone();
        for (h, v) in &send.headers {
            if h.eq_ignore_ascii_case(&auth_header) || h.eq_ignore_ascii_case("authorization") {
                req.auth = Auth::None;
            }
            req = req.header(h, v);
        }
        let resp = self.send(&req).await?;
        Ok(self.check_probe_answer(op, &resp))
    }

    /// The body a probe sends: the rule's literal `body` (for an upload, the file), the
    /// sample object with the rule's `set` and `omit` applied, or the operation's sample.
    fn probe_body(
        &self,
        send: &RuleSend,
        op: Option<&Operation>,
    ) -> Step<Option<(String, Vec<u8>)>> {
        Ok(match (&send.body, op) {
            (Some(b), _) => {
                let ct = send
                    .content_type
                    .clone()
                    .or_else(|| {
                        op.and_then(|o| o.request.as_ref())
                            .and_then(|r| r.content_types.first().cloned())
                    })
                    .unwrap_or_else(|| "application/json".into());
                if ct.starts_with("multipart/") && !ct.contains("boundary=") {
                    // For an upload, `body` is the file: sent as the operation's file part.
                    let field = op
                        .and_then(|o| o.request.as_ref())
                        .and_then(|r| r.file_field.clone())
                        .unwrap_or_else(|| "file".into());
                    Some(sample::multipart(&field, "dialtone.txt", b.as_bytes()))
                } else {
                    Some((ct, b.clone().into_bytes()))
                }
            }
            (None, Some(o)) if !send.set.is_empty() || !send.omit.is_empty() => {
                let (set, omit) = (send.set.clone(), send.omit.clone());
                Some(self.object_body(o, move |obj| {
                    for f in &omit {
                        obj.remove(f);
                    }
                    for (k, v) in set {
                        obj.insert(k, serde_json::to_value(v).unwrap_or(Value::Null));
                    }
                })?)
            }
            (None, o) => o.and_then(|o| sample::body(self.spec, o)),
        })
    }

    /// Judge a probe's answer: the entry's outcomes, then a 405's `Allow` header and the
    /// representation of a successful answer.
    fn check_probe_answer(&self, op: Option<&Operation>, resp: &Resp) -> Judgement {
        let e = &self.t.entry;
        let mut o = self.judge(resp, &e.expect);
        if o.verdict == Verdict::Pass && resp.status == 405 {
            if let Some(allow) = &e.allow {
                if let Err(why) = check_allow(resp, allow) {
                    o = self.soften(Judgement::fail(
                        why,
                        format!("Allow: {}", allow.join(", ")),
                        describe(resp),
                    ));
                }
            }
        }
        // A successful answer with a body comes in one of the documented representations.
        if o.verdict == Verdict::Pass && resp.status < 300 && !resp.body.is_empty() {
            let documented: Vec<String> = op
                .and_then(|o| o.response.as_ref())
                .map(|r| {
                    r.content_types
                        .iter()
                        .map(|c| outcome::essence(c))
                        .collect()
                })
                .unwrap_or_default();
            let got = outcome::essence(resp.content_type());
            if !documented.is_empty() && !documented.iter().any(|d| outcome::same_family(d, &got)) {
                o = Judgement::fail(
                    "the answer is not in a documented representation",
                    format!("Content-Type: one of {}", documented.join(", ")),
                    format!("Content-Type: {got}"),
                );
            }
        }
        o
    }

    pub(super) async fn error_envelope(&mut self) -> Step<Judgement> {
        let e = self.t.entry.clone();
        let base = self.spec.base_path(None);
        let role = self.role();
        let req = self.request("GET", &format!("{base}/dialtone-no-such-resource"), &role)?;
        let req = self.with_body(req, None);
        let resp = self.send(&req).await?;
        let o = self.judge(&resp, &e.expect);
        if o.verdict != Verdict::Pass {
            return Ok(o);
        }
        let Some(env) = self.spec.default_envelope() else {
            return Ok(o);
        };
        let want = outcome::essence(&env.content_type);
        let got = outcome::essence(resp.content_type());
        if !outcome::same_family(&want, &got) {
            return Ok(Judgement::fail(
                format!(
                    "the error answer is not the `{}` envelope",
                    env.name.get_ref()
                ),
                format!("Content-Type: {}", env.content_type),
                format!("Content-Type: {got}"),
            ));
        }
        if outcome::structured(env.format) {
            let v = match outcome::parse(&resp) {
                Ok(v) => v,
                Err(why) => {
                    return Ok(Judgement::fail(
                        format!("the error body does not parse: {why}"),
                        format!("a {} envelope", env.content_type),
                        describe(&resp),
                    ))
                }
            };
            // The human message is what every error carries; a machine code only comes with
            // the API's own failures, which this probe (an unknown path) is not.
            if let Some(path) = env.message_path.as_ref().or(env.code_path.as_ref()) {
                if lookup(&v, path).is_none() {
                    return Ok(Judgement::fail(
                        format!("the error envelope lacks `{path}`"),
                        format!("`{path}` in the body"),
                        describe(&resp),
                    ));
                }
            }
        } else if resp.body.is_empty() {
            return Ok(Judgement::fail(
                "the error answer has no body",
                "a message",
                describe(&resp),
            ));
        }
        Ok(o)
    }

    pub(super) async fn equivalent(&mut self) -> Step<Judgement> {
        let e = self.t.entry.clone();
        let (Some(ep), Some(op)) = self.endpoint_op() else {
            return Err(Judgement::error("the entry names no operation"));
        };
        let resp_spec = op.response.as_ref().expect("planned only with a response");
        let role = self.role();
        let target = sample::target(self.spec, ep, op);
        let mut trees = Vec::new();
        for fam in ["json", "xml"] {
            let ct = resp_spec
                .content_types
                .iter()
                .find(|c| c.contains(fam))
                .cloned()
                .unwrap_or_default();
            let mut t = target.clone();
            if let Some(p) = &resp_spec.format_param {
                t.push(if t.contains('?') { '&' } else { '?' });
                t.push_str(&format!("{p}={fam}"));
            }
            let req = self
                .with_body(self.request("GET", &t, &role)?, None)
                .header("Accept", &ct);
            let resp = self.send(&req).await?;
            let o = self.judge(&resp, &e.expect);
            if o.verdict != Verdict::Pass {
                return Ok(o);
            }
            if resp.status == 204 {
                return Ok(Judgement::pass());
            }
            if !outcome::essence(resp.content_type()).contains(fam) {
                return Ok(Judgement::fail(
                    format!("asked for {fam}, served something else"),
                    format!("Content-Type: {ct}"),
                    format!("Content-Type: {}", resp.content_type()),
                ));
            }
            match outcome::parse(&resp) {
                Ok(v) => trees.push(leaves(&v)),
                Err(why) => {
                    return Ok(Judgement::error(format!(
                        "the {fam} answer does not parse: {why}"
                    )))
                }
            }
        }
        // XML adds the element names as structure only; the data is in the leaves.
        if trees[0] != trees[1] {
            let j: BTreeSet<_> = trees[0].iter().collect();
            let x: BTreeSet<_> = trees[1].iter().collect();
            let only_j: Vec<_> = j.difference(&x).take(5).collect();
            let only_x: Vec<_> = x.difference(&j).take(5).collect();
            return Ok(self.soften(Judgement::fail(
                "the XML and JSON forms carry different data",
                format!("the same values; only in JSON: {only_j:?}"),
                format!("only in XML: {only_x:?}"),
            )));
        }
        Ok(Judgement::pass())
    }

    pub(super) async fn oversize(&mut self) -> Step<Judgement> {
        let e = self.t.entry.clone();
        let (Some(_), Some(op)) = self.endpoint_op() else {
            return Err(Judgement::error("the entry names no operation"));
        };
        let (ct, mut body) = self.object_body(op, |_| {})?;
        let limit = op
            .request
            .as_ref()
            .and_then(|r| r.max_bytes)
            .map(|b| b as usize)
            .unwrap_or(self.s.opts.body_limit);
        // Trailing whitespace keeps a JSON or XML document well-formed: a device that reads
        // it all would accept it.
        body.resize(limit + 1, b' ');
        let resp = self.send_to_op(op, &ct, body).await?;
        Ok(self.judge(&resp, &e.expect))
    }

    pub(super) async fn malformed(&mut self) -> Step<Judgement> {
        let e = self.t.entry.clone();
        let op = self.op()?;
        let req_spec = op.request.as_ref().expect("planned only with a request");
        let (ct, body) = match req_spec.content_types.iter().find(|c| c.contains("xml")) {
            Some(x) => (x.clone(), b"<dialtone><unclosed></dialtone>".to_vec()),
            None => {
                let j = req_spec
                    .content_types
                    .iter()
                    .find(|c| c.contains("json"))
                    .cloned()
                    .unwrap_or_else(|| "application/json".into());
                (j, b"{\"dialtone\": [1, 2".to_vec())
            }
        };
        let resp = self.send_to_op(op, &ct, body).await?;
        if resp.status >= 500 {
            return Ok(Judgement::fail(
                "a malformed body crashed the request handler",
                format!("{} (the API's rejection)", either(&e.expect)),
                describe(&resp),
            ));
        }
        Ok(self.judge(&resp, &e.expect))
    }
}

fn check_allow(resp: &Resp, allow: &[String]) -> Result<(), String> {
    let Some(got) = resp.header("allow") else {
        return Err("a 405 without an `Allow` header".into());
    };
    let got: BTreeSet<String> = got
        .split(',')
        .map(|m| m.trim().to_ascii_uppercase())
        .filter(|m| !m.is_empty())
        .collect();
    let want: BTreeSet<String> = allow.iter().map(|m| m.to_ascii_uppercase()).collect();
    // HEAD and OPTIONS may be listed on top of what the spec documents.
    let extra: Vec<_> = got
        .difference(&want)
        .filter(|m| *m != "HEAD" && *m != "OPTIONS")
        .collect();
    let missing: Vec<_> = want.difference(&got).collect();
    if extra.is_empty() && missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "`Allow` is wrong: missing {missing:?}, extra {extra:?}"
        ))
    }
}
