//! What happens to a request that broke an oracle: it is minimized while it still breaks
//! the same one, then written up as a [`Finding`] with a replayable case.

use super::fuzzer::{Fuzzer, Target};
use super::mutate::{Draft, Mutation};
use super::seed::Seed;
use super::{save, Finding, Oracle};
use crate::runner::http::Sent;

/// A request that broke an oracle: its mutations, what was sent and answered, and why it
/// is wrong.
pub(super) struct Hit {
    pub(super) oracle: Oracle,
    pub(super) message: String,
    pub(super) mutations: Vec<Mutation>,
    pub(super) sent: Sent,
}

/// `seed`'s draft with `mutations` applied in order.
fn build(seed: &Seed, mutations: &[Mutation]) -> Draft {
    let mut d = seed.draft.clone();
    for m in mutations {
        m.apply(&mut d);
    }
    d
}

impl Fuzzer {
    /// Remove mutations one at a time, then halve the body, while the request still
    /// breaks the hit's oracle. At most 64 extra requests.
    pub(super) async fn minimize(&self, t: &Target, seed: &Seed, mut hit: Hit) -> Hit {
        let mut budget = 64;
        let mut i = 0;
        while i < hit.mutations.len() && budget > 0 {
            let mut fewer = hit.mutations.clone();
            fewer.remove(i);
            budget -= 1;
            let d = build(seed, &fewer);
            if d.body
                .as_ref()
                .is_some_and(|b| b.len() > self.opts.max_request_body)
            {
                i += 1;
                continue;
            }
            if !self.still_breaks(t, seed, &d, fewer, &mut hit).await {
                i += 1;
            }
        }
        for _ in 0..8 {
            let d = build(seed, &hit.mutations);
            if budget == 0 || d.body.as_ref().is_none_or(|b| b.len() < 16) {
                break;
            }
            let mut shorter = hit.mutations.clone();
            match shorter.last_mut() {
                Some(Mutation::Truncate { keep_percent }) if *keep_percent > 1 => {
                    *keep_percent /= 2
                }
                _ => shorter.push(Mutation::Truncate { keep_percent: 50 }),
            }
            budget -= 1;
            let d = build(seed, &shorter);
            if !self.still_breaks(t, seed, &d, shorter, &mut hit).await {
                break;
            }
        }
        hit
    }

    /// Send `d` (made of `mutations`); when it breaks the same oracle, it becomes the hit.
    async fn still_breaks(
        &self,
        t: &Target,
        seed: &Seed,
        d: &Draft,
        mutations: Vec<Mutation>,
        hit: &mut Hit,
    ) -> bool {
        let (sent, verdict) = self.try_once(t, seed, d).await;
        match verdict {
            Some((o, message)) if o == hit.oracle => {
                hit.mutations = mutations;
                hit.sent = sent;
                hit.message = message;
                true
            }
            _ => false,
        }
    }

    /// The finding `hit` makes, with its case and redacted evidence. `found_with` is how
    /// many mutations it had before minimizing.
    pub(super) fn finding(
        &self,
        t: &Target,
        seed: &Seed,
        hit: Hit,
        found_with: usize,
        found_after_s: f64,
    ) -> Finding {
        let client = &t.session.client;
        let Hit {
            oracle,
            message,
            mutations,
            sent,
        } = hit;
        let status = sent.result.as_ref().ok().map(|r| r.status);
        let name = save::name(t.spec.name(), &seed.endpoint, &seed.method, oracle, status);
        let d = build(seed, &mutations);
        let case = save::case_text(
            &t.spec,
            &t.judge,
            &save::CaseInput {
                name: &name,
                endpoint: &seed.endpoint,
                op_method: &seed.method,
                role: &seed.role,
                base: seed.base.as_deref(),
                base_path: &seed.base_path,
                read: seed.read,
                source: &seed.source,
                oracle,
                status,
                message: &client.redact(&message),
                mutations: &mutations,
                draft: &d,
                seed: self.opts.seed,
            },
            &|s| client.redact(s),
        );
        Finding {
            api: t.spec.name().to_string(),
            endpoint: seed.endpoint.clone(),
            method: seed.method.clone(),
            oracle,
            status,
            message: client.redact(&message),
            mutations,
            found_with,
            exchange: client.exchange(&sent),
            name,
            case,
            found_after_s,
            body: d.body.as_ref().map(|b| match std::str::from_utf8(b) {
                Ok(t) => client.redact(t).into_bytes(),
                Err(_) => b.clone(),
            }),
        }
    }
}
