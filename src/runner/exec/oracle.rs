//! The response oracle applied to every answer of a test (`crate::oracle`), and the
//! `Location` headers it needs a request to judge.

use super::{Ctx, Judgement};
use crate::oracle::{self, Answer, Finding, Mode, Severity};
use crate::runner::http::{Req, Resp};
use crate::runner::Verdict;

impl Ctx<'_> {
    /// Follow the `Location` of a 2xx answer whose operation documents one: a GET as the
    /// same caller must read it. The oracle reports a missing or malformed one.
    pub(super) async fn follow_location(&mut self, req: &Req, resp: &Resp) {
        if !(200..300).contains(&resp.status) || !self.s.opts.response_oracle {
            return;
        }
        // Most answers carry no `Location`: look that up before the route.
        let Some(loc) = resp.header("location").filter(|l| oracle::location_ok(l)) else {
            return;
        };
        let Some(router) = self.s.router(&self.t.entry.api) else {
            return;
        };
        let Some(op) = router.operation(self.spec, &req.method, &req.target) else {
            return;
        };
        let documented = op
            .response
            .as_ref()
            .is_some_and(|r| r.headers.iter().any(|h| h.eq_ignore_ascii_case("location")));
        if !documented {
            return;
        }
        let mut get = Req::new("GET", loc.trim().to_string());
        get.auth = req.auth.clone();
        get.who = req.who.clone();
        get.headers = req
            .headers
            .iter()
            .filter(|(h, _)| {
                !h.eq_ignore_ascii_case("content-type") && !h.eq_ignore_ascii_case("accept")
            })
            .cloned()
            .collect();
        let (ex, r) = self.s.client.send(&get).await;
        self.exchanges.push(ex);
        let got = match r {
            Ok(x) if x.status < 300 => return,
            Ok(x) => format!("status {}", x.status),
            Err(e) => e.to_string(),
        };
        let mut f = oracle::unreadable_location(op, loc, got);
        f.exchange = self.exchanges.len() - 2;
        self.findings.push(f);
    }

    /// Everything the oracle finds in the test's answers, in the order they came.
    fn oracle_findings(&mut self) -> Vec<Finding> {
        let mut out = std::mem::take(&mut self.findings);
        let Some(router) = self.s.router(&self.t.entry.api) else {
            return out;
        };
        let mode = Mode {
            strict: self.s.opts.strict,
        };
        for (i, x) in self.exchanges.iter().enumerate() {
            let Ok(resp) = &x.result else { continue };
            if x.req.method.eq_ignore_ascii_case("HEAD") {
                continue;
            }
            let op = router.reach(self.spec, &x.req.method, &x.req.target);
            let answer = Answer {
                status: resp.status,
                headers: &resp.headers,
                body: &resp.body,
            };
            out.extend(
                oracle::check(self.spec, op, &answer, mode)
                    .into_iter()
                    .map(|mut f| {
                        f.exchange = i;
                        f
                    }),
            );
        }
        out.sort_by_key(|f| f.exchange);
        out
    }

    /// Fold the oracle's findings into the verdict: a breach fails a test that passed,
    /// skipped after it sent requests, or could not finish (a setup answer that breaks its
    /// documented shape is the target's fault, not the runner's); notes ride on a pass.
    pub(super) fn apply_oracle(&mut self, o: &mut Judgement) {
        if !self.s.opts.response_oracle {
            return;
        }
        let findings = self.oracle_findings();
        if findings.is_empty() {
            return;
        }
        let first_breach = findings.iter().find(|f| f.severity == Severity::Breach);
        match (first_breach, o.verdict) {
            (Some(b), Verdict::Pass | Verdict::Skip | Verdict::Error) => {
                let n = findings
                    .iter()
                    .filter(|f| f.severity == Severity::Breach)
                    .count();
                let mut more = if n > 1 {
                    format!(" (and {} more)", n - 1)
                } else {
                    String::new()
                };
                if o.verdict == Verdict::Error {
                    let why = o.message.as_deref().unwrap_or("an error");
                    more.push_str(&format!("; the test could not finish: {why}"));
                }
                *o = Judgement {
                    verdict: Verdict::Fail,
                    message: Some(format!(
                        "answer {} breaks its documented shape: {}{more}",
                        b.exchange + 1,
                        b.line()
                    )),
                    expected: Some(b.constraint.clone()),
                    actual: Some(b.value.clone().unwrap_or_else(|| "absent".into())),
                    note: o.note.take(),
                };
            }
            (None, Verdict::Pass) => {
                let notes: Vec<String> = findings.iter().take(3).map(|f| f.line()).collect();
                let note = format!(
                    "the response oracle noted {} deviation(s): {}",
                    findings.len(),
                    notes.join("; ")
                );
                o.note = Some(match o.note.take() {
                    Some(n) => format!("{n}; {note}"),
                    None => note,
                });
            }
            _ => {}
        }
        self.findings = findings;
    }
}
