//! Pagination checks: for each paginated operation, the walks its style allows, the
//! generated-sizes property, the limit, and the empty and invalid answers the spec gives.

use super::{outcomes, CursorCheck, Exercise, PlanEntry};
use crate::spec::model::*;
use crate::spec::Spec;

/// A check's id suffix, what it checks and its summary.
type Probe = (&'static str, CursorCheck, String);

pub(super) fn cursors(spec: &Spec, api: &str, out: &mut Vec<PlanEntry>) {
    for ep in spec.endpoints() {
        for op in &ep.op {
            let Some(p) = op
                .pagination
                .as_ref()
                .and_then(|p| spec.pagination(p.get_ref()))
            else {
                continue;
            };
            let ok = outcomes(&op.success_outcome(), &[]);
            let checks = walks(p)
                .into_iter()
                .map(|c| (c, ok.clone()))
                .chain(refusals(p));
            for ((check, cc, summary), expect) in checks {
                let id = format!("{api}/{}/cursor/{check}", ep.id.get_ref());
                out.push(
                    PlanEntry::new(api, RuleKind::Cursor, id, Exercise::Cursor(cc))
                        .target(spec, ep, op)
                        .expect(expect)
                        .safety(op.safety())
                        .source(p.provenance.describe())
                        .summary(summary),
                );
            }
        }
    }
}

/// The checks answered with the operation's success: the walks of the style, the
/// generated-sizes property and the limit.
fn walks(p: &Pagination) -> Vec<Probe> {
    let mut checks: Vec<Probe> = Vec::new();
    match p.style {
        PaginationStyle::Cursor => {
            if p.params.contains_key("after") {
                checks.push((
                    "walk-forward",
                    CursorCheck::WalkForward,
                    "walking forward visits every item exactly once, in a stable order".into(),
                ));
            }
            if p.params.contains_key("before") {
                checks.push((
                    "walk-backward",
                    CursorCheck::WalkBackward,
                    "walking backward visits every item exactly once".into(),
                ));
            }
            if let Some(s) = p.sentinel {
                checks.push((
                    "sentinel",
                    CursorCheck::Sentinel,
                    format!("the cursor fields hold {s} at both ends"),
                ));
            }
        }
        PaginationStyle::Page => {
            checks.push((
                "walk-pages",
                CursorCheck::WalkPages,
                "walking the pages visits every item exactly once".into(),
            ));
            if !p.fields.is_empty() {
                checks.push((
                    "metadata",
                    CursorCheck::Metadata,
                    "the paging metadata matches the items returned".into(),
                ));
            }
        }
        PaginationStyle::Rows | PaginationStyle::Offset => {
            checks.push((
                "walk-ranges",
                CursorCheck::WalkRanges,
                "walking the ranges visits every item exactly once".into(),
            ));
        }
    }
    checks.push((
        "random-sizes",
        CursorCheck::RandomSizes,
        "over generated collection sizes and limits, a walk sees every item \
         exactly once, in the same order"
            .into(),
    ));
    let limit = match p.default_limit {
        Some(d) => format!("a page never exceeds the limit, and {d} items when none is given"),
        None => "a page never exceeds the limit".into(),
    };
    checks.push(("limit", CursorCheck::Limit, limit));
    checks
}

/// The checks with an outcome of their own, when the spec gives it: an empty result and
/// an invalid paging parameter.
fn refusals(p: &Pagination) -> Vec<(Probe, Vec<Outcome>)> {
    let mut checks = Vec::new();
    if let Some(emp) = &p.empty {
        checks.push((
            (
                "empty",
                CursorCheck::Empty,
                "an empty result has the documented status".into(),
            ),
            vec![emp.get_ref().clone()],
        ));
    }
    if let Some(inv) = &p.invalid {
        checks.push((
            (
                "invalid",
                CursorCheck::Invalid,
                "an invalid cursor or page parameter is refused".into(),
            ),
            vec![inv.get_ref().clone()],
        ));
    }
    checks
}
