//! The pagination checks: walks with several page sizes, backward walks, sentinels, the
//! paging metadata, the limit parameter, empty collections, spoilt cursors, and the
//! property over random collection and page sizes. The walk itself is in `pager`.

use std::collections::HashSet;

use proptest::strategy::{Strategy, ValueTree};

use super::pager::{with_query, Dir, Pager};
use super::{Ctx, Judgement, Step};
use crate::contract::Control;
use crate::plan::CursorCheck;
use crate::spec::model::*;

/// Rows the emulator is seeded with before a walk: enough for several pages of every size
/// tried, and not a multiple of any.
const SEED_ROWS: u64 = 23;

impl<'a> Ctx<'a> {
    pub(super) async fn cursor(&mut self, check: CursorCheck) -> Step<Judgement> {
        let (Some(ep), Some(op)) = self.endpoint_op() else {
            return Err(Judgement::error("the entry names no operation"));
        };
        let p = op
            .pagination
            .as_ref()
            .and_then(|n| self.spec.pagination(n.get_ref()))
            .ok_or_else(|| Judgement::error("the operation has no pagination"))?;
        let collection = ep.collection.as_ref().map(|c| c.get_ref().clone());
        let pager = self.pager(ep, op, p, collection.as_deref());
        if check == CursorCheck::RandomSizes {
            return self
                .cursor_random_sizes(&pager, collection.as_deref())
                .await;
        }
        let seeded = self.seed_walk(check, collection.as_deref()).await?;
        match check {
            CursorCheck::WalkForward | CursorCheck::WalkPages | CursorCheck::WalkRanges => {
                self.walk_sizes(&pager, seeded).await
            }
            CursorCheck::WalkBackward => self.walk_backward(&pager).await,
            CursorCheck::Sentinel => self.sentinels(&pager).await,
            CursorCheck::Metadata => self.metadata(&pager).await,
            CursorCheck::Limit => self.limit(&pager, seeded).await,
            CursorCheck::Empty => self.empty_page(&pager, collection.as_deref()).await,
            CursorCheck::RandomSizes => unreachable!("handled before seeding"),
            CursorCheck::Invalid => self.spoilt_position(&pager).await,
        }
    }

    /// A known population on the emulator (`SEED_ROWS` generated rows; none for the empty
    /// check); a real target is walked as it is. The number of rows seeded.
    async fn seed_walk(
        &mut self,
        check: CursorCheck,
        collection: Option<&str>,
    ) -> Step<Option<usize>> {
        match (collection, self.s.emulator()) {
            (Some(c), true) if check != CursorCheck::Empty => {
                let api = self.t.entry.api.clone();
                self.control(
                    Control::Generate {
                        api: &api,
                        collection: c,
                        count: Some(SEED_ROWS),
                    },
                    None,
                )
                .await?;
                self.dirty = true;
                Ok(Some(SEED_ROWS as usize))
            }
            _ => Ok(None),
        }
    }

    /// Forward walks with page sizes 1, 4 and 7 list every item once (all `seeded` of
    /// them, when the emulator was seeded), in the same order.
    async fn walk_sizes(&mut self, pager: &Pager<'_>, seeded: Option<usize>) -> Step<Judgement> {
        let mut first: Option<Vec<String>> = None;
        for size in [1usize, 4, 7] {
            let ids = match self.walk(pager, size, Dir::Forward).await? {
                Ok(w) => w.ids,
                Err(o) => return Ok(o),
            };
            if let Err(o) = unique(&ids, size) {
                return Ok(o);
            }
            if let Some(n) = seeded {
                if ids.len() != n {
                    return Ok(Judgement::fail(
                        format!(
                            "a walk with page size {size} saw {} items of {n}",
                            ids.len()
                        ),
                        format!("{n} items"),
                        format!("{} items", ids.len()),
                    ));
                }
            }
            match &first {
                None => first = Some(ids),
                Some(f) if *f != ids => {
                    return Ok(Judgement::fail(
                        format!("walks with page sizes 1 and {size} give a different order"),
                        format!("{:?}…", &f[..f.len().min(6)]),
                        format!("{:?}…", &ids[..ids.len().min(6)]),
                    ))
                }
                _ => {}
            }
        }
        Ok(Judgement::pass())
    }

    /// A backward walk from the last page visits the items a forward walk does.
    async fn walk_backward(&mut self, pager: &Pager<'_>) -> Step<Judgement> {
        let fwd = match self.walk(pager, 4, Dir::Forward).await? {
            Ok(w) => w,
            Err(o) => return Ok(o),
        };
        let back = match self
            .walk(
                pager,
                4,
                Dir::Backward(fwd.last_prev.clone(), fwd.last_page.clone()),
            )
            .await?
        {
            Ok(w) => w,
            Err(o) => return Ok(o),
        };
        if let Err(o) = unique(&back.ids, 4) {
            return Ok(o);
        }
        let mut a = fwd.ids.clone();
        let mut b = back.ids.clone();
        a.sort();
        b.sort();
        if a != b {
            return Ok(Judgement::fail(
                "walking backward does not visit the items walking forward does",
                format!("{} items", fwd.ids.len()),
                format!("{} items", back.ids.len()),
            ));
        }
        Ok(Judgement::pass())
    }

    /// The first page's `prev` cursor and the last page's `next` cursor are the sentinel.
    async fn sentinels(&mut self, pager: &Pager<'_>) -> Step<Judgement> {
        let s = pager.p.sentinel.unwrap_or(-1).to_string();
        let w = match self.walk(pager, 4, Dir::Forward).await? {
            Ok(w) => w,
            Err(o) => return Ok(o),
        };
        if w.first_prev.as_deref() != Some(s.as_str()) {
            return Ok(Judgement::fail(
                "the first page does not mark its start with the sentinel",
                format!("prev cursor {s}"),
                format!("prev cursor {:?}", w.first_prev),
            ));
        }
        if w.last_next.as_deref() != Some(s.as_str()) {
            return Ok(Judgement::fail(
                "the last page does not mark its end with the sentinel",
                format!("next cursor {s}"),
                format!("next cursor {:?}", w.last_next),
            ));
        }
        Ok(Judgement::pass())
    }

    /// The paging metadata's total, when the pagination has one, counts the items.
    async fn metadata(&mut self, pager: &Pager<'_>) -> Step<Judgement> {
        let w = match self.walk(pager, 4, Dir::Forward).await? {
            Ok(w) => w,
            Err(o) => return Ok(o),
        };
        match (pager.p.fields.get("total"), w.total) {
            (Some(_), Some(t)) if t != w.ids.len() => Ok(Judgement::fail(
                "the total in the paging metadata is not the number of items",
                format!("total {}", w.ids.len()),
                format!("total {t}"),
            )),
            (Some(f), None) => Ok(Judgement::fail(
                format!("the paging metadata lacks `{f}`"),
                format!("`{f}` in every page"),
                "absent".to_string(),
            )),
            _ => Ok(Judgement::pass()),
        }
    }

    /// The limit parameter bounds a page (and fills it, when more items exist and the
    /// pagination may not return fewer); without it, a cursor page holds at most the
    /// default.
    async fn limit(&mut self, pager: &Pager<'_>, seeded: Option<usize>) -> Step<Judgement> {
        let p = pager.p;
        let Some(lname) = p.limit_param() else {
            return Err(Judgement::skip("the pagination has no limit parameter"));
        };
        for size in [1usize, 3] {
            let t = with_query(&pager.base, &pager.first_page_query(size));
            let resp = self.page_get(pager, &t).await?;
            if resp.status >= 300 {
                return Ok(self.judge(&resp, &self.t.entry.expect));
            }
            let n = pager.items(&resp)?.len();
            if n > size {
                return Ok(Judgement::fail(
                    format!("{lname}={size} gave {n} items"),
                    format!("at most {size} items"),
                    format!("{n} items"),
                ));
            }
            if n < size && !p.may_return_fewer && seeded.is_some() {
                return Ok(Judgement::fail(
                    format!("{lname}={size} gave {n} items though more exist"),
                    format!("{size} items"),
                    format!("{n} items"),
                ));
            }
        }
        if let (Some(d), PaginationStyle::Cursor) = (p.default_limit, p.style) {
            let resp = self.page_get(pager, &pager.base).await?;
            let n = pager.items(&resp)?.len();
            if n > d as usize {
                return Ok(Judgement::fail(
                    format!("without `{lname}`, a page holds {n} items"),
                    format!("at most the default {d}"),
                    format!("{n} items"),
                ));
            }
        }
        Ok(Judgement::pass())
    }

    /// The read of an emptied collection (emulator only) answers as the spec says.
    async fn empty_page(&mut self, pager: &Pager<'_>, collection: Option<&str>) -> Step<Judgement> {
        let Some(c) = collection else {
            return Err(Judgement::skip("the resource has no collection to empty"));
        };
        self.need_control("needs an empty collection")?;
        let api = self.t.entry.api.clone();
        self.control(
            Control::LoadRows {
                api: &api,
                collection: c,
            },
            Some(b"[]".to_vec()),
        )
        .await?;
        self.dirty = true;
        let resp = self.page_get(pager, &pager.base).await?;
        Ok(self.judge(&resp, &self.t.entry.expect))
    }

    /// A cursor, page number or start row that is not one is refused as the spec says.
    async fn spoilt_position(&mut self, pager: &Pager<'_>) -> Step<Judgement> {
        let p = pager.p;
        let q = match p.style {
            PaginationStyle::Cursor => p
                .params
                .get("after")
                .map(|a| format!("{a}=dialtone-not-a-cursor")),
            PaginationStyle::Page => p
                .params
                .get("page")
                .map(|a| format!("{a}=dialtone-not-a-page")),
            _ => p
                .params
                .get("start")
                .map(|a| format!("{a}=dialtone-not-a-row")),
        };
        let Some(q) = q else {
            return Err(Judgement::skip("the pagination has no parameter to spoil"));
        };
        let resp = self.page_get(pager, &with_query(&pager.base, &q)).await?;
        Ok(self.judge(&resp, &self.t.entry.expect))
    }

    /// Property: for generated (collection size, page size) pairs, a forward walk sees every
    /// item exactly once, all of them (on the emulator, which is seeded with that many rows
    /// through its control interface), in the order of a walk in one big page. A real
    /// target is walked over its own data, with generated page sizes. A failing pair is
    /// shrunk to the smallest that still fails.
    async fn cursor_random_sizes(
        &mut self,
        pager: &Pager<'_>,
        collection: Option<&str>,
    ) -> Step<Judgement> {
        let seed = self.seed();
        let api = self.t.entry.api.clone();
        let emulated = self.s.emulator() && collection.is_some();
        let max_limit = pager
            .p
            .max_limit
            .map(|m| m as usize)
            .unwrap_or(12)
            .clamp(1, 12);
        let strat = (0usize..=30, 1usize..=max_limit);
        let mut runner = self.case_runner(11);
        let mut reference: Option<Vec<String>> = None;
        let deadline = self.s.property_deadline();
        for case in 0..self.cases() as usize {
            if self.out_of_time(case, deadline) {
                break;
            }
            let mut tree = strat
                .new_tree(&mut runner)
                .map_err(|r| Judgement::error(format!("generating sizes: {r}")))?;
            let (n, size) = tree.current();
            let Some(why) = self
                .random_walk(pager, collection, emulated, n, size, &mut reference, &api)
                .await?
            else {
                continue;
            };
            let mut best = ((n, size), why);
            let mut steps = 0;
            if tree.simplify() {
                while steps < 48 {
                    steps += 1;
                    let (n, size) = tree.current();
                    match self
                        .random_walk(pager, collection, emulated, n, size, &mut reference, &api)
                        .await?
                    {
                        Some(w) => {
                            best = ((n, size), w);
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
            let ((n, size), mut o) = best;
            // The evidence is one replay of the shrunk case, not every attempt.
            let mark = self.exchanges.len();
            let mut fresh = None;
            if let Some(again) = self
                .random_walk(pager, collection, emulated, n, size, &mut fresh, &api)
                .await?
            {
                self.exchanges.drain(..mark);
                o = again;
            }
            o.message = Some(format!(
                "{} (collection of {}, page size {size}; case {} of seed {seed}, shrunk in {steps} steps; `--seed {seed}` reproduces it)",
                o.message.clone().unwrap_or_default(),
                if emulated { n.to_string() } else { "the target's".into() },
                case + 1
            ));
            return Ok(o);
        }
        Ok(Judgement::pass())
    }

    /// One walk of the random-sizes property; `Some(failure)` when it breaks an invariant.
    #[allow(clippy::too_many_arguments)]
    async fn random_walk(
        &mut self,
        pager: &Pager<'_>,
        collection: Option<&str>,
        emulated: bool,
        n: usize,
        size: usize,
        reference: &mut Option<Vec<String>>,
        api: &str,
    ) -> Step<Option<Judgement>> {
        if emulated {
            let c = collection.unwrap_or_default();
            self.control(
                Control::Generate {
                    api,
                    collection: c,
                    count: Some(n as u64),
                },
                None,
            )
            .await?;
            self.dirty = true;
        }
        let ids = match self.walk(pager, size, Dir::Forward).await? {
            Ok(w) => w.ids,
            Err(o) => return Ok(Some(o)),
        };
        if let Err(o) = unique(&ids, size) {
            return Ok(Some(o));
        }
        if emulated {
            if ids.len() != n {
                return Ok(Some(Judgement::fail(
                    format!("the walk saw {} items of {n}", ids.len()),
                    format!("{n} items"),
                    format!("{} items", ids.len()),
                )));
            }
            // The order of a walk in one page holding everything.
            let whole = match self.walk(pager, n.max(1), Dir::Forward).await? {
                Ok(w) => w.ids,
                Err(o) => return Ok(Some(o)),
            };
            if whole != ids {
                return Ok(Some(Judgement::fail(
                    format!("pages of {size} list the items in another order than one page of {n}"),
                    format!("{:?}…", &whole[..whole.len().min(6)]),
                    format!("{:?}…", &ids[..ids.len().min(6)]),
                )));
            }
        } else {
            match reference {
                None => *reference = Some(ids),
                Some(r) if *r != ids => {
                    return Ok(Some(Judgement::fail(
                        format!("a walk with page size {size} lists other items or another order than the first walk"),
                        format!("{} items: {:?}…", r.len(), &r[..r.len().min(6)]),
                        format!("{} items: {:?}…", ids.len(), &ids[..ids.len().min(6)]),
                    )))
                }
                _ => {}
            }
        }
        Ok(None)
    }
}

/// A walk's finding when it listed an item twice.
fn unique(ids: &[String], size: usize) -> Result<(), Judgement> {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            return Err(Judgement::fail(
                format!("a walk with page size {size} listed `{id}` twice"),
                "every item once",
                format!("`{id}` twice"),
            ));
        }
    }
    Ok(())
}
