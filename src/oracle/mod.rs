//! The response oracle: everything the spec says of one answer, checked against it.
//!
//! Given the operation a request reached (see [`Router`]) and the answer it got, the
//! oracle reports each way the answer departs from what the spec documents for that
//! operation and status, as [`Finding`]s:
//!
//! * a **success** must come in a documented content type and parse; its records must sit
//!   where the response says (wrapper, envelope, pagination items, XML element names), be
//!   one record or a list as documented, and each record must validate against the
//!   response schema (required fields, JSON types, enumerations, ranges, lengths and
//!   formats); the headers the response lists must be there and well-formed;
//! * an **error** must come in the API's error envelope (content type, parse, the code and
//!   message fields its envelope names), and its code must be one the spec documents for
//!   that status;
//! * fields the schema does not list are allowed, noted or refused as the API says
//!   (`[api].extra_response_fields`); lenient runs only note them.
//!
//! The oracle is pure: it reads a spec and an answer and sends nothing. Whether an answer
//! is the *expected* outcome (status, code, message) is the runner's judgement; the oracle
//! says whether the answer is well-formed for the outcome it is. The runner applies it to
//! every exchange of every test, and `dialtone fuzz` to every answer it gets.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::spec::model::*;
use crate::spec::Spec;

mod body;
mod error;
mod route;

pub use route::Router;

/// One answer, as the oracle reads it.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    pub status: u16,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl Answer<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }
}

/// How much a finding weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The answer breaks what the spec documents: the test fails.
    Breach,
    /// A deviation lenient mode lets pass (an unlisted field); reported as a note.
    Note,
}

/// One way an answer departs from the spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Which check: `content-type`, `parse`, `shape`, `xml-element`, `required`, `type`,
    /// `enum`, `range`, `length`, `format`, `extra-field`, `header`, `location`,
    /// `envelope`, `code`, `message`, `success-as-error`.
    pub check: String,
    /// Where in the answer: a JSON pointer into the parsed body (`/alarms/3/severity`,
    /// `/Response/responseParam/rows/0/status`), or `header:Location`.
    pub path: String,
    /// What was required of it.
    pub constraint: String,
    /// What was there (clipped), if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The spec element the constraint comes from: `schema status`, `envelope
    /// roaming-response`, `response of GET status`.
    pub rule: String,
    /// The document section of that element, or `inferred: ...`.
    pub source: String,
    pub severity: Severity,
    /// Which request of the test got the answer (0-based), filled in by the runner.
    #[serde(default)]
    pub exchange: usize,
}

impl Finding {
    /// One line: `/alarms/3/severity: not one of the allowed values (got "Huge"; schema alarm, §5 L10)`.
    pub fn line(&self) -> String {
        let got = self
            .value
            .as_deref()
            .map(|v| format!("got {v}; "))
            .unwrap_or_default();
        format!(
            "{}: {} [{}] ({got}{}, {})",
            self.path, self.constraint, self.check, self.rule, self.source
        )
    }
}

/// What the oracle checks an answer against, beyond the spec.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mode {
    /// `--strict`: unlisted fields follow `[api].extra_response_fields`.
    pub strict: bool,
}

/// Check `answer` against all the spec says of the answers of the operation the request
/// reached ([`Router::reach`]); `None` when it reached no documented operation (then only
/// error answers are checked).
pub fn check(
    spec: &Spec,
    reached: Option<(&Endpoint, &Operation)>,
    answer: &Answer,
    mode: Mode,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let op = reached.map(|(_, op)| op);
    let ep_id = reached.map(|(ep, _)| ep.id.get_ref().as_str());
    let s = answer.status;
    if !(200..300).contains(&s) && !(400..500).contains(&s) {
        // Redirects and server errors are the runner's to judge; they have no documented shape.
        return out;
    }
    let o = Oracle { spec, mode, ep_id };
    if s >= 400 {
        o.error(op, answer, &mut out);
        return out;
    }
    let Some(op) = op else { return out };
    // Parsed once, for the failure-code check and the success checks alike.
    let parsed = body::parse(&family(answer.content_type()), answer.body);
    if o.failure_in_success(op, answer, parsed.as_ref(), &mut out) {
        return out;
    }
    o.success(op, answer, parsed, &mut out);
    o.headers(op, answer, &mut out);
    out
}

/// The checks, with what they share.
pub(crate) struct Oracle<'s> {
    spec: &'s Spec,
    mode: Mode,
    /// The endpoint the request reached, if any: a code documented only for other
    /// operations is a breach.
    ep_id: Option<&'s str>,
}

impl<'s> Oracle<'s> {
    fn finding(
        &self,
        check: &str,
        path: &str,
        constraint: impl Into<String>,
        value: Option<&Value>,
        rule: String,
        source: String,
    ) -> Finding {
        Finding {
            check: check.into(),
            path: if path.is_empty() {
                "/".into()
            } else {
                path.into()
            },
            constraint: constraint.into(),
            value: value.map(show),
            rule,
            source,
            severity: Severity::Breach,
            exchange: 0,
        }
    }

    /// A finding about the response description of `op` as a whole.
    fn about_op(
        &self,
        op: &Operation,
        check: &str,
        path: &str,
        constraint: impl Into<String>,
        value: Option<&Value>,
    ) -> Finding {
        self.finding(
            check,
            path,
            constraint,
            value,
            format!("response of {}", op.method.get_ref()),
            op.provenance.describe(),
        )
    }

    /// The headers `op`'s response lists: present, and a `Location` that parses as a URI
    /// reference. (Whether it leads somewhere readable needs a request: the runner follows it.)
    fn headers(&self, op: &Operation, a: &Answer, out: &mut Vec<Finding>) {
        let Some(resp) = &op.response else { return };
        for h in &resp.headers {
            match a.header(h) {
                None => out.push(self.about_op(
                    op,
                    "header",
                    &format!("header:{h}"),
                    format!("the response carries a `{h}` header"),
                    None,
                )),
                Some(v) if h.eq_ignore_ascii_case("location") && !location_ok(v) => {
                    out.push(self.about_op(
                        op,
                        "location",
                        "header:Location",
                        "`Location` is an absolute URL or an absolute path",
                        Some(&Value::String(v.into())),
                    ))
                }
                Some(_) => {}
            }
        }
    }
}

/// The finding for a `Location` of `op`'s answer that a GET could not read: `got` is
/// the status or transport error of that GET.
pub fn unreadable_location(op: &Operation, location: &str, got: String) -> Finding {
    Finding {
        check: "location".into(),
        path: "header:Location".into(),
        constraint: format!("`{location}` leads to something a GET can read"),
        value: Some(got),
        rule: format!("response of {}", op.method.get_ref()),
        source: op.provenance.describe(),
        severity: Severity::Breach,
        exchange: 0,
    }
}

/// A `Location` value a client can follow: `http(s)://host/...` or `/path`.
pub fn location_ok(v: &str) -> bool {
    let v = v.trim();
    if v.is_empty() || v.chars().any(|c| c.is_control() || c == ' ') {
        return false;
    }
    v.starts_with('/') || v.starts_with("http://") || v.starts_with("https://")
}

/// A value as a finding shows it: JSON text, clipped.
fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

/// `a/b` → `/a/b` pointer segments joined; `~` and `/` escaped as RFC 6901 says.
fn push(path: &str, seg: &str) -> String {
    format!("{path}/{}", seg.replace('~', "~0").replace('/', "~1"))
}

/// The kind of a content type: `json`, `xml`, `csv`, `zip`, `multipart`, `octet-stream`,
/// `text` (any other `text/…`), else the essence itself (`application/json; charset=utf-8`
/// → `json`; `application/problem+json` and `text/json` are both `json`).
pub fn family(ct: &str) -> String {
    let e = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    ["json", "xml", "csv", "zip", "multipart", "octet-stream"]
        .into_iter()
        .find(|f| e.contains(f))
        .map(str::to_string)
        .unwrap_or_else(|| {
            if e.starts_with("text/") {
                "text".into()
            } else {
                e
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_must_be_followable() {
        assert!(location_ok("/api/v1/files/status/1"));
        assert!(location_ok("https://10.0.0.1/api/v1/files/status/1"));
        assert!(!location_ok(""));
        assert!(!location_ok("status 1"));
        assert!(!location_ok("files/status/1"));
    }

    fn bundled(name: &str) -> Spec {
        crate::spec::load(&crate::spec::resolve(name)).expect("bundled spec")
    }

    fn answer_findings(
        spec: &Spec,
        method: &str,
        target: &str,
        status: u16,
        body: &str,
    ) -> Vec<Finding> {
        let op = Router::new(spec).reach(spec, method, target);
        assert!(op.is_some(), "{method} {target} reaches no operation");
        let headers = [("Content-Type".to_string(), "application/json".to_string())];
        let a = Answer {
            status,
            headers: &headers,
            body: body.as_bytes(),
        };
        check(spec, op, &a, Mode::default())
    }

    const STATUS: &str = r#"{"localTimeStamp":"2010-01-17T17:29:15.000Z","ipAddress":"10.4.219.229","subnetMask":"255.255.0.0","defaultGateway":"10.4.0.1","productType":"Mediant SW","versionID":"7.20A.200.014","protocolType":"SIP","operationalState":"UNLOCKED","highAvailability":"Not Operational","serialNumber":"101780235059663","macAddress":"fa163e6e7e1d","systemUpTime":161446,"saveNeeded":false,"resetNeeded":false,"upgradeStatus":"None","mcUpgradeStatus":"None"}"#;

    #[test]
    fn the_documented_status_answer_is_clean() {
        let spec = bundled("mediant");
        let f = answer_findings(&spec, "GET", "/api/v1/status", 200, STATUS);
        assert!(f.is_empty(), "{f:?}");
    }

    /// The first escape the issue reports: a proxy drops `operationalState`.
    #[test]
    fn a_dropped_field_is_named_with_its_path_and_schema() {
        let spec = bundled("mediant");
        let body = STATUS.replace(r#""operationalState":"UNLOCKED","#, "");
        let f = answer_findings(&spec, "GET", "/api/v1/status", 200, &body);
        let b: Vec<_> = f
            .iter()
            .filter(|f| f.severity == Severity::Breach)
            .collect();
        assert_eq!(b.len(), 1, "{f:?}");
        assert_eq!(b[0].check, "required");
        assert_eq!(b[0].path, "/operationalState");
        assert_eq!(b[0].rule, "schema status");
        assert!(b[0].source.contains("Table 9-1"), "{}", b[0].source);
    }

    #[test]
    fn types_enumerations_and_formats_are_checked_with_the_value() {
        let spec = bundled("mediant");
        let body = STATUS
            .replace("161446", "\"161446\"")
            .replace("\"UNLOCKED\"", "\"HALF-LOCKED\"")
            .replace("2010-01-17T17:29:15.000Z", "2010-13-45T25:61:00");
        let f = answer_findings(&spec, "GET", "/api/v1/status", 200, &body);
        let got = |check: &str, path: &str| {
            f.iter()
                .find(|x| x.check == check && x.path == path)
                .and_then(|x| x.value.clone())
        };
        assert_eq!(
            got("type", "/systemUpTime").as_deref(),
            Some("\"161446\""),
            "{f:?}"
        );
        assert_eq!(
            got("enum", "/operationalState").as_deref(),
            Some("\"HALF-LOCKED\""),
            "{f:?}"
        );
        assert!(got("format", "/localTimeStamp").is_some(), "{f:?}");
    }

    #[test]
    fn a_list_answered_as_one_record_and_an_extra_wrapper_are_shape_breaches() {
        let spec = bundled("mediant");
        let one = r#"{"alarms":{"id":"1","description":"Trunk is down","url":"/api/v1/alarms/active/1"}}"#;
        let f = answer_findings(&spec, "GET", "/api/v1/alarms/active", 200, one);
        assert!(
            f.iter().any(|x| x.check == "shape" && x.path == "/alarms"),
            "{f:?}"
        );
        let wrapped = r#"{"result":{"alarms":[]}}"#;
        let f = answer_findings(&spec, "GET", "/api/v1/alarms/active", 200, wrapped);
        assert!(f.iter().any(|x| x.check == "shape"), "{f:?}");
    }

    #[test]
    fn an_error_envelope_without_its_code_is_a_breach() {
        let spec = bundled("roaming-profile");
        let body = r#"{"Response":{"resultCode":"1","resultParam":{"resultDescription":"Duplicate roaming profile name"}}}"#;
        let f = answer_findings(&spec, "POST", "/api/createRoamingProfile", 200, body);
        assert!(
            f.iter()
                .any(|x| x.check == "envelope" && x.path == "/Response/resultParam/resultCode"),
            "{f:?}"
        );
    }

    /// Issue 17: the incremental CLI script's answer must carry its `output`.
    #[test]
    fn a_cli_script_answer_without_its_output_is_a_breach() {
        let spec = bundled("mediant");
        let body = r#"{"description": "Incremental CLI Script file was loaded."}"#;
        let f = answer_findings(
            &spec,
            "PUT",
            "/api/v1/files/cliScript/incremental",
            200,
            body,
        );
        assert!(
            f.iter()
                .any(|x| x.check == "required" && x.path == "/output"),
            "{f:?}"
        );
    }

    #[test]
    fn a_code_of_another_operation_is_noted_and_fails_strict() {
        let spec = bundled("roaming-profile");
        // 1201 is create's success; on delete it is a code of another operation.
        let body = r#"{"Response":{"resultCode":"1","resultParam":{"resultCode":"1202","resultDescription":"Create roaming profile failure"}}}"#;
        let reached = Router::new(&spec).reach(&spec, "POST", "/api/deleteRoamingProfile");
        let headers = [("Content-Type".to_string(), "application/json".to_string())];
        let a = Answer {
            status: 200,
            headers: &headers,
            body: body.as_bytes(),
        };
        let lenient = check(&spec, reached, &a, Mode::default());
        let f = lenient
            .iter()
            .find(|f| f.check == "code")
            .expect("a code finding");
        assert_eq!(f.severity, Severity::Note, "{f:?}");
        assert!(f.constraint.contains("`create`"), "{f:?}");
        let strict = check(&spec, reached, &a, Mode { strict: true });
        assert!(strict
            .iter()
            .any(|f| f.check == "code" && f.severity == Severity::Breach));
    }

    #[test]
    fn unlisted_fields_are_notes_unless_strict_refuses_them() {
        let spec = bundled("mediant");
        let body = STATUS.replace("{\"local", "{\"dialtoneExtra\":1,\"local");
        let f = answer_findings(&spec, "GET", "/api/v1/status", 200, &body);
        assert!(
            f.iter()
                .any(|x| x.check == "extra-field" && x.severity == Severity::Note),
            "{f:?}"
        );
    }

    #[test]
    fn pointers_escape_their_segments() {
        assert_eq!(push("/a", "b/c~d"), "/a/b~1c~0d");
    }
}
