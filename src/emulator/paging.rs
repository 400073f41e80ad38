//! The paging parameters of a request, parsed once from the query by the spec's
//! [`Pagination`]: a pure function shared by the engine (cursor pages, fixed-list pages and
//! page/rows/offset windows) and the `paging_params` fuzz target.
//!
//! Which parameters are read depends on how the page is cut ([`PageKind`]):
//!
//! * [`PageKind::Cursor`] (cursor pages from a table or a fixed list): `after`, `before`
//!   (integers) and `limit`, in that order.
//! * [`PageKind::Window`] (a window of filtered rows), by the pagination's style:
//!   `page`: `pagesize` then `page` (at least `first_index`); `rows`: `start` then `end`;
//!   `offset` and `cursor`: `start` (or the `offset` role) then `limit`.
//!
//! A limit or page size must be a positive integer; surrounding whitespace is ignored.
//! The first bad parameter is reported; a parameter given twice counts once (the first).

use crate::spec::model::{Pagination, PaginationStyle};

/// How the page will be cut, which decides the parameters read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    Cursor,
    Window,
}

/// The paging parameters a request gave, as given (no default or clamp applied).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub after: Option<i64>,
    pub before: Option<i64>,
    /// `limit`, or `pagesize` for the page style; always positive.
    pub limit: Option<usize>,
    /// Page number as given (at least the pagination's `first_index`).
    pub page: Option<usize>,
    pub start: Option<usize>,
    pub end: Option<usize>,
}

/// A paging parameter the emulator refuses; the message is what the answer carries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PagingError(pub String);

fn value<'q>(p: &Pagination, query: &'q [(String, String)], role: &str) -> Option<&'q str> {
    let name = p.params.get(role)?;
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The role whose parameter gives the first row: `start`, else `offset`.
fn start_role(p: &Pagination) -> &'static str {
    if p.params.contains_key("start") {
        "start"
    } else {
        "offset"
    }
}

fn limit(
    p: &Pagination,
    query: &[(String, String)],
    role: &str,
) -> Result<Option<usize>, PagingError> {
    let Some(v) = value(p, query, role) else {
        return Ok(None);
    };
    match v.trim().parse::<i64>() {
        Ok(n) if n > 0 => Ok(usize::try_from(n).ok()),
        _ => Err(PagingError(format!("invalid {role} `{v}`"))),
    }
}

fn cursor(
    p: &Pagination,
    query: &[(String, String)],
    role: &str,
) -> Result<Option<i64>, PagingError> {
    match value(p, query, role) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| PagingError(format!("invalid cursor {role} `{v}`"))),
    }
}

fn row(
    p: &Pagination,
    query: &[(String, String)],
    role: &str,
    what: &str,
) -> Result<Option<usize>, PagingError> {
    match value(p, query, role) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<usize>()
            .map(Some)
            .map_err(|_| PagingError(format!("invalid {what}"))),
    }
}

/// Parse the paging parameters of `query` (name, value pairs in request order).
pub fn parse(
    p: &Pagination,
    query: &[(String, String)],
    kind: PageKind,
) -> Result<PageRequest, PagingError> {
    let mut r = PageRequest::default();
    match (kind, p.style) {
        (PageKind::Cursor, _) => {
            r.after = cursor(p, query, "after")?;
            r.before = cursor(p, query, "before")?;
            r.limit = limit(p, query, "limit")?;
        }
        (PageKind::Window, PaginationStyle::Page) => {
            r.limit = limit(p, query, "pagesize")?;
            let first = p.first_index.unwrap_or(0);
            if let Some(v) = value(p, query, "page") {
                match v.trim().parse::<usize>() {
                    Ok(n) if n as u64 >= first => r.page = Some(n),
                    _ => return Err(PagingError(format!("invalid page `{v}`"))),
                }
            }
        }
        (PageKind::Window, PaginationStyle::Rows) => {
            r.start = row(p, query, "start", "start")?;
            r.end = row(p, query, "end", "end")?;
        }
        (PageKind::Window, PaginationStyle::Offset | PaginationStyle::Cursor) => {
            r.start = row(p, query, start_role(p), "start")?;
            r.limit = limit(p, query, "limit")?;
        }
    }
    Ok(r)
}

impl PageRequest {
    /// The query pairs that ask for this request under `p` (the parameters `kind` reads).
    /// Parameters the pagination does not name are left out.
    pub fn to_query(&self, p: &Pagination, kind: PageKind) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut push = |role: &str, v: Option<String>| {
            if let (Some(name), Some(v)) = (p.params.get(role), v) {
                out.push((name.clone(), v));
            }
        };
        let s = |v: Option<usize>| v.map(|n| n.to_string());
        match (kind, p.style) {
            (PageKind::Cursor, _) => {
                push("after", self.after.map(|n| n.to_string()));
                push("before", self.before.map(|n| n.to_string()));
                push("limit", s(self.limit));
            }
            (PageKind::Window, PaginationStyle::Page) => {
                push("pagesize", s(self.limit));
                push("page", s(self.page));
            }
            (PageKind::Window, PaginationStyle::Rows) => {
                push("start", s(self.start));
                push("end", s(self.end));
            }
            (PageKind::Window, PaginationStyle::Offset | PaginationStyle::Cursor) => {
                push(start_role(p), s(self.start));
                push("limit", s(self.limit));
            }
        }
        out
    }

    /// The limit to apply: the one given, else the pagination's default; clamped to
    /// `max_limit` when `clamp` (fixed-list cursor pages do not clamp). `None`: no limit.
    pub fn effective_limit(&self, p: &Pagination, clamp: bool) -> Option<usize> {
        let l = self.limit.or(p
            .default_limit
            .map(|d| usize::try_from(d).unwrap_or(usize::MAX)))?;
        Some(match p.max_limit {
            Some(m) if clamp => l.min(usize::try_from(m).unwrap_or(usize::MAX)),
            _ => l,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pagination(toml_text: &str) -> Pagination {
        toml::from_str(toml_text).unwrap()
    }

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const CURSOR: &str = r#"name = "c"
style = "cursor"
params = { after = "after", before = "before", limit = "limit" }
default_limit = 20
max_limit = 100
inferred = "test"
"#;

    #[test]
    fn cursor_parameters() {
        let p = pagination(CURSOR);
        let r = parse(
            &p,
            &q(&[("after", " 3 "), ("limit", "5")]),
            PageKind::Cursor,
        )
        .unwrap();
        assert_eq!((r.after, r.before, r.limit), (Some(3), None, Some(5)));
        assert_eq!(r.effective_limit(&p, true), Some(5));
        let r = parse(&p, &q(&[("limit", "500")]), PageKind::Cursor).unwrap();
        assert_eq!(r.effective_limit(&p, true), Some(100));
        assert_eq!(r.effective_limit(&p, false), Some(500));
        let e = parse(&p, &q(&[("limit", "0"), ("after", "x")]), PageKind::Cursor).unwrap_err();
        assert_eq!(e.0, "invalid cursor after `x`");
        let e = parse(&p, &q(&[("limit", "-1")]), PageKind::Cursor).unwrap_err();
        assert_eq!(e.0, "invalid limit `-1`");
    }

    #[test]
    fn page_style_checks_the_first_index() {
        let p = pagination(
            r#"name = "p"
style = "page"
params = { page = "page", pagesize = "pagesize" }
first_index = 1
inferred = "test"
"#,
        );
        let r = parse(
            &p,
            &q(&[("page", "2"), ("pagesize", "10")]),
            PageKind::Window,
        )
        .unwrap();
        assert_eq!((r.page, r.limit), (Some(2), Some(10)));
        assert_eq!(
            parse(&p, &r.to_query(&p, PageKind::Window), PageKind::Window),
            Ok(r)
        );
        let e = parse(&p, &q(&[("page", "0")]), PageKind::Window).unwrap_err();
        assert_eq!(e.0, "invalid page `0`");
    }
}
