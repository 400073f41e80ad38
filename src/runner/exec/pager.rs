//! Walking a paginated read page by page: the [`Pager`] that knows a pagination's
//! parameters and where a page holds its items, and the walk that follows cursors, page
//! numbers or row ranges to the end and records what it saw.

use std::collections::HashSet;

use serde_json::Value;

use super::{describe, lookup, Ctx, Judgement, Step};
use crate::runner::http::Resp;
use crate::runner::outcome::{self, text_of};
use crate::sample;
use crate::spec::model::*;

impl<'a> Ctx<'a> {
    pub(super) async fn page_get(&mut self, pager: &Pager<'_>, target: &str) -> Step<Resp> {
        let mut req = self.with_body(self.request("GET", target, &pager.role)?, None);
        if let Some(a) = &pager.accept {
            req = req.header("Accept", a);
        }
        let was = self.dirty;
        let r = self.send(&req).await;
        self.dirty = was;
        r
    }

    /// Walk every page. The outer `Err` ends the test (transport); the inner `Err` is the
    /// test's finding (a broken walk).
    pub(super) async fn walk(
        &mut self,
        pager: &Pager<'_>,
        size: usize,
        dir: Dir,
    ) -> Step<Result<Walk, Judgement>> {
        let p = pager.p;
        let empty_status = p.empty.as_ref().map(|o| o.get_ref().status);
        let mut w = Walk::default();
        let Some(mut query) = pager.start_query(size, &dir, &mut w) else {
            return Ok(Ok(w));
        };
        for no in 0.. {
            if no >= self.s.opts.max_pages {
                return Ok(Err(Judgement::fail(
                    format!("the walk did not end after {} pages", self.s.opts.max_pages),
                    "a last page",
                    "pages without end",
                )));
            }
            let t = with_query(&pager.base, &query);
            let resp = self.page_get(pager, &t).await?;
            if Some(resp.status) == empty_status && resp.status != 200 {
                break;
            }
            if resp.status != 200 {
                return Ok(Err(Judgement::fail(
                    format!("page {} of the walk failed", no + 1),
                    "200",
                    describe(&resp),
                )));
            }
            let items = pager.items(&resp)?;
            let tree = outcome::parse(&resp)
                .map_err(|why| Judgement::error(format!("a page does not parse: {why}")))?;
            if let Some(f) = p.fields.get("total") {
                w.total = lookup(&tree, f).map(text_of).and_then(|t| t.parse().ok());
            }
            let ids: Vec<String> = items.iter().map(|i| pager.identity(i)).collect();
            match &dir {
                Dir::Forward => w.ids.extend(ids.iter().cloned()),
                Dir::Backward(..) => {
                    let mut all = ids.clone();
                    all.extend(std::mem::take(&mut w.ids));
                    w.ids = all;
                }
            }
            let page = Page {
                no,
                resp,
                tree,
                ids,
            };
            let next = match p.style {
                PaginationStyle::Cursor => pager.after_cursor_page(&page, size, &dir, &mut w),
                _ => pager.after_position_page(&page, size, &mut w),
            };
            match next {
                Ok(Some(q)) => query = q,
                Ok(None) => break,
                Err(o) => return Ok(Err(o)),
            }
        }
        Ok(Ok(w))
    }

    /// The pager of the entry's paginated read: its URL without paging parameters, the
    /// role to read as, and where its pages may hold their items.
    pub(super) fn pager(
        &self,
        ep: &Endpoint,
        op: &Operation,
        p: &'a Pagination,
        collection: Option<&str>,
    ) -> Pager<'a> {
        let role = self.role();
        let base = strip_query(
            &sample::target(self.spec, ep, op),
            &p.params.values().collect::<Vec<_>>(),
        );
        let schema = op
            .response
            .as_ref()
            .and_then(|r| r.schema.as_ref())
            .and_then(|s| self.spec.schema(s.get_ref()));
        let mut items_paths: Vec<String> = Vec::new();
        items_paths.extend(p.fields.get("items").cloned());
        items_paths.extend(op.response.as_ref().and_then(|r| r.wrapper.clone()));
        items_paths.push("items".into());
        items_paths.push(crate::spec::item_name(schema));
        Pager {
            p,
            base,
            role,
            key: collection
                .and_then(|c| self.spec.collection(c))
                .map(|c| c.key.clone())
                .unwrap_or_default(),
            items_paths,
            accept: Self::accept_for(Some(op)),
        }
    }
}

/// One page of a walk, as fetched.
struct Page {
    /// 0-based.
    no: usize,
    resp: Resp,
    tree: Value,
    /// The identities of its items.
    ids: Vec<String>,
}

/// How to read the pages of one paginated operation.
pub(super) struct Pager<'p> {
    pub(super) p: &'p Pagination,
    /// The operation's URL without its paging parameters.
    pub(super) base: String,
    role: String,
    key: Vec<String>,
    /// Where the items may be, most specific first.
    items_paths: Vec<String>,
    accept: Option<String>,
}

impl Pager<'_> {
    /// The query of a walk's first page; `None` when a backward walk has nothing before
    /// the last page (its items, already in `w`, are all there is).
    fn start_query(&self, size: usize, dir: &Dir, w: &mut Walk) -> Option<String> {
        let p = self.p;
        let sentinel = p.sentinel.unwrap_or(-1).to_string();
        match dir {
            Dir::Forward => Some(self.first_page_query(size)),
            Dir::Backward(prev, last) => {
                w.ids.extend(last.iter().cloned());
                match prev {
                    Some(c) if *c != sentinel => Some(format!(
                        "{}={c}&{}={size}",
                        p.params
                            .get("before")
                            .map(String::as_str)
                            .unwrap_or("before"),
                        p.params.get("limit").map(String::as_str).unwrap_or("limit")
                    )),
                    _ => None,
                }
            }
        }
    }

    /// After a page of a cursor pagination: note its cursors, and give the query of the
    /// next page (`None` at the end) or the walk's finding.
    fn after_cursor_page(
        &self,
        page: &Page,
        size: usize,
        dir: &Dir,
        w: &mut Walk,
    ) -> Result<Option<String>, Judgement> {
        let p = self.p;
        let sentinel = p.sentinel.unwrap_or(-1).to_string();
        let field = |name: &str| {
            p.fields
                .get(name)
                .and_then(|f| lookup(&page.tree, f))
                .map(text_of)
        };
        let next = field("next");
        let prev = field("prev");
        if page.no == 0 {
            w.first_prev = prev.clone();
        }
        w.last_next = next.clone();
        w.last_prev = prev.clone();
        w.last_page = page.ids.clone();
        let cursor = match dir {
            Dir::Forward => next,
            Dir::Backward(..) => prev,
        };
        let Some(c) = cursor else {
            return Err(Judgement::fail(
                "a page carries no cursor",
                "a cursor field on every page",
                describe(&page.resp),
            ));
        };
        if c == sentinel || page.ids.is_empty() {
            return Ok(None);
        }
        if !w.seen_cursors.insert(c.clone()) {
            return Err(Judgement::fail(
                format!("the cursor `{c}` came back twice: the walk would loop"),
                "every cursor once",
                format!("`{c}` again"),
            ));
        }
        let (name, lname) = match dir {
            Dir::Forward => ("after", "limit"),
            Dir::Backward(..) => ("before", "limit"),
        };
        Ok(Some(format!(
            "{}={}&{}={size}",
            p.params.get(name).map(String::as_str).unwrap_or(name),
            sample::encode(&c),
            p.params.get(lname).map(String::as_str).unwrap_or(lname)
        )))
    }

    /// After a page of a page-number, row-range or offset pagination: the query of the
    /// next page (`None` at the end) or the walk's finding.
    fn after_position_page(
        &self,
        page: &Page,
        size: usize,
        w: &mut Walk,
    ) -> Result<Option<String>, Judgement> {
        let p = self.p;
        let n = page.ids.len();
        if n == 0 || (n < size && !p.may_return_fewer) {
            return Ok(None);
        }
        if n > size {
            return Err(Judgement::fail(
                format!("a page holds {n} items for a page size of {size}"),
                format!("at most {size}"),
                format!("{n}"),
            ));
        }
        w.index += n;
        let first_index = p.first_index.unwrap_or(0) as usize;
        Ok(Some(self.query_at(first_index, page.no + 1, w.index, size)))
    }

    pub(super) fn first_page_query(&self, size: usize) -> String {
        let first = self.p.first_index.unwrap_or(0) as usize;
        self.query_at(first, 0, 0, size)
    }

    fn query_at(&self, first: usize, page: usize, index: usize, size: usize) -> String {
        let p = self.p;
        let name = |k: &str| p.params.get(k).cloned().unwrap_or_else(|| k.to_string());
        match p.style {
            PaginationStyle::Cursor => format!("{}={size}", name("limit")),
            PaginationStyle::Page => format!(
                "{}={}&{}={size}",
                name("page"),
                first + page,
                name("pagesize")
            ),
            PaginationStyle::Rows => format!(
                "{}={}&{}={}",
                name("start"),
                first + index,
                name("end"),
                first + index + size
            ),
            PaginationStyle::Offset => format!(
                "{}={}&{}={size}",
                name("start"),
                first + index,
                name("limit")
            ),
        }
    }

    pub(super) fn items(&self, resp: &Resp) -> Step<Vec<Value>> {
        if resp.status == 204 || resp.body.is_empty() {
            return Ok(vec![]);
        }
        let tree = outcome::parse(resp)
            .map_err(|w| Judgement::error(format!("a page does not parse: {w}")))?;
        let found = self
            .items_paths
            .iter()
            .find_map(|p| lookup(&tree, p))
            .cloned()
            .or_else(|| first_array(&tree).cloned());
        Ok(match found {
            Some(Value::Array(a)) => a,
            // XML: one item is an object, several an array; a wrapper may hold one more level.
            Some(Value::Object(o)) if o.len() == 1 => match o.into_iter().next().map(|(_, v)| v) {
                Some(Value::Array(a)) => a,
                Some(v) => vec![v],
                None => vec![],
            },
            Some(Value::Null) | None => vec![],
            // An empty XML element.
            Some(Value::String(t)) if t.trim().is_empty() => vec![],
            Some(v) => vec![v],
        })
    }

    fn identity(&self, item: &Value) -> String {
        let parts: Vec<String> = self
            .key
            .iter()
            .filter_map(|k| item.get(k).map(text_of))
            .collect();
        if parts.is_empty() || parts.len() != self.key.len() {
            serde_json::to_string(item).unwrap_or_default()
        } else {
            parts.join("/")
        }
    }
}

/// What a walk saw.
#[derive(Default)]
pub(super) struct Walk {
    /// The identities of the items, in walk order.
    pub(super) ids: Vec<String>,
    pub(super) first_prev: Option<String>,
    pub(super) last_next: Option<String>,
    pub(super) last_prev: Option<String>,
    pub(super) last_page: Vec<String>,
    pub(super) total: Option<usize>,
    /// The cursors followed so far (a cursor seen twice would loop).
    seen_cursors: HashSet<String>,
    /// Items before the next page (page-number, row-range and offset paginations).
    index: usize,
}

pub(super) enum Dir {
    Forward,
    /// Start before the last forward page: its `prev` cursor and its items.
    Backward(Option<String>, Vec<String>),
}

fn first_array(v: &Value) -> Option<&Value> {
    match v {
        Value::Array(_) => Some(v),
        Value::Object(o) => o.values().find_map(first_array),
        _ => None,
    }
}

/// `target` without the query parameters named in `names`.
fn strip_query(target: &str, names: &[&String]) -> String {
    let Some((path, q)) = target.split_once('?') else {
        return target.to_string();
    };
    let kept: Vec<&str> = q
        .split('&')
        .filter(|kv| {
            let k = kv.split('=').next().unwrap_or("");
            !names.iter().any(|n| n.as_str() == k)
        })
        .collect();
    if kept.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

pub(super) fn with_query(base: &str, q: &str) -> String {
    if q.is_empty() {
        base.to_string()
    } else if base.contains('?') {
        format!("{base}&{q}")
    } else {
        format!("{base}?{q}")
    }
}
