//! The responses property: generated requests of any endpoint, method, role, Accept and
//! body, whose answers must never be a server error and must come in a documented
//! content type, or in the API's error envelope.

use proptest::strategy::{Strategy, ValueTree};
use serde_json::Value;

use super::super::{describe, lookup, Ctx, Judgement, Step};
use crate::plan::NO_CREDENTIALS;
use crate::runner::http::Resp;
use crate::runner::outcome;
use crate::sample;
use crate::spec::model::*;

/// One generated request of the responses property.
#[derive(Debug, Clone)]
struct Probe {
    endpoint: usize,
    method: usize,
    role: usize,
    accept: usize,
    body: usize,
    bytes: Vec<u8>,
}

impl<'a> Ctx<'a> {
    /// Property: whatever the request (any endpoint, method, role, Accept, a valid, an
    /// invalid or a garbage body), the answer is never a 5xx, a structured body parses, a
    /// success comes in a content type the operation documents, and an error comes in the
    /// API's error envelope. On a real target only `GET`s are generated.
    pub(in crate::runner::exec) async fn property_responses(&mut self) -> Step<Judgement> {
        let spec = self.spec;
        let eps: Vec<&'a Endpoint> = spec.endpoints().collect();
        if eps.is_empty() {
            return Err(Judgement::skip("the API has no endpoint"));
        }
        let methods: Vec<String> = if self.s.emulator() {
            spec.matrix().methods.get_ref().clone()
        } else {
            vec!["GET".into()]
        };
        let mut roles: Vec<String> = spec.roles().map(|r| r.name.get_ref().clone()).collect();
        roles.push(NO_CREDENTIALS.into());
        roles.push(crate::plan::BAD_CREDENTIALS.into());
        let strat = (
            0..eps.len(),
            // Half the draws take one of the endpoint's own methods, and half the roles
            // the most privileged one, so that requests get past the matrix checks.
            0..methods.len() * 2,
            0..roles.len() * 2,
            0usize..4,
            0usize..4,
            proptest::collection::vec(proptest::num::u8::ANY, 0..48),
        )
            .prop_map(|(endpoint, method, role, accept, body, bytes)| Probe {
                endpoint,
                method,
                role,
                accept,
                body,
                bytes,
            });
        let seed = self.seed();
        let mut runner = self.case_runner(41);
        let total = self.cases() as usize * 8;
        let deadline = self.s.property_deadline();
        for case in 0..total {
            if self.out_of_time(case, deadline) {
                break;
            }
            let mut tree = strat
                .new_tree(&mut runner)
                .map_err(|r| Judgement::error(format!("generating a request: {r}")))?;
            let probe = tree.current();
            let Some(first) = self.respond_once(&eps, &methods, &roles, &probe).await? else {
                continue;
            };
            let mut best = (probe, first);
            let mut steps = 0;
            if tree.simplify() {
                while steps < 64 {
                    steps += 1;
                    let p = tree.current();
                    match self.respond_once(&eps, &methods, &roles, &p).await? {
                        Some(o) => {
                            best = (p, o);
                            if !tree.simplify() {
                                break;
                            }
                        }
                        None => {
                            if !tree.complicate() {
                                break;
                            }
                        }
                    }
                }
            }
            let (p, mut o) = best;
            let mark = self.exchanges.len();
            if let Some(again) = self.respond_once(&eps, &methods, &roles, &p).await? {
                self.exchanges.drain(..mark);
                o = again;
            }
            o.message = Some(format!(
                "{} ({} {} as {}; case {} of seed {seed}, shrunk in {steps} steps; `--seed {seed}` reproduces it)",
                o.message.clone().unwrap_or_default(),
                pick_method(eps[p.endpoint], &methods, p.method),
                spec.full_path(eps[p.endpoint]),
                pick_role(spec, &roles, p.role),
                case + 1
            ));
            return Ok(o);
        }
        Ok(Judgement::pass())
    }

    /// Send one generated request and judge the answer; `Some(failure)` on a violation.
    async fn respond_once(
        &mut self,
        eps: &[&'a Endpoint],
        methods: &[String],
        roles: &[String],
        p: &Probe,
    ) -> Step<Option<Judgement>> {
        let spec = self.spec;
        let ep = eps[p.endpoint];
        let method = pick_method(ep, methods, p.method);
        let method = &method;
        let op = ep.operation(method);
        let target = match op {
            Some(op) => sample::target(spec, ep, op),
            None => sample::path_with(spec, ep, &|_, v| v),
        };
        let mut req = self.request(method, &target, &pick_role(spec, roles, p.role))?;
        let produces: Vec<String> = op
            .and_then(|o| o.response.as_ref())
            .map(|r| r.content_types.clone())
            .unwrap_or_default();
        let accept = match p.accept {
            0 => None,
            1 => Some("*/*".to_string()),
            2 => produces.first().cloned(),
            _ => produces.last().cloned(),
        };
        if let Some(a) = &accept {
            req = req.header("Accept", a);
        }
        let takes: Option<&Request> = op.and_then(|o| o.request.as_ref()).filter(|r| !r.empty);
        let body: Option<(String, Vec<u8>)> = match (p.body, takes) {
            (0, _) | (_, None) => None,
            (1, Some(_)) => op.and_then(|o| sample::body(spec, o)),
            (2, Some(r)) => {
                // The sample with one field broken, when a field has a constraint.
                let schema = r.schema.as_ref().and_then(|s| spec.schema(s.get_ref()));
                match (schema, op) {
                    (Some(s), Some(o)) => {
                        let mut obj = sample::object(spec, s);
                        if let Some(f) = s
                            .field
                            .iter()
                            .find(|f| crate::props::strategy::invalid(f).is_some())
                        {
                            obj.insert(
                                f.name.get_ref().clone(),
                                Value::String(String::from_utf8_lossy(&p.bytes).into_owned()),
                            );
                        }
                        sample::encode_object(spec, o, obj)
                    }
                    _ => None,
                }
            }
            (_, Some(r)) => Some((
                r.content_types
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "application/octet-stream".into()),
                p.bytes.clone(),
            )),
        };
        let writes = !matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS");
        let req = self.with_body(req, body);
        let resp = self.send(&req).await?;
        if writes && resp.status < 300 {
            self.dirty = true;
        }
        Ok(self.judge_any(op, accept.as_deref(), &resp))
    }

    /// The response oracle: no 5xx, structured bodies parse, documented content types, the
    /// error envelope on errors.
    fn judge_any(
        &self,
        op: Option<&Operation>,
        accept: Option<&str>,
        resp: &Resp,
    ) -> Option<Judgement> {
        if resp.status >= 500 {
            return Some(Judgement::fail(
                "the target answered with a server error",
                "a 2xx, 3xx or 4xx answer",
                describe(resp),
            ));
        }
        // A redirect is an answer only where the spec documents its status (ROME's 300).
        let s = resp.status;
        let documented = self.spec.codes().any(|c| c.status == s)
            || op.is_some_and(|o| {
                o.success_outcome().status == s || o.accept.iter().any(|a| a.get_ref().status == s)
            });
        if (300..400).contains(&s) && !documented {
            return Some(Judgement::fail(
                format!("the target answered {s}, a redirect the API does not document"),
                "a documented answer (2xx or 4xx), never a redirect",
                describe(resp),
            ));
        }
        if resp.body.is_empty() || resp.status == 204 || resp.status == 304 {
            return None;
        }
        let ct = outcome::essence(resp.content_type());
        if (ct.contains("json") || ct.contains("xml")) && outcome::parse(resp).is_err() {
            return Some(Judgement::fail(
                format!("the `{ct}` body does not parse"),
                format!("well-formed {ct}"),
                describe(resp),
            ));
        }
        if resp.status < 300 {
            let documented: Vec<String> = op
                .and_then(|o| o.response.as_ref())
                .map(|r| r.content_types.clone())
                .unwrap_or_default();
            // An operation that documents no response type, or an Accept it cannot
            // produce that the target answered anyway, is not this property's business.
            if documented.is_empty()
                || accept.is_some_and(|a| a != "*/*" && !documented.iter().any(|d| d == a))
            {
                return None;
            }
            if let Some(a) = accept.filter(|a| *a != "*/*") {
                if !outcome::same_family(a, &ct) {
                    return Some(Judgement::fail(
                        "a success came in another content type than the documented one asked for",
                        format!("Content-Type: {a}"),
                        format!("Content-Type: {}", resp.content_type()),
                    ));
                }
            }
            if !documented.iter().any(|d| outcome::same_family(d, &ct)) {
                return Some(Judgement::fail(
                    "a success came in a content type the operation does not document",
                    documented.join(" or "),
                    format!("Content-Type: {}", resp.content_type()),
                ));
            }
            return None;
        }
        // An error: in one of the API's envelopes.
        self.envelope_finding(resp, &ct)
    }

    /// The finding when an error answer (of essential content type `ct`) is in none of
    /// the API's envelopes.
    fn envelope_finding(&self, resp: &Resp, ct: &str) -> Option<Judgement> {
        let envs: Vec<&Envelope> = self.spec.envelopes().collect();
        if envs.is_empty() {
            return None;
        }
        let Some(env) = envs
            .iter()
            .find(|e| outcome::same_family(&e.content_type, ct))
        else {
            return Some(Judgement::fail(
                "an error came in a content type none of the API's envelopes uses",
                envs.iter()
                    .map(|e| e.content_type.clone())
                    .collect::<Vec<_>>()
                    .join(" or "),
                format!("Content-Type: {}", resp.content_type()),
            ));
        };
        if outcome::structured(env.format) {
            if let Ok(v) = outcome::parse(resp) {
                let paths: Vec<&String> = envs
                    .iter()
                    .filter(|e| outcome::same_family(&e.content_type, ct))
                    .flat_map(|e| {
                        [
                            e.message_path.as_ref(),
                            e.code_path.as_ref(),
                            e.data_path.as_ref(),
                        ]
                    })
                    .flatten()
                    .collect();
                if !paths.is_empty() && !paths.iter().any(|p| lookup(&v, p).is_some()) {
                    return Some(Judgement::fail(
                        "an error body is not in any of the API's envelopes",
                        format!(
                            "one of {}",
                            paths
                                .iter()
                                .map(|p| format!("`{p}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        describe(resp),
                    ));
                }
            }
        }
        None
    }
}

/// Draws below `methods.len()` take a matrix method; the rest one of the endpoint's own
/// (when the runner may send it).
fn pick_method(ep: &Endpoint, methods: &[String], i: usize) -> String {
    if i < methods.len() {
        return methods[i].clone();
    }
    let own: Vec<&String> = ep
        .op
        .iter()
        .map(|o| o.method.get_ref())
        .filter(|m| methods.contains(m))
        .collect();
    if own.is_empty() {
        methods[i % methods.len()].clone()
    } else {
        own[i % own.len()].clone()
    }
}

/// Draws below `roles.len()` take that role (or `none`, `bad-credentials`); the rest the
/// most privileged role.
fn pick_role(spec: &crate::spec::Spec, roles: &[String], i: usize) -> String {
    if i < roles.len() {
        return roles[i].clone();
    }
    spec.roles_by_rank()
        .last()
        .map(|r| r.name.get_ref().clone())
        .unwrap_or_else(|| roles[i % roles.len()].clone())
}
