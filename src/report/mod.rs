//! Reports: read a [`crate::runner::RunReport`] or a [`crate::netfuzz::FuzzReport`] and
//! write it for people or machines. Reports never send requests.
//!
//! * [`terminal`]: a progress bar while the run goes, and a plain-text summary after it.
//! * [`junit`]: JUnit XML for CI (one suite per API).
//! * [`json`]: the run report itself, serialised (schema `dialtone-run/1`,
//!   `docs/report-format.md`).
//! * [`html`]: one self-contained HTML page.
//! * [`fuzz`]: the fuzz report: a progress line, the findings and a summary, and JSON.
//!
//! Credentials are redacted by the runner before a report sees them; reports add none.

pub mod coverage;
pub mod fuzz;
pub mod html;
pub mod json;
pub mod junit;
pub mod merge;

/// One line naming the product overlays a run was made under and what they changed, or
/// `None` without overlays.
pub fn overlay_line(report: &crate::runner::RunReport) -> Option<String> {
    if report.overlays.is_empty() {
        return None;
    }
    let changed: std::collections::BTreeSet<&str> = report
        .results
        .iter()
        .filter(|r| !r.deviations.is_empty())
        .map(|r| r.id.as_str())
        .collect();
    let failing = report
        .results
        .iter()
        .filter(|r| !r.deviations.is_empty() && r.verdict != crate::runner::Verdict::Pass)
        .count();
    let names: Vec<String> = report
        .overlays
        .iter()
        .map(|o| format!("{} ({} deviations)", o.name, o.deviations.len()))
        .collect();
    let removed: usize = report
        .overlays
        .iter()
        .flat_map(|o| &o.deviations)
        .map(|d| d.removed.len())
        .sum();
    Some(format!(
        "under product overlays {}: {} tests run as the product deviates ({} of them not passing), {} tests of the document taken away",
        names.join(", "),
        changed.len(),
        failing,
        removed
    ))
}
pub mod terminal;

use std::path::{Path, PathBuf};

/// A report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{}: cannot write the report", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot serialise the JUnit report", path.display())]
    Junit {
        path: PathBuf,
        source: quick_junit::SerializeError,
    },
}

/// Writes `contents` to `path`, creating the parent directory if needed.
fn write_file(path: &Path, contents: &[u8]) -> Result<(), ReportError> {
    let io = |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    std::fs::write(path, contents).map_err(io)
}

/// Results that did not pass, failures first, each group by test id.
fn problems(report: &crate::runner::RunReport) -> Vec<&crate::runner::TestResult> {
    use crate::runner::Verdict;
    let mut v: Vec<_> = report
        .results
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error) && r.known.is_none())
        .collect();
    v.sort_by(|a, b| (a.verdict, &a.id).cmp(&(b.verdict, &b.id)));
    v
}

/// Distinct skip reasons with their counts, most frequent first, then by reason.
fn skip_reasons(report: &crate::runner::RunReport) -> Vec<(String, usize)> {
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for r in &report.results {
        if r.verdict == crate::runner::Verdict::Skip {
            *counts
                .entry(r.message.as_deref().unwrap_or("(no reason given)"))
                .or_default() += 1;
        }
    }
    let mut v: Vec<_> = counts
        .into_iter()
        .map(|(m, n)| (m.to_string(), n))
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

/// Passes carrying a lenient-mode note, by test id.
fn noted(report: &crate::runner::RunReport) -> Vec<&crate::runner::TestResult> {
    let mut v: Vec<_> = report
        .results
        .iter()
        .filter(|r| r.verdict == crate::runner::Verdict::Pass && r.note.is_some())
        .collect();
    v.sort_by(|a, b| a.id.cmp(&b.id));
    v
}

/// Totals per (API, rule kind), sorted.
fn by_api_kind(
    report: &crate::runner::RunReport,
) -> std::collections::BTreeMap<(&str, &str), crate::runner::Totals> {
    let mut m = std::collections::BTreeMap::<(&str, &str), crate::runner::Totals>::new();
    for r in &report.results {
        m.entry((r.api.as_str(), r.kind.as_str()))
            .or_default()
            .add(r);
    }
    m
}

/// Requests per second over the run, if the run took any time.
fn rate(report: &crate::runner::RunReport) -> Option<f64> {
    let secs = report.info.duration_ms / 1000.0;
    (secs > 0.0 && secs.is_finite()).then(|| report.info.requests as f64 / secs)
}

/// A run report with one result of each verdict, for the reports' tests.
#[cfg(test)]
pub(crate) mod fixture {
    use crate::runner::http::Exchange;
    use crate::runner::{RunInfo, RunReport, TestResult, Verdict};

    pub const FAIL_CURL: &str = "curl -sS -i -H \"Authorization: Bearer $DIALTONE_ADMIN_TOKEN\" 'http://127.0.0.1:8080/api/v1/ports?limit=0'";

    fn result(id: &str, api: &str, kind: &str, verdict: Verdict) -> TestResult {
        TestResult {
            id: id.into(),
            rule: format!("rule-of-{id}"),
            kind: kind.into(),
            api: api.into(),
            level: "must".into(),
            safety: "read".into(),
            source: "TS 32.158 §5.2".into(),
            summary: format!("summary of {id}"),
            verdict,
            message: None,
            expected: None,
            actual: None,
            note: None,
            findings: Vec::new(),
            known: None,
            deviations: Vec::new(),
            exchanges: Vec::new(),
            duration_ms: 12.5,
        }
    }

    pub fn exchange() -> Exchange {
        Exchange {
            method: "GET".into(),
            url: "http://127.0.0.1:8080/api/v1/ports?limit=0".into(),
            request_headers: vec![
                ("Authorization".into(), "Bearer <redacted>".into()),
                ("Accept".into(), "application/json".into()),
            ],
            request_body: None,
            status: Some(200),
            response_headers: vec![("Content-Type".into(), "text/html".into())],
            response_body: Some("<script>alert('x & y')</script>".into()),
            response_length: None,
            error: None,
            duration_ms: 3.25,
            curl: FAIL_CURL.into(),
        }
    }

    pub fn report() -> RunReport {
        let mut results = Vec::new();
        let mut pass = result("ports.list.matrix.admin", "ports", "matrix", Verdict::Pass);
        pass.note = Some("answered 200 where 204 is preferred".into());
        results.push(pass);
        results.push(result(
            "ports.list.format.json",
            "ports",
            "format",
            Verdict::Pass,
        ));
        let mut fail = result(
            "ports.list.cursor.limit-zero",
            "ports",
            "cursor",
            Verdict::Fail,
        );
        fail.message = Some("limit=0 was not rejected".into());
        fail.expected = Some("status 400".into());
        fail.actual = Some("status 200 <html>".into());
        fail.exchanges = vec![exchange()];
        results.push(fail);
        let mut error = result(
            "alarms.list.matrix.viewer",
            "alarms",
            "matrix",
            Verdict::Error,
        );
        error.message = Some("cannot connect: connection refused".into());
        error.exchanges = vec![Exchange {
            status: None,
            response_headers: Vec::new(),
            response_body: None,
            error: Some("cannot connect: connection refused".into()),
            ..exchange()
        }];
        results.push(error);
        for id in ["a", "b"] {
            let mut skip = result(
                &format!("alarms.clear.state.{id}"),
                "alarms",
                "state",
                Verdict::Skip,
            );
            skip.safety = "write".into();
            skip.message = Some("write tests not allowed (--allow write)".into());
            results.push(skip);
        }
        let mut skip = result("alarms.list.case.x", "alarms", "case", Verdict::Skip);
        skip.message = Some("no sample for field `x`".into());
        results.push(skip);
        RunReport {
            info: RunInfo {
                schema: crate::runner::result::SCHEMA.into(),
                dialtone_version: "0.1.0".into(),
                target: "http://127.0.0.1:8080".into(),
                emulator: true,
                mode: "lenient".into(),
                allow: vec!["read".into()],
                specs: vec!["specs/ports.toml".into(), "specs/alarms.toml".into()],
                started_unix: 1_700_000_000,
                duration_ms: 2000.0,
                requests: 10,
                seed: 42,
                cases: 16,
                time_budget_s: 120.0,
                partition: None,
            },
            results,
            baseline: None,
            coverage: None,
            overlays: Vec::new(),
        }
    }
}
