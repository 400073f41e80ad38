//! The OpenAPI export describes the answers the emulator really gives: every parameterless
//! GET of each bundled API, asked for JSON by its top role, answers a body that the export's
//! success schema for `application/json` accepts (wrappers, paging fields and result-code
//! envelopes included). A peer tool fed the export would otherwise report the emulator, and
//! any device that answers like it, as non-conforming.

use axum::http::{header, HeaderValue};
use dialtone::export::openapi;

use crate::support::{emulator, read, request, As};

#[tokio::test]
async fn every_json_answer_fits_the_exported_schema() {
    let mut checked = 0;
    let mut problems = Vec::new();
    for api in dialtone::spec::BUNDLED {
        let emu = emulator(&[api], &[]);
        let spec = &emu.api(api).unwrap().spec;
        let doc = openapi::export(&[spec]);
        let top = spec.roles_by_rank().last().unwrap().name.get_ref().clone();
        for ep in spec.endpoints() {
            let Some(op) = ep.operation("GET") else {
                continue;
            };
            let path = spec.full_path(ep);
            let required_query = op.query.values().any(|q| q.spec().required);
            if path.contains('{') || required_query {
                continue;
            }
            let success = op.success_outcome().status.to_string();
            let schema = &doc["paths"][&path]["get"]["responses"][&success]["content"]
                ["application/json"]["schema"];
            if schema.is_null() {
                continue;
            }
            let json_param = op.response.as_ref().and_then(|r| r.format_param.clone());
            let uri = match json_param {
                Some(p) => format!("{path}?{p}=json"),
                None => path.clone(),
            };
            let mut req = request(&emu, api, As::Role(&top), "GET", &uri, None);
            req.headers_mut()
                .insert(header::ACCEPT, HeaderValue::from_static("application/json"));
            let a = read(emu.handle(req).await).await;
            let json_answer = a
                .header("content-type")
                .is_some_and(|c| c.starts_with("application/json"));
            if a.status.to_string() != success || !json_answer {
                continue;
            }
            let body: serde_json::Value = match serde_json::from_slice(&a.body) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(format!("{api} GET {uri}: not JSON ({e})"));
                    continue;
                }
            };
            let mut root = serde_json::json!({ "allOf": [schema] });
            root["components"] = doc["components"].clone();
            let v = jsonschema::validator_for(&root).expect("the exported schema compiles");
            if let Some(e) = v.iter_errors(&body).next() {
                problems.push(format!("{api} GET {uri}: {e} at {}", e.instance_path));
            }
            checked += 1;
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked >= 70, "only {checked} answers checked");
}

/// A roaming-profile failure travels as HTTP 200 with a failure result code: the export
/// declares that shape beside the success one, so a peer tool reads the failure as the API's
/// own answer. Each operation sent an empty object answers such a failure, and it fits.
#[tokio::test]
async fn a_failure_answered_with_200_fits_the_exported_schema() {
    let api = "roaming-profile";
    let emu = emulator(&[api], &[]);
    let spec = &emu.api(api).unwrap().spec;
    let doc = openapi::export(&[spec]);
    let top = spec.roles_by_rank().last().unwrap().name.get_ref().clone();
    let mut failures = 0;
    for ep in spec.endpoints() {
        for op in &ep.op {
            let path = spec.full_path(ep);
            let m = op.method.get_ref().to_ascii_lowercase();
            let schema = &doc["paths"][&path][&m]["responses"]["200"]["content"]
                ["application/json"]["schema"];
            assert!(schema.is_object(), "{m} {path}: no schema for its 200");
            let body = Some(("application/json", b"{}".to_vec()));
            let req = request(&emu, api, As::Role(&top), op.method.get_ref(), &path, body);
            let a = read(emu.handle(req).await).await;
            assert_eq!(a.status, 200, "{m} {path}: {}", a.text());
            let answer: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
            let mut root = serde_json::json!({ "allOf": [schema] });
            root["components"] = doc["components"].clone();
            let v = jsonschema::validator_for(&root).unwrap();
            assert!(v.is_valid(&answer), "{m} {path}: {answer} does not fit");
            let code = answer.pointer("/Response/resultParam/resultCode");
            let success = op.success_outcome().code;
            if code.and_then(|c| c.as_str()) != success.as_deref() {
                failures += 1;
            }
        }
    }
    assert!(failures >= 3, "only {failures} failures answered");
}
