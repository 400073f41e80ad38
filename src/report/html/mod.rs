//! A self-contained HTML report a lab can hand over: one file, inline CSS and one inline
//! script (the filter), nothing fetched. A verdict banner; the privilege matrix per API as
//! a grid linking to the evidence; coverage by document section; failures grouped by rule
//! with evidence that folds away; known failures; skips by reason; the lenient-mode notes;
//! and every test behind a filter. Every piece of text from the run is escaped, since
//! response bodies are whatever the target sent.

mod views;

use std::fmt::Write as _;
use std::path::Path;

use super::ReportError;
use crate::runner::http::Exchange;
use crate::runner::{RunReport, TestResult, Totals};

const STYLE: &str = "\
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:80em}\
h1{font-size:1.4em}h2{font-size:1.2em;margin-top:2em}h3{font-size:1em;margin-bottom:.3em}\
table{border-collapse:collapse;margin:.5em 0}\
th,td{border:1px solid #ccc;padding:.2em .6em;text-align:left;vertical-align:top}\
td.n{text-align:right}tr.total td{font-weight:bold}\
.fail{color:#b00}.error{color:#b60}.skip{color:#666}.pass{color:#070}\
section.test{border-left:4px solid #b00;padding-left:1em;margin:1.5em 0}\
section.test.error{border-color:#b60}\
pre{background:#f5f5f5;padding:.5em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}\
dl{display:grid;grid-template-columns:max-content auto;gap:.1em 1em}dt{font-weight:bold}dd{margin:0}\
.banner{font-size:1.3em;font-weight:bold;padding:.6em 1em;border-radius:.3em;color:#fff}\
.banner.pass{background:#2a7a2a}.banner.fail{background:#b00}.banner.error{background:#b60}\
.known{color:#55a}section.test.known{border-color:#55a}\
.grid table{font-size:.85em}td.cell{text-align:center;padding:0}td.cell a{display:block;padding:.1em .4em;color:inherit;text-decoration:none}\
td.cell.pass{background:#d7f0d7}td.cell.fail{background:#f4b4b4}td.cell.error{background:#f6d49a}\
td.cell.skip{background:#eee}td.cell.known{background:#d6d6f5}td.none{background:#fafafa}\
details.group{margin:1em 0}details.group>summary{cursor:pointer;font-weight:bold}.src{font-weight:normal;color:#666}\
table.all{font-size:.85em}";

/// The page's script: the filter, and the self-test behind `#selftest`.
const SCRIPT: &str = include_str!("page.js");

/// How many noted test ids the page lists.
const NOTES_SHOWN: usize = 20;

/// Writes the HTML report of `report` to `path`.
pub fn write(report: &RunReport, path: &Path) -> Result<(), ReportError> {
    super::write_file(path, to_string(report).as_bytes())
}

/// The HTML report of `report`.
pub fn to_string(report: &RunReport) -> String {
    let info = &report.info;
    let totals = report.totals();
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(
        h,
        "<title>dialtone report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
        escape(&info.target)
    );
    let verdict = match report.exit_code() {
        crate::exit::CLEAN => ("pass", "conformant"),
        crate::exit::FOUND => ("fail", "non-conformant"),
        _ => ("error", "undecided (errors, no failure)"),
    };
    let _ = writeln!(
        h,
        "<h1>dialtone {}: {}{}</h1>\n<div id=\"banner\" class=\"banner {}\">{} (exit {}): {} pass, {} fail, {} error, {} skip{}</div>",
        escape(&info.dialtone_version),
        escape(&info.target),
        if info.emulator { " (emulator)" } else { "" },
        verdict.0,
        verdict.1.to_uppercase(),
        report.exit_code(),
        totals.pass,
        totals.fail,
        totals.error,
        totals.skip,
        if totals.known > 0 {
            format!(", {} known", totals.known)
        } else {
            String::new()
        }
    );
    if let Some(under) = super::overlay_line(report) {
        let _ = writeln!(
            h,
            "<div id=\"overlays\" class=\"banner known\">{}</div>",
            escape(&under)
        );
    }
    let rate = super::rate(report)
        .map(|r| format!("{r:.1}/s"))
        .unwrap_or_else(|| "-".into());
    h.push_str("<dl>\n");
    for (k, v) in [
        ("schema", info.schema.to_string()),
        ("mode", info.mode.to_string()),
        ("allow", info.allow.join(", ")),
        ("specs", info.specs.join(", ")),
        ("duration", format!("{:.2} s", info.duration_ms / 1000.0)),
        ("requests", format!("{} ({rate})", info.requests)),
        ("seed", info.seed.to_string()),
        ("cases", info.cases.to_string()),
        ("time budget", format!("{} s", info.time_budget_s)),
        ("exit code", report.exit_code().to_string()),
    ] {
        let _ = writeln!(h, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(&v));
    }
    h.push_str("</dl>\n");

    table(report, &totals, &mut h);
    let anchors = views::anchors(report);
    views::grouped(
        "Failures and errors, by rule",
        &super::problems(report),
        &anchors,
        &mut h,
    );
    let known: Vec<&TestResult> = report
        .results
        .iter()
        .filter(|r| r.known.is_some())
        .collect();
    views::grouped(
        "Known failures (the baseline's, not counted)",
        &known,
        &anchors,
        &mut h,
    );
    views::deviations(report, &anchors, &mut h);
    views::grids(report, &anchors, &mut h);
    views::coverage(report, &mut h);

    let skips = super::skip_reasons(report);
    if !skips.is_empty() {
        let _ = writeln!(h, "<h2>Skipped ({}), by reason</h2>", totals.skip);
        h.push_str("<table>\n<tr><th>tests</th><th>reason</th></tr>\n");
        for (reason, n) in skips {
            let _ = writeln!(
                h,
                "<tr><td class=\"n\">{n}</td><td>{}</td></tr>",
                escape(&reason)
            );
        }
        h.push_str("</table>\n");
    }

    let noted = super::noted(report);
    if !noted.is_empty() {
        let _ = writeln!(
            h,
            "<h2>Lenient-mode notes ({})</h2>\n<p>Passes that <code>--strict</code> would fail.</p>\n<ul>",
            noted.len()
        );
        for r in noted.iter().take(NOTES_SHOWN) {
            let _ = writeln!(
                h,
                "<li><code>{}</code>: {}</li>",
                escape(&r.id),
                escape(r.note.as_deref().unwrap_or(""))
            );
        }
        if noted.len() > NOTES_SHOWN {
            let _ = writeln!(
                h,
                "<li>... and {} more (see the JSON report)</li>",
                noted.len() - NOTES_SHOWN
            );
        }
        h.push_str("</ul>\n");
    }
    views::all_tests(report, &anchors, &mut h);
    let _ = writeln!(h, "<script>{SCRIPT}</script>");
    h.push_str("</body>\n</html>\n");
    h
}

fn table(report: &RunReport, totals: &Totals, h: &mut String) {
    h.push_str("<h2>Summary</h2>\n<table>\n<tr><th>API</th><th>kind</th><th class=\"pass\">pass</th><th class=\"fail\">fail</th><th class=\"error\">error</th><th class=\"skip\">skip</th><th>total</th></tr>\n");
    let row = |h: &mut String, class: &str, api: &str, kind: &str, t: &Totals| {
        let _ = writeln!(
            h,
            "<tr{class}><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(api),
            escape(kind),
            t.pass,
            t.fail,
            t.error,
            t.skip,
            t.total()
        );
    };
    for ((api, kind), t) in super::by_api_kind(report) {
        row(h, "", api, kind, &t);
    }
    row(h, " class=\"total\"", "total", "", totals);
    h.push_str("</table>\n");
}

fn problem(r: &TestResult, anchor: &str, h: &mut String) {
    let v = views::class(r);
    let _ = writeln!(
        h,
        "<section class=\"test {v}\" id=\"{anchor}\" data-id=\"{}\" data-evidence=\"{}\">\n<h3><span class=\"{v}\">{}</span> <code>{}</code></h3>\n<dl>",
        escape(&r.id),
        escape(&r.id),
        v.to_uppercase(),
        escape(&r.id)
    );
    let deviations = (!r.deviations.is_empty()).then(|| r.deviations.join(", "));
    let fields = [
        ("rule", Some(&r.rule)),
        ("level", Some(&r.level)),
        ("source", Some(&r.source)),
        ("summary", Some(&r.summary)),
        ("known", r.known.as_ref()),
        ("deviation", deviations.as_ref()),
        ("message", r.message.as_ref()),
        ("expected", r.expected.as_ref()),
        ("actual", r.actual.as_ref()),
    ];
    for (k, v) in fields {
        if let Some(v) = v {
            let _ = writeln!(h, "<dt>{k}</dt><dd>{}</dd>", escape(v));
        }
    }
    h.push_str("</dl>\n");
    if !r.exchanges.is_empty() {
        let _ = writeln!(
            h,
            "<details><summary>evidence: {} exchange{}</summary>",
            r.exchanges.len(),
            if r.exchanges.len() == 1 { "" } else { "s" }
        );
        for (i, x) in r.exchanges.iter().enumerate() {
            exchange(i + 1, x, h);
        }
        h.push_str("</details>\n");
    }
    h.push_str("</section>\n");
}

fn exchange(n: usize, x: &Exchange, h: &mut String) {
    let _ = writeln!(h, "<h4>Exchange {n} ({:.1} ms)</h4>", x.duration_ms);
    let mut req = format!("{} {}\n", x.method, x.url);
    for (k, v) in &x.request_headers {
        let _ = writeln!(req, "{k}: {v}");
    }
    if let Some(b) = &x.request_body {
        let _ = write!(req, "\n{b}");
    }
    let _ = writeln!(h, "<p>Request</p>\n<pre>{}</pre>", escape(&req));
    let mut resp = String::new();
    match x.status {
        Some(s) => {
            let _ = writeln!(resp, "{s}");
        }
        None => resp.push_str("(no answer)\n"),
    }
    if let Some(e) = &x.error {
        let _ = writeln!(resp, "error: {e}");
    }
    for (k, v) in &x.response_headers {
        let _ = writeln!(resp, "{k}: {v}");
    }
    if let Some(b) = &x.response_body {
        let _ = write!(resp, "\n{b}");
    }
    if let Some(len) = x.response_length {
        let _ = write!(resp, "\n({len} bytes in all)");
    }
    let _ = writeln!(h, "<p>Response</p>\n<pre>{}</pre>", escape(&resp));
    let _ = writeln!(h, "<p>Reproduce</p>\n<pre>{}</pre>", escape(&x.curl));
}

/// `s` with `& < > " '` replaced by character references: safe in text and in quoted
/// attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn escape_all_five() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("plain §5.2"), "plain §5.2");
    }

    #[test]
    fn response_bodies_are_escaped() {
        let h = to_string(&fixture::report());
        // The page's own filter script is the only one.
        assert_eq!(h.matches("<script").count(), 1, "unescaped script in:\n{h}");
        assert!(
            h.contains("&lt;script&gt;alert(&#39;x &amp; y&#39;)&lt;/script&gt;"),
            "{h}"
        );
        assert!(h.contains("status 200 &lt;html&gt;"), "{h}");
        assert!(h.contains("Authorization: Bearer &lt;redacted&gt;"), "{h}");
    }

    #[test]
    fn page_has_summary_evidence_and_skips() {
        let h = to_string(&fixture::report());
        assert!(h.starts_with("<!DOCTYPE html>"));
        assert!(h.contains("<style>"));
        for external in [
            "<script src",
            "<link",
            "src=",
            "http-equiv",
            "@import",
            "url(",
        ] {
            assert!(!h.contains(external), "{external} in:\n{h}");
        }
        assert!(
            h.contains("<tr><td>ports</td><td>cursor</td><td class=\"n\">0</td><td class=\"n\">1</td><td class=\"n\">0</td><td class=\"n\">0</td><td class=\"n\">1</td></tr>"),
            "{h}"
        );
        assert!(
            h.contains("<code>ports.list.cursor.limit-zero</code>"),
            "{h}"
        );
        assert!(h.contains("<code>alarms.list.matrix.viewer</code>"), "{h}");
        assert!(h.contains(&escape(fixture::FAIL_CURL)), "{h}");
        assert!(
            h.contains("<td class=\"n\">2</td><td>write tests not allowed (--allow write)</td>"),
            "{h}"
        );
        // Passes and skips are not given sections, only rows in the list of all tests.
        assert!(
            !h.contains("data-evidence=\"ports.list.format.json\""),
            "{h}"
        );
        assert!(h.contains("data-id=\"ports.list.format.json\""), "{h}");
        assert!(h.contains("id=\"banner\" class=\"banner fail\""), "{h}");
    }

    #[test]
    fn write_creates_the_file() {
        let path = std::env::temp_dir().join(format!("dialtone-html-{}.html", std::process::id()));
        write(&fixture::report(), &path).unwrap();
        let back = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(back, to_string(&fixture::report()));
    }
}
