//! JUnit XML: one test suite per API, one test case per test (named by its id, classname
//! `<api>.<kind>`). A `fail` verdict is a JUnit failure (the target does not conform), an
//! `error` verdict a JUnit error (the test could not decide), a `skip` a skipped case.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::ReportError;
use crate::runner::{RunReport, TestResult, Verdict};

/// Writes the JUnit XML report of `report` to `path`.
pub fn write(report: &RunReport, path: &Path) -> Result<(), ReportError> {
    let xml = to_string(report).map_err(|source| ReportError::Junit {
        path: path.to_path_buf(),
        source,
    })?;
    super::write_file(path, xml.as_bytes())
}

/// The JUnit XML report of `report`.
pub fn to_string(report: &RunReport) -> Result<String, quick_junit::SerializeError> {
    build(report).to_string()
}

fn build(report: &RunReport) -> Report {
    let info = &report.info;
    // Suites by API name; cases keep the run's order within a suite.
    let mut suites = BTreeMap::<&str, Vec<&TestResult>>::new();
    for r in &report.results {
        suites.entry(r.api.as_str()).or_default().push(r);
    }
    let mut out = Report::new("dialtone");
    out.set_time(duration(info.duration_ms));
    for (api, results) in suites {
        let mut suite = TestSuite::new(api);
        suite.add_properties([
            Property::new("schema", info.schema.as_str()),
            Property::new("dialtone_version", info.dialtone_version.as_str()),
            Property::new("target", info.target.as_str()),
            Property::new("mode", info.mode.as_str()),
            Property::new("seed", info.seed.to_string()),
            Property::new("cases", info.cases.to_string()),
            Property::new("time_budget_s", info.time_budget_s.to_string()),
        ]);
        for o in report.overlays.iter().filter(|o| o.spec == api) {
            suite.add_property(Property::new(
                "overlay",
                format!("{} ({}) sha256 {}", o.name, o.file, o.sha256),
            ));
        }
        suite.set_time(duration(results.iter().map(|r| r.duration_ms).sum()));
        suite.add_test_cases(results.into_iter().map(case));
        out.add_test_suite(suite);
    }
    out
}

fn case(r: &TestResult) -> TestCase {
    let status = match r.verdict {
        // A known failure (the baseline's) does not fail the CI job: it is reported as
        // skipped, with the reason and what went wrong.
        Verdict::Fail | Verdict::Error if r.known.is_some() => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(format!(
                "known {} (baseline: {}): {}",
                r.verdict.as_str(),
                r.known.as_deref().unwrap_or(""),
                r.message.as_deref().unwrap_or("")
            ))
            .set_description(evidence(r));
            s
        }
        Verdict::Pass => TestCaseStatus::success(),
        Verdict::Fail => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_type("non-conformance")
                .set_message(r.message.as_deref().unwrap_or(&r.summary))
                .set_description(evidence(r));
            s
        }
        Verdict::Error => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_type("error")
                .set_message(r.message.as_deref().unwrap_or("the test could not decide"))
                .set_description(evidence(r));
            s
        }
        Verdict::Skip => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(r.message.as_deref().unwrap_or("skipped"));
            s
        }
    };
    let mut case = TestCase::new(r.id.as_str(), status);
    case.set_classname(format!("{}.{}", r.api, r.kind))
        .set_time(duration(r.duration_ms));
    if let Some(note) = &r.note {
        case.add_property(Property::new("note", note.as_str()));
    }
    if !r.deviations.is_empty() {
        case.add_property(Property::new("deviation", r.deviations.join(", ")));
    }
    case
}

/// The text of a failure or error: what the rule is, expected vs actual, and how to resend
/// each request.
fn evidence(r: &TestResult) -> String {
    let mut s = format!(
        "rule: {} ({}, {})\nsource: {}\nsummary: {}\n",
        r.rule, r.level, r.kind, r.source, r.summary
    );
    if let Some(e) = &r.expected {
        s.push_str(&format!("expected: {e}\n"));
    }
    if let Some(a) = &r.actual {
        s.push_str(&format!("actual: {a}\n"));
    }
    for x in &r.exchanges {
        let outcome = match (&x.status, &x.error) {
            (_, Some(e)) => e.clone(),
            (Some(st), None) => st.to_string(),
            (None, None) => "no answer".into(),
        };
        s.push_str(&format!(
            "\n{} {} -> {outcome}\n{}\n",
            x.method, x.url, x.curl
        ));
    }
    s
}

/// A non-negative duration from milliseconds (0 for nonsense values).
fn duration(ms: f64) -> Duration {
    if ms.is_finite() && ms > 0.0 {
        Duration::from_secs_f64(ms / 1000.0)
    } else {
        Duration::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;
    use quick_xml::events::Event;

    /// Element names (start and empty tags) in document order, with their attributes.
    fn elements(xml: &str) -> Vec<(String, BTreeMap<String, String>)> {
        let mut reader = quick_xml::Reader::from_str(xml);
        let mut out = Vec::new();
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Start(e) | Event::Empty(e) => {
                    let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                    let attrs = e
                        .attributes()
                        .map(|a| {
                            let a = a.expect("well-formed attribute");
                            (
                                String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                                a.unescape_value().unwrap().into_owned(),
                            )
                        })
                        .collect();
                    out.push((name, attrs));
                }
                Event::Eof => break,
                _ => {}
            }
        }
        out
    }

    #[test]
    fn verdicts_map_to_failure_error_skipped() {
        let xml = to_string(&fixture::report()).unwrap();
        let els = elements(&xml);
        let count = |n: &str| els.iter().filter(|(name, _)| name == n).count();
        assert_eq!(count("testsuite"), 2, "{xml}");
        assert_eq!(count("testcase"), 7, "{xml}");
        assert_eq!(count("failure"), 1, "{xml}");
        assert_eq!(count("error"), 1, "{xml}");
        assert_eq!(count("skipped"), 3, "{xml}");

        // The element after each test case tells its outcome.
        let after = |id: &str| {
            let i = els
                .iter()
                .position(|(n, a)| n == "testcase" && a.get("name").map(String::as_str) == Some(id))
                .unwrap_or_else(|| panic!("no test case {id} in {xml}"));
            els[i + 1].clone()
        };
        let (name, attrs) = after("ports.list.cursor.limit-zero");
        assert_eq!(name, "failure");
        assert_eq!(attrs["message"], "limit=0 was not rejected");
        let (name, _) = after("alarms.list.matrix.viewer");
        assert_eq!(name, "error");
        let (name, attrs) = after("alarms.clear.state.a");
        assert_eq!(name, "skipped");
        assert_eq!(attrs["message"], "write tests not allowed (--allow write)");

        let case = els
            .iter()
            .find(|(n, a)| n == "testcase" && a["name"] == "ports.list.cursor.limit-zero")
            .unwrap();
        assert_eq!(case.1["classname"], "ports.cursor");
        // quick-junit writes milliseconds (3 decimals).
        let time: f64 = case.1["time"].parse().unwrap();
        assert!((time - 0.0125).abs() <= 0.001, "time {time}");
        let suites: Vec<_> = els
            .iter()
            .filter(|(n, _)| n == "testsuite")
            .map(|(_, a)| a["name"].clone())
            .collect();
        assert_eq!(suites, ["alarms", "ports"]);
    }

    #[test]
    fn failure_text_has_expected_actual_and_curl() {
        let xml = to_string(&fixture::report()).unwrap();
        let start = xml.find("<failure").unwrap();
        let end = xml[start..].find("</failure>").unwrap() + start;
        let failure = &xml[start..end];
        assert!(failure.contains("expected: status 400"), "{failure}");
        assert!(
            failure.contains("actual: status 200 &lt;html&gt;"),
            "{failure}"
        );
        // The curl line, XML-escaped.
        let mut reader = quick_xml::Reader::from_str(failure);
        let mut text = String::new();
        loop {
            match reader.read_event().unwrap() {
                Event::Text(t) => text.push_str(&t.unescape().unwrap()),
                Event::Eof => break,
                _ => {}
            }
        }
        assert!(text.contains(fixture::FAIL_CURL), "{text}");
    }

    #[test]
    fn write_names_the_path_on_error() {
        let dir = std::env::temp_dir().join(format!("dialtone-junit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("report.xml");
        write(&fixture::report(), &file).unwrap();
        assert!(std::fs::read_to_string(&file)
            .unwrap()
            .contains("<testsuites"));
        // A directory where the file should be.
        let err = write(&fixture::report(), &dir).unwrap_err();
        assert!(
            err.to_string().contains(&dir.display().to_string()),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
