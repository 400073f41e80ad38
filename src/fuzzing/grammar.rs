//! Targets for the small grammars: ROME's `queryString`, the paging parameters, the
//! Mediant KPI paths.

use arbitrary::{Arbitrary, Unstructured};
use serde_json::json;

use super::bundled_specs;
use crate::emulator::paging::{self, PageKind};
use crate::emulator::vendor::mediant::kpi_path::KpiPath;
use crate::emulator::vendor::rome::{parse_query_string, print_query_string};
use crate::spec::model::Pagination;

/// ROME `queryString`: parse → print → parse gives the same conditions, and printing is
/// stable. Evaluating the conditions against a few rows is deterministic.
pub fn rome_query(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(conds) = parse_query_string(&text) else {
        return;
    };
    assert!(!conds.is_empty(), "an accepted query has a condition");
    let printed = print_query_string(&conds);
    let again = parse_query_string(&printed)
        .unwrap_or_else(|e| panic!("the printed query `{printed}` does not parse: {e}"));
    assert_eq!(again, conds, "parse → print → parse changed `{text}`");
    assert_eq!(print_query_string(&again), printed);
    let rows = [
        json!({"alias": "my-TEST-1", "digitMatch": "1212", "id": 7}),
        json!({"alias": ["a", "b%_"], "digitMatch": 1212}),
        json!({"alias": "", "note": null}),
    ];
    for row in &rows {
        let first: Vec<bool> = conds.iter().map(|c| c.matches(row)).collect();
        let second: Vec<bool> = conds.iter().map(|c| c.matches(row)).collect();
        assert_eq!(first, second, "matching is not deterministic");
    }
}

/// A paging parameter name: one of the pagination's roles, or any text.
#[derive(Debug, Arbitrary)]
enum Name {
    Role(u8),
    Other(String),
}

/// What `paging_params` reads from the fuzzer's bytes.
#[derive(Debug, Arbitrary)]
pub struct PagingInput {
    pagination: u8,
    window: bool,
    first_index: Option<u8>,
    max_limit: Option<u16>,
    query: Vec<(Name, String)>,
}

fn paginations() -> Vec<&'static Pagination> {
    bundled_specs()
        .iter()
        .flat_map(|s| s.raw.paginations.iter().map(|e| &e.value))
        .collect()
}

/// Paging parameters: the parser the emulator uses (`emulator::paging::parse`), over every
/// pagination of the bundled specs (with the fuzzer's `first_index` and `max_limit`). An
/// accepted limit is positive and, once clamped, within `max_limit`; a page is at least the
/// first index; the request printed back as a query parses to the same request; and the
/// first of a repeated parameter counts.
pub fn paging_params(data: &[u8]) {
    let Ok(input) = PagingInput::arbitrary_take_rest(Unstructured::new(data)) else {
        return;
    };
    let all = paginations();
    let mut p = all[input.pagination as usize % all.len()].clone();
    if let Some(f) = input.first_index {
        p.first_index = Some(u64::from(f % 2));
    }
    if let Some(m) = input.max_limit {
        p.max_limit = Some(u64::from(m));
    }
    let roles: Vec<String> = p.params.values().cloned().collect();
    let query: Vec<(String, String)> = input
        .query
        .into_iter()
        .map(|(n, v)| match n {
            Name::Role(i) if !roles.is_empty() => (roles[i as usize % roles.len()].clone(), v),
            Name::Role(_) => ("limit".into(), v),
            Name::Other(s) => (s, v),
        })
        .collect();
    let kind = if input.window {
        PageKind::Window
    } else {
        PageKind::Cursor
    };
    let req = match paging::parse(&p, &query, kind) {
        Ok(r) => r,
        Err(e) => {
            assert!(e.0.starts_with("invalid "), "error message: {e}");
            return;
        }
    };
    if let Some(l) = req.limit {
        assert!(l > 0, "a limit of 0 was accepted");
    }
    if let (Some(l), Some(m)) = (req.effective_limit(&p, true), p.max_limit) {
        assert!(l as u64 <= m, "limit {l} over max_limit {m}");
    }
    if let Some(page) = req.page {
        assert!(
            page as u64 >= p.first_index.unwrap_or(0),
            "page below the first"
        );
    }
    let printed = req.to_query(&p, kind);
    assert_eq!(
        paging::parse(&p, &printed, kind),
        Ok(req.clone()),
        "the printed request {printed:?} parses differently"
    );
    // Only the first occurrence of a name counts: appending the query again changes nothing.
    let mut doubled = query.clone();
    doubled.extend(query.iter().cloned());
    assert_eq!(paging::parse(&p, &doubled, kind), Ok(req));
}

/// Mediant KPI paths: an accepted path prints back as itself (no normalisation), and the
/// printed form parses to the same path. The input is tried as a path and as the segments
/// after `/kpi/`.
pub fn kpi_path(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for candidate in [text.to_string(), format!("/kpi/{text}")] {
        let Ok(p) = KpiPath::parse(&candidate) else {
            continue;
        };
        let shown = p.to_string();
        assert_eq!(shown, candidate, "display of a parsed path is not the path");
        assert_eq!(
            KpiPath::parse(&shown),
            Ok(p.clone()),
            "display does not parse back"
        );
        assert!(p.same_ignoring_group_case(&p));
    }
}
