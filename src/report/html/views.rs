//! The report's larger views: the privilege grid per API, coverage by document section,
//! failures grouped by rule, and the list of every test behind the filter.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{escape, problem};
use crate::runner::coverage::{self, Status};
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

/// Coverage by document: per API, each section of its source document with its explicit
/// rules by status, the rules not tested with why, and the digest numbers. A report
/// without a coverage section (an older one) gets the tests by section instead.
pub(super) fn coverage(report: &RunReport, h: &mut String) {
    let Some(cov) = &report.coverage else {
        by_section(report, h);
        return;
    };
    h.push_str("<h2 id=\"coverage\">Coverage by document</h2>\n");
    for a in &cov.apis {
        let _ = writeln!(
            h,
            "<h3>{}</h3>\n<p class=\"counts\">{}</p>\n<table class=\"coverage\" data-api=\"{}\">\n<tr><th>section</th><th class=\"pass\">tested</th><th>untestable</th><th class=\"known\">emulator gap</th><th class=\"skip\">skipped</th><th>not run</th></tr>",
            escape(&a.api),
            escape(&crate::report::coverage::counts_line(&a.counts)),
            escape(&a.api)
        );
        for s in &a.sections {
            let n = |st: Status| s.rules.iter().filter(|r| r.status == st).count();
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                escape(&s.section),
                n(Status::Tested),
                n(Status::Untestable),
                n(Status::Gap),
                n(Status::Skipped),
                n(Status::NotRun)
            );
        }
        h.push_str("</table>\n");
        let open: Vec<_> = a
            .sections
            .iter()
            .flat_map(|s| s.rules.iter().map(move |r| (s, r)))
            .filter(|(_, r)| r.status != Status::Tested)
            .collect();
        if !open.is_empty() {
            let _ = writeln!(
                h,
                "<details><summary>{} rules not tested, with why</summary>\n<table>",
                open.len()
            );
            for (s, r) in open {
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                    escape(&s.section),
                    escape(r.status.as_str()),
                    escape(&r.id),
                    escape(r.why.as_deref().unwrap_or(""))
                );
            }
            h.push_str("</table></details>\n");
        }
        if !a.digest.is_empty() {
            let n = |st: Status| a.digest.iter().filter(|d| d.status == st).count();
            let _ = writeln!(
                h,
                "<details><summary>digest: {} numbers, {} traced to a tested rule, {} untestable, {} emulator gap, {} skipped, {} untraced</summary>\n<table>",
                a.digest.len(),
                n(Status::Tested),
                n(Status::Untestable),
                n(Status::Gap),
                n(Status::Skipped),
                n(Status::Untraced)
            );
            for d in &a.digest {
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&d.id),
                    escape(d.status.as_str()),
                    escape(&d.by.join(", "))
                );
            }
            h.push_str("</table></details>\n");
        }
    }
}

/// Tests by the document section their rule cites: tested, failed, skipped.
fn by_section(report: &RunReport, h: &mut String) {
    let mut by: BTreeMap<(String, String), [usize; 4]> = BTreeMap::new();
    for r in &report.results {
        let sec = coverage::section(&r.source).unwrap_or_else(|| coverage::lines(&r.source));
        let e = by.entry((r.api.clone(), sec)).or_default();
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

/// The product overlays the run was made under: each deviation with its evidence, the
/// tests it changed (each with its verdict, linking to its evidence when it has any) and
/// the tests of the document it took away.
pub(super) fn deviations(report: &RunReport, anchors: &BTreeMap<&str, String>, h: &mut String) {
    if report.overlays.is_empty() {
        return;
    }
    let verdicts: std::collections::HashMap<&str, &TestResult> =
        report.results.iter().map(|r| (r.id.as_str(), r)).collect();
    h.push_str("<h2>Product overlays: deviations from the document</h2>\n<p>The product was tested as these overlays say it knowingly differs from its document. Every test a deviation changed is listed with its verdict; the tests it took away were not run.</p>\n");
    for o in &report.overlays {
        let _ = writeln!(
            h,
            "<h3>{} ({} {}) <small>{} sha256 {}</small></h3>\n<table class=\"deviations\">\n<tr><th>deviation</th><th>evidence</th><th>tests changed</th><th>taken away</th></tr>",
            escape(&o.name),
            escape(&o.product),
            escape(o.firmware.as_deref().unwrap_or("")),
            escape(&o.file),
            escape(&o.sha256)
        );
        for d in &o.deviations {
            let mut tests = String::new();
            for t in &d.changed {
                let cls = verdicts.get(t.as_str()).map_or("none", |r| class(r));
                let link = match anchors.get(t.as_str()) {
                    Some(a) => format!("<a href=\"#{a}\">{}</a>", escape(t)),
                    None => escape(t),
                };
                let _ = write!(tests, "<span class=\"{cls}\">{link}</span><br>");
            }
            let removed: Vec<String> = d.removed.iter().map(|t| escape(t)).collect();
            let _ = writeln!(
                h,
                "<tr data-deviation=\"{}\"><td><code>{}</code><br>{}</td><td>{}</td><td><details><summary>{} tests</summary>{tests}</details></td><td>{}</td></tr>",
                escape(&d.id),
                escape(&d.id),
                escape(&d.summary),
                escape(&d.evidence),
                d.changed.len(),
                removed.join("<br>")
            );
        }
        h.push_str("</table>\n");
    }
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
}
