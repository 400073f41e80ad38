//! The JSON report: the [`RunReport`] itself, serialised with serde (schema `dialtone-run/1`,
//! documented in `docs/report-format.md`).

use std::path::Path;

use super::ReportError;
use crate::runner::RunReport;

/// Writes the JSON report of `report` to `path` (pretty-printed, with a final newline).
pub fn write(report: &RunReport, path: &Path) -> Result<(), ReportError> {
    let mut s = to_string(report);
    s.push('\n');
    super::write_file(path, s.as_bytes())
}

/// The JSON report of `report`, pretty-printed.
pub fn to_string(report: &RunReport) -> String {
    // Only string-keyed maps, strings and numbers: serialising cannot fail.
    serde_json::to_string_pretty(report).expect("a run report always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;
    use serde_json::Value;

    fn value() -> Value {
        serde_json::from_str(&to_string(&fixture::report())).expect("valid JSON")
    }

    fn result<'a>(v: &'a Value, id: &str) -> &'a Value {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no result {id}"))
    }

    #[test]
    fn top_level_fields() {
        let v = value();
        assert_eq!(v["schema"], "dialtone-run/1");
        assert_eq!(v["mode"], "lenient");
        assert_eq!(v["target"], "http://127.0.0.1:8080");
        assert_eq!(v["requests"], 10);
        assert_eq!(v["results"].as_array().unwrap().len(), 7);
    }

    #[test]
    fn failure_keeps_expected_actual_and_evidence() {
        let v = value();
        let f = result(&v, "ports.list.cursor.limit-zero");
        assert_eq!(f["verdict"], "fail");
        assert_eq!(f["expected"], "status 400");
        assert_eq!(f["actual"], "status 200 <html>");
        let x = &f["exchanges"][0];
        assert_eq!(x["curl"], fixture::FAIL_CURL);
        assert_eq!(
            x["request_headers"][0],
            serde_json::json!(["Authorization", "Bearer <redacted>"])
        );
        assert_eq!(x["status"], 200);
    }

    #[test]
    fn optional_fields_are_left_out() {
        let v = value();
        let p = result(&v, "ports.list.format.json");
        assert_eq!(p["verdict"], "pass");
        for k in ["message", "expected", "actual", "note", "exchanges"] {
            assert!(p.get(k).is_none(), "{k} present in {p}");
        }
        assert_eq!(result(&v, "alarms.list.matrix.viewer")["verdict"], "error");
        assert_eq!(result(&v, "alarms.list.case.x")["verdict"], "skip");
    }

    #[test]
    fn write_round_trips() {
        let path = std::env::temp_dir().join(format!("dialtone-json-{}.json", std::process::id()));
        write(&fixture::report(), &path).unwrap();
        let back: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(back, value());
    }
}
