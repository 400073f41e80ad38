//! The report's larger views: the privilege grid per API, coverage by document section,
//! failures grouped by rule, and the list of every test behind the filter.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{escape, problem};
use crate::runner::{RunReport, TestResult, Verdict};

/// Each test's anchor (`t<index>`), by id.
pub(super) fn anchors(report: &RunReport) -> BTreeMap<&str, String> {
    report
        .results
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), format!("t{i}")))
        .collect()
}

/// The CSS class of a result: its verdict, or `known` for a baselined failure.
pub(super) fn class(r: &TestResult) -> &'static str {
    if r.known.is_some() {
        "known"
    } else {
        r.verdict.as_str()
    }
}

/// A matrix test id `api/endpoint.../matrix/METHOD/role` as (api, endpoint, method, role).
fn matrix_cell(id: &str) -> Option<(&str, &str, &str, &str)> {
    let (left, right) = id.split_once("/matrix/")?;
    let (api, endpoint) = left.split_once('/')?;
    let (method, role) = right.split_once('/')?;
    (!role.contains('/')).then_some((api, endpoint, method, role))
}

/// An API's grid: (endpoint, method) → caller → result.
type Rows<'r> = BTreeMap<(&'r str, &'r str), BTreeMap<&'r str, &'r TestResult>>;

/// The privilege matrix of each API: a row per endpoint and method, a column per role,
/// each cell coloured by its verdict and linking to its evidence.
pub(super) fn grids(report: &RunReport, anchors: &BTreeMap<&str, String>, h: &mut String) {
    // api -> (endpoint, method) -> role -> result
    let mut by_api: BTreeMap<&str, Rows> = BTreeMap::new();
    let mut roles: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in &report.results {
        let Some((api, ep, method, role)) = matrix_cell(&r.id) else {
            continue;
        };
        by_api
            .entry(api)
            .or_default()
            .entry((ep, method))
            .or_default()
            .insert(role, r);
        let rs = roles.entry(api).or_default();
        if !rs.contains(&role) {
            rs.push(role);
        }
    }
    if by_api.is_empty() {
        return;
    }
    h.push_str("<h2>Privilege matrix</h2>\n<p>One row per endpoint and method, one column per caller; each cell is the verdict of that matrix test and links to its evidence.</p>\n");
    for (api, rows) in by_api {
        let cols = &roles[api];
        let cells: usize = rows.values().map(|m| m.len()).sum();
        let _ = writeln!(
            h,
            "<h3>{}</h3>\n<div class=\"grid\" data-cells=\"{cells}\"><table>\n<tr><th>endpoint</th><th>method</th>{}</tr>",
            escape(api),
            cols.iter()
                .map(|c| format!("<th>{}</th>", escape(c)))
                .collect::<String>()
        );
        for ((ep, method), by_role) in rows {
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td>",
                escape(ep),
                escape(method)
            );
            for c in cols {
                match by_role.get(c) {
                    Some(r) => {
                        let a = anchors.get(r.id.as_str()).cloned().unwrap_or_default();
                        let v = class(r);
                        let _ = write!(
                            h,
                            "<td class=\"cell {v}\" title=\"{}\"><a href=\"#{a}\">{}</a></td>",
                            escape(&r.id),
                            cell_mark(r)
                        );
                    }
                    None => h.push_str("<td class=\"none\"></td>"),
                }
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</table></div>\n");
    }
}

fn cell_mark(r: &TestResult) -> &'static str {
    if r.known.is_some() {
        return "known";
    }
    match r.verdict {
        Verdict::Pass => "pass",
        Verdict::Fail => "FAIL",
        Verdict::Error => "error",
        Verdict::Skip => "skip",
    }
}

/// The document section a rule's `source` cites: the first `§n`, `Table n-m` or, for
/// documents cited by line only, the block of 500 lines its first line falls in.
fn section(source: &str) -> String {
    if source.starts_with("inferred") {
        return "inferred (no section)".into();
    }
    if let Some(i) = source.find('§') {
        let rest = &source[i..];
        let end = rest[2..]
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .map(|j| j + 2)
            .unwrap_or(rest.len());
        return rest[..end].to_string();
    }
    if let Some(i) = source.find("Table ") {
        let rest = &source[i..];
        let end = rest[6..]
            .find(|c: char| !(c.is_ascii_digit() || c == '-' || c == '.'))
            .map(|j| j + 6)
            .unwrap_or(rest.len());
        return rest[..end].to_string();
    }
    let line = source
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find_map(|t| t.strip_prefix('L').and_then(|n| n.parse::<u32>().ok()));
    match line {
        Some(n) => {
            let from = n / 500 * 500;
            format!("lines {}-{}", from.max(1), from + 499)
        }
        None => "other".into(),
    }
}

/// Tests by the document section their rule cites: tested, failed, skipped.
pub(super) fn coverage(report: &RunReport, h: &mut String) {
    let mut by: BTreeMap<(String, String), [usize; 4]> = BTreeMap::new();
    for r in &report.results {
        let e = by.entry((r.api.clone(), section(&r.source))).or_default();
        let i = match (r.verdict, r.known.is_some()) {
            (Verdict::Pass, _) => 0,
            (Verdict::Fail | Verdict::Error, false) => 1,
            (Verdict::Fail | Verdict::Error, true) => 2,
            (Verdict::Skip, _) => 3,
        };
        e[i] += 1;
    }
    h.push_str("<h2>Coverage by document section</h2>\n<table>\n<tr><th>API</th><th>section</th><th class=\"pass\">passed</th><th class=\"fail\">failed</th><th class=\"known\">known</th><th class=\"skip\">skipped</th></tr>\n");
    for ((api, sec), n) in by {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&api),
            escape(&sec),
            n[0],
            n[1],
            n[2],
            n[3]
        );
    }
    h.push_str("</table>\n<p>Skip reasons are listed below.</p>\n");
}

/// Failures and errors grouped by the rule they break, most tests first; each test's
/// evidence folds away.
pub(super) fn grouped(
    title: &str,
    problems: &[&TestResult],
    anchors: &BTreeMap<&str, String>,
    h: &mut String,
) {
    if problems.is_empty() {
        return;
    }
    let mut groups: BTreeMap<&str, Vec<&TestResult>> = BTreeMap::new();
    for r in problems {
        groups.entry(r.rule.as_str()).or_default().push(r);
    }
    let mut groups: Vec<(&str, Vec<&TestResult>)> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
    let _ = writeln!(
        h,
        "<h2>{title} ({} tests, {} rules)</h2>",
        problems.len(),
        groups.len()
    );
    for (rule, tests) in groups {
        let _ = writeln!(
            h,
            "<details class=\"group\" open><summary><code>{}</code>: {} test{} <span class=\"src\">{}</span></summary>",
            escape(rule),
            tests.len(),
            if tests.len() == 1 { "" } else { "s" },
            escape(&tests[0].source)
        );
        for r in tests {
            let a = anchors.get(r.id.as_str()).cloned().unwrap_or_default();
            problem(r, &a, h);
        }
        h.push_str("</details>\n");
    }
}

/// Every test, filterable by id.
pub(super) fn all_tests(report: &RunReport, anchors: &BTreeMap<&str, String>, h: &mut String) {
    let _ = writeln!(
        h,
        "<h2>All tests</h2>\n<p><input id=\"filter\" type=\"search\" placeholder=\"filter by test id\" size=\"50\"> <span id=\"shown\"></span></p>\n<table class=\"all\">\n<tr><th>test</th><th>verdict</th><th>message</th></tr>"
    );
    for r in &report.results {
        let a = anchors.get(r.id.as_str()).cloned().unwrap_or_default();
        let evidence = matches!(r.verdict, Verdict::Fail | Verdict::Error);
        let (row_id, link) = if evidence {
            (
                String::new(),
                format!("<a href=\"#{a}\">{}</a>", escape(&r.id)),
            )
        } else {
            (format!(" id=\"{a}\""), escape(&r.id))
        };
        let msg = r.known.as_deref().or(r.message.as_deref()).unwrap_or("");
        let _ = writeln!(
            h,
            "<tr{row_id} data-id=\"{}\"><td><code>{link}</code></td><td class=\"{}\">{}</td><td>{}</td></tr>",
            escape(&r.id),
            class(r),
            class(r),
            escape(msg.lines().next().unwrap_or(""))
        );
    }
    h.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_ids_split_into_cells() {
        assert_eq!(
            matrix_cell("mediant/alarms/active/matrix/GET/monitor"),
            Some(("mediant", "alarms/active", "GET", "monitor"))
        );
        assert_eq!(matrix_cell("mediant/alarms/active/cursor/limit"), None);
    }

    #[test]
    fn sources_fall_into_sections() {
        assert_eq!(section("§7 Debug File L2615-2662"), "§7");
        assert_eq!(section("§10.2 x"), "§10.2");
        assert_eq!(section("Table 2-2 row 15 L397"), "Table 2-2");
        assert_eq!(section("L3751-3753"), "lines 3500-3999");
        assert_eq!(section("inferred: no word"), "inferred (no section)");
    }
}
