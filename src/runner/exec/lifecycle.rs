//! Checks of what outlives one request: an asynchronous job polled until it is done, and
//! a reference whose target is deleted while something still points at it.

use serde_json::Value;

use super::{caller_role, describe, Ctx, Judgement, Step};
use crate::runner::outcome::{self, text_of};
use crate::sample;
use crate::spec::model::Outcome;

impl<'a> Ctx<'a> {
    pub(super) async fn job(&mut self) -> Step<Judgement> {
        let e = self.t.entry.clone();
        let name = e.id.rsplit('/').nth(1).unwrap_or_default().to_string();
        let job = self
            .spec
            .jobs()
            .find(|j| *j.name.get_ref() == name)
            .ok_or_else(|| Judgement::error(format!("no job `{name}` in the spec")))?;
        let (Some(ep), Some(op)) = self.endpoint_op() else {
            return Err(Judgement::error("the job's start operation is missing"));
        };
        let role = self.role();
        let target = sample::target(self.spec, ep, op);
        let req = self.with_body(
            self.request(&job.start_method, &target, &role)?,
            sample::body(self.spec, op),
        );
        let resp = self.send(&req).await?;
        let accepted = job.accepted.get_ref();
        if let Err(why) = outcome::matches(self.spec, accepted, &resp) {
            return Ok(Judgement::fail(
                format!("starting the job: {why}"),
                accepted.to_string(),
                describe(&resp),
            ));
        }
        let hname = job.location_header.as_deref().unwrap_or("Location");
        let Some(loc) = resp.header(hname).map(str::to_string) else {
            return Ok(Judgement::fail(
                format!("the job was accepted without a `{hname}` header"),
                format!("{hname}: <poll URL>"),
                describe(&resp),
            ));
        };
        let pending: Vec<Outcome> = job.pending.iter().map(|p| p.get_ref().clone()).collect();
        let done = job.done.get_ref();
        let max = job.emulator_pending_polls.unwrap_or(5) as usize + 10;
        for _ in 0..max {
            let req = self.with_body(self.request("GET", &loc, &role)?, None);
            let r = self.send(&req).await?;
            if outcome::matches(self.spec, done, &r).is_ok() {
                return Ok(Judgement::pass());
            }
            if !pending
                .iter()
                .any(|p| outcome::matches(self.spec, p, &r).is_ok())
            {
                return Ok(Judgement::fail(
                    "polling the job gave neither a pending nor the done outcome",
                    format!("{} until {done}", Outcome::join(&pending, "/")),
                    describe(&r),
                ));
            }
            tokio::time::sleep(std::time::Duration::from_millis(if self.s.emulator() {
                5
            } else {
                500
            }))
            .await;
        }
        Ok(Judgement::fail(
            format!("the job was still pending after {max} polls"),
            done.to_string(),
            "pending",
        ))
    }

    pub(super) async fn reference(&mut self) -> Step<Judgement> {
        let e = self.t.entry.clone();
        if !self.s.emulator() {
            return Err(Judgement::skip(
                "would try to delete an object dialtone did not create on a real target",
            ));
        }
        let name = e.id.rsplit('/').nth(1).unwrap_or_default().to_string();
        let r = self
            .spec
            .references()
            .find(|r| *r.name.get_ref() == name)
            .ok_or_else(|| Judgement::error(format!("no reference `{name}`")))?;
        // A value of the referencing field: from the `from` collection as listed, or, when
        // the API cannot list it, from the emulator's seed rows (this test runs only there).
        let tree = match self.reader(r.from.get_ref()) {
            Some((from_target, from_op)) => {
                let role = caller_role(self.spec, from_op);
                let mut req = self.with_body(self.request("GET", &from_target, &role)?, None);
                if let Some(a) = Self::accept_for(Some(from_op)) {
                    req = req.header("Accept", &a);
                }
                let resp = self.send(&req).await?;
                outcome::parse(&resp)
                    .map_err(|w| Judgement::error(format!("listing `{}`: {w}", r.from.get_ref())))?
            }
            None => self
                .spec
                .collection(r.from.get_ref())
                .map(|c| serde_json::to_value(&c.seed).unwrap_or_default())
                .unwrap_or_default(),
        };
        let value = first_field(&tree, &r.field).ok_or_else(|| {
            Judgement::skip(format!(
                "no `{}` refers to a `{}` on the target",
                r.from.get_ref(),
                r.to.get_ref()
            ))
        })?;
        // Delete the referenced object.
        let to = self
            .spec
            .collection(r.to.get_ref())
            .ok_or_else(|| Judgement::error("unknown collection"))?;
        let (dep, dop) = self.deleter(to.name.get_ref()).ok_or_else(|| {
            Judgement::skip(format!("`{}` has no delete operation", r.to.get_ref()))
        })?;
        let mut path = self.spec.full_path(dep);
        for p in crate::spec::template_params(&path).unwrap_or_default() {
            path = path.replace(&format!("{{{p}}}"), &sample::encode(&value));
        }
        let key = to.key.first().cloned().unwrap_or_default();
        let body = if dop
            .request
            .as_ref()
            .is_some_and(|r| !r.empty && r.schema.is_some())
        {
            Some(self.object_body(dop, |o| {
                o.insert(key.clone(), Value::String(value.clone()));
            })?)
        } else {
            None
        };
        let drole = caller_role(self.spec, dop);
        let req = self.with_body(self.request(dop.method.get_ref(), &path, &drole)?, body);
        let resp = self.send(&req).await?;
        Ok(self.judge(&resp, &e.expect))
    }
}

fn first_field(v: &Value, field: &str) -> Option<String> {
    match v {
        Value::Object(o) => o
            .get(field)
            .map(text_of)
            .filter(|s| !s.is_empty())
            .or_else(|| o.values().find_map(|x| first_field(x, field))),
        Value::Array(a) => a.iter().find_map(|x| first_field(x, field)),
        _ => None,
    }
}
