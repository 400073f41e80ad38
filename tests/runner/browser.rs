//! The HTML report as a person sees it: opened in headless Chromium, its own self-test
//! (`#selftest`, in the page's script) reports the banner, the privilege grid's cells, a
//! failing cell's link target and the filter at work, and this test checks them against
//! the JSON report of the same run. `.ci/run` installs Chromium (Debian's `chromium`);
//! without it the test fails under `CI` and is skipped with a note elsewhere.

use std::path::Path;
use std::process::Command;

use crate::common::{dialtone, scratch_dir};

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

#[test]
fn the_html_report_works_in_headless_chromium() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "headless Chromium is needed for the HTML report test (apt-get install chromium)"
        );
        eprintln!("note: no chromium on PATH: the HTML report's browser test did not run");
        return;
    };
    let dir = scratch_dir("browser");
    let html = dir.join("r.html");
    let json = dir.join("r.json");
    let o = dialtone(&[
        "run",
        "--spec",
        "mediant",
        "--fault",
        "skip-privilege-check",
        "-q",
        "--html",
        html.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let results = report["results"].as_array().unwrap();
    // A cell of the grid: `api/endpoint/matrix/METHOD/role` (API-wide matrix rules are not).
    let cell = |id: &str| {
        id.split_once("/matrix/")
            .is_some_and(|(l, r)| l.contains('/') && r.matches('/').count() == 1)
    };
    let matrix = results
        .iter()
        .filter(|r| cell(r["id"].as_str().unwrap()))
        .count();
    let failing_matrix: Vec<&str> = results
        .iter()
        .filter(|r| r["verdict"] == "fail" && cell(r["id"].as_str().unwrap()))
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(!failing_matrix.is_empty());
    let out = dump(browser, &html);
    let start = out
        .rfind("<pre id=\"selftest\">")
        .unwrap_or_else(|| panic!("no self-test output:\n{out}"));
    let rest = &out[start + "<pre id=\"selftest\">".len()..];
    let text = &rest[..rest.find("</pre>").unwrap()].replace("&quot;", "\"");
    let t: serde_json::Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert!(
        t["banner"]
            .as_str()
            .unwrap()
            .starts_with("NON-CONFORMANT (exit 1)"),
        "{t}"
    );
    assert_eq!(t["cells"], t["cellsDeclared"], "{t}");
    assert_eq!(t["cells"].as_u64().unwrap() as usize, matrix, "{t}");
    assert!(
        failing_matrix.contains(&t["failingCellTarget"].as_str().unwrap()),
        "{t}"
    );
    assert_eq!(t["filterShown"], t["filterExpected"], "{t}");
    assert!(
        t["filterShown"].as_u64().unwrap() < t["rows"].as_u64().unwrap(),
        "the filter hid nothing: {t}"
    );
    assert_eq!(t["afterClear"], t["rows"], "{t}");
    assert_eq!(
        t["rows"].as_u64().unwrap() as usize,
        results.len() + failing_count(results),
        "{t}"
    );
    assert_eq!(t["external"], 0, "{t}");
}

/// Failing and erroring tests appear twice among the filtered elements: a row in the list
/// and their evidence section.
fn failing_count(results: &[serde_json::Value]) -> usize {
    results
        .iter()
        .filter(|r| r["verdict"] == "fail" || r["verdict"] == "error")
        .count()
}

fn dump(browser: &str, html: &Path) -> String {
    let url = format!("file://{}#selftest", html.canonicalize().unwrap().display());
    let o = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--dump-dom",
            &url,
        ])
        .output()
        .expect("run the browser");
    String::from_utf8_lossy(&o.stdout).into_owned()
}
