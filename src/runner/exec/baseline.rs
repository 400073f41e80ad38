//! Snapshot tests (`--snapshots`): the normalised answer of a read, recorded as a baseline
//! or compared with the one recorded before. The files themselves are handled by
//! `runner::snapshot`.

use super::{Ctx, Judgement, Step};
use crate::runner::snapshot as snap;
use crate::runner::Verdict;
use crate::sample;

impl<'a> Ctx<'a> {
    /// Record the normalised answer of a read, or compare it with the recorded baseline.
    pub(super) async fn snapshot(&mut self) -> Step<Judgement> {
        let e = self.t.entry.clone();
        let Some(cfg) = self.s.opts.snapshots.clone() else {
            return Err(Judgement::skip(
                "no snapshot directory given (--snapshots DIR)",
            ));
        };
        let (Some(ep), Some(op)) = self.endpoint_op() else {
            return Err(Judgement::error("the entry names no operation"));
        };
        let target = sample::target(self.spec, ep, op);
        let role = self.role();
        let mut req = self.with_body(self.request("GET", &target, &role)?, None);
        if let Some(a) = Self::accept_for(Some(op)) {
            req = req.header("Accept", &a);
        }
        let resp = self.send(&req).await?;
        let o = self.judge(&resp, &e.expect);
        if o.verdict != Verdict::Pass {
            return Ok(o);
        }
        let text = snap::normalize(self.spec, ep.id.get_ref(), self.s.client.base(), &resp);
        let text = self.s.client.redact(&text);
        let path = cfg.dir.join(snap::relative_path(&e.id));
        if cfg.record {
            snap::write(&path, &e.id, &text).map_err(|err| Judgement::error(err.to_string()))?;
            let _ = std::fs::remove_file(path.with_extension("snap.new"));
            return Ok(Judgement::pass());
        }
        let baseline = match snap::read(&path) {
            Ok(Some(b)) => b,
            Ok(None) => {
                return Err(Judgement::error(format!(
                    "no baseline at {}; record one with `dialtone snapshot record`",
                    path.display()
                )))
            }
            Err(err) => return Err(Judgement::error(err.to_string())),
        };
        if snap::same(&baseline, &text) {
            return Ok(Judgement::pass());
        }
        let new = path.with_extension("snap.new");
        let saved = snap::write(&new, &e.id, &text).is_ok();
        Ok(Judgement::fail(
            format!(
                "the answer drifted from the baseline {}{}",
                path.display(),
                if saved {
                    format!(
                        "; the new answer is in {} (`dialtone snapshot review --dir {}` accepts or rejects it)",
                        new.display(),
                        cfg.dir.display()
                    )
                } else {
                    String::new()
                }
            ),
            "the recorded baseline".to_string(),
            snap::diff(&baseline, &text),
        ))
    }
}
