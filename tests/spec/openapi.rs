//! `dialtone export openapi` produces documents that the official OpenAPI 3.1 schema accepts.

use dialtone::export::openapi;
use dialtone::spec::{self, Spec};

use crate::common;

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../data/openapi-3.1-schema.json")).expect("schema");
    jsonschema::validator_for(&schema).expect("compile OAS 3.1 schema")
}

fn check(doc: &serde_json::Value, what: &str) {
    let v = validator();
    let errors: Vec<String> = v
        .iter_errors(doc)
        .take(20)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} is not valid OpenAPI 3.1:\n{}",
        errors.join("\n")
    );
}

#[test]
fn each_bundled_spec_exports_valid_openapi() {
    for name in spec::BUNDLED {
        let s: Spec = common::spec(name);
        let doc = openapi::export(&[&s]);
        check(&doc, name);
        let ops: usize = s.endpoints().map(|e| e.op.len()).sum();
        let exported: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|item| {
                item.as_object()
                    .unwrap()
                    .keys()
                    .filter(|k| !k.starts_with("x-"))
                    .count()
            })
            .sum();
        assert_eq!(exported, ops, "{name}: every operation is exported");
        for item in doc["paths"].as_object().unwrap().values() {
            for (k, op) in item.as_object().unwrap() {
                if !k.starts_with("x-") {
                    assert!(op["x-dialtone-matrix"]
                        .as_array()
                        .is_some_and(|a| !a.is_empty()));
                }
            }
        }
    }
}

#[test]
fn all_specs_export_as_one_valid_document() {
    let specs: Vec<Spec> = common::bundled();
    let refs: Vec<&Spec> = specs.iter().collect();
    let doc = openapi::export(&refs);
    check(&doc, "all");
    assert_eq!(doc["x-dialtone-apis"].as_array().unwrap().len(), 4);
}

#[test]
fn the_validator_rejects_a_broken_document() {
    // Guard against a validator that accepts anything.
    let s = spec::load(std::path::Path::new("tests/fixtures/good/mini.toml")).unwrap();
    let mut doc = openapi::export(&[&s]);
    check(&doc, "mini");
    doc["openapi"] = serde_json::json!("2.0");
    doc["paths"]["/api/v1/alarms/history"]["get"]["responses"] = serde_json::json!("none");
    assert!(!validator().is_valid(&doc));
}

/// Every schema object of `doc` that lists `enum`, `default` or `examples`, with its path.
fn value_schemas<'a>(
    v: &'a serde_json::Value,
    at: String,
    out: &mut Vec<(String, &'a serde_json::Value)>,
) {
    match v {
        serde_json::Value::Object(o) => {
            let typed = o.contains_key("type") && !o.contains_key("$ref");
            if typed
                && ["enum", "default", "examples"]
                    .iter()
                    .any(|k| o.contains_key(*k))
            {
                out.push((at.clone(), v));
            }
            for (k, x) in o {
                value_schemas(x, format!("{at}/{k}"), out);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                value_schemas(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// What a semantic validator (openapi-spec-validator, Schemathesis) checks beyond the
/// OpenAPI schema: an enumeration's values, a default and each example are themselves
/// valid instances of the schema that declares them.
#[test]
fn enums_defaults_and_examples_fit_their_own_schema() {
    for name in spec::BUNDLED {
        let doc = openapi::export(&[&common::spec(name)]);
        let mut found = Vec::new();
        value_schemas(&doc, String::new(), &mut found);
        assert!(
            !found.is_empty(),
            "{name}: no schema lists an enum or default"
        );
        let mut bad = Vec::new();
        for (at, s) in found {
            let mut bare = s.clone();
            let o = bare.as_object_mut().unwrap();
            let enums = o.remove("enum");
            let default = o.remove("default");
            let examples = o.remove("examples");
            o.remove("description");
            let whole = jsonschema::validator_for(s).expect("compiles");
            let plain = jsonschema::validator_for(&bare).expect("compiles");
            for e in enums
                .iter()
                .flat_map(|e| e.as_array().cloned().unwrap_or_default())
            {
                if !plain.is_valid(&e) {
                    bad.push(format!("{name}{at}: enum value {e} against {bare}"));
                }
            }
            for d in default.iter() {
                if !whole.is_valid(d) {
                    bad.push(format!("{name}{at}: default {d} against {s}"));
                }
            }
            for x in examples
                .iter()
                .flat_map(|e| e.as_array().cloned().unwrap_or_default())
            {
                if !whole.is_valid(&x) {
                    bad.push(format!("{name}{at}: example {x} against {s}"));
                }
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}

/// Every operation of an exported document, as (path, method, operation).
fn operations(doc: &serde_json::Value) -> Vec<(String, String, serde_json::Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (m, op) in item.as_object().unwrap() {
            if !m.starts_with("x-") && m != "parameters" {
                out.push((path.clone(), m.clone(), op.clone()));
            }
        }
    }
    out
}

/// A peer tool given the export sends what the API requires: roaming-profile's
/// `X-Requested-With` header is a required parameter of every operation (without it every
/// call is refused, and a generic tester would report a pass), and no request declares the
/// pseudo media type `none` (sipXconfig's optional bodies are `required: false` instead).
#[test]
fn the_export_declares_required_headers_and_only_real_media_types() {
    let s: Spec = common::spec("roaming-profile");
    let doc = openapi::export(&[&s]);
    let ops = operations(&doc);
    assert!(!ops.is_empty());
    for (path, m, op) in &ops {
        let has = op["parameters"].as_array().is_some_and(|ps| {
            ps.iter().any(|p| {
                p["name"] == "X-Requested-With"
                    && p["in"] == "header"
                    && p["required"] == true
                    && p["schema"]["enum"][0] == "XMLHttpRequest"
            })
        });
        assert!(has, "{m} {path}: no required X-Requested-With header");
    }
    let s: Spec = common::spec("sipxconfig");
    let doc = openapi::export(&[&s]);
    let mut optional = 0;
    for (path, m, op) in operations(&doc) {
        if let Some(content) = op["requestBody"]["content"].as_object() {
            assert!(!content.contains_key("none"), "{m} {path} declares `none`");
            assert!(
                !content.is_empty(),
                "{m} {path}: a request body with no media type"
            );
            if op["requestBody"]["required"] == false {
                optional += 1;
            }
        }
    }
    assert!(
        optional > 0,
        "the optional bodies of sipXconfig are `required: false`"
    );
}

/// The export declares what the spec's general rules let an operation answer, types the
/// paging parameters and names XML roots, so a peer tool neither reports a documented
/// answer as undeclared nor sends what the API cannot take (Schemathesis, issue 17).
#[test]
fn the_export_declares_implied_statuses_paging_types_and_xml_roots() {
    let s: Spec = common::spec("sipxconfig");
    let doc = openapi::export(&[&s]);
    let op = |path: &str, m: &str| doc["paths"][path][m].clone();
    // An unknown record: the matrix's 404 on /api, the operation's own 400 on /rest.
    let phone = op("/sipxconfig/api/phones/{phoneId}", "get");
    assert!(
        phone["responses"]["404"].is_object(),
        "{}",
        phone["responses"]
    );
    // A body that does not validate, and one of a media type the operation does not take.
    let create = op("/sipxconfig/api/pagegroups", "post");
    assert!(
        create["responses"]["400"].is_object(),
        "{}",
        create["responses"]
    );
    let up = op("/sipxconfig/api/phoneGroups/{groupId}/up", "put");
    assert!(up["responses"]["415"].is_object(), "{}", up["responses"]);
    // Paging parameters are counts, not free text.
    let users = op("/sipxconfig/rest/user", "get");
    let param = |name: &str| param_schema(&users, name);
    assert_eq!(param("pagesize")["type"], "integer");
    assert_eq!(param("pagesize")["minimum"], 1);
    assert_eq!(param("page")["minimum"], 1, "restlet pages start at 1");
    // An XML body's root element is the request's wrapper, not the component's name.
    let branch = op("/sipxconfig/rest/branch", "put");
    let xml = &branch["requestBody"]["content"]["application/xml"]["schema"];
    assert_eq!(xml["xml"]["name"], "branch", "{xml}");
    // A multipart upload's file part has at least one byte and no other parts.
    let prompt = op("/sipxconfig/api/moh/prompts", "post");
    let multipart = prompt["requestBody"]["content"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.starts_with("multipart/"))
        .map(|(_, v)| v["schema"].clone())
        .expect("a multipart body");
    assert_eq!(multipart["additionalProperties"], false);
    let part = multipart["properties"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    assert_eq!(part["minLength"], 1);
}

/// The schema of operation `op`'s parameter `name`.
fn param_schema(op: &serde_json::Value, name: &str) -> serde_json::Value {
    op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no {name} parameter"))["schema"]
        .clone()
}

/// What the emulator does with a write's path and with records inside records, the export
/// says (found by Schemathesis, docs/openapi.md): a path value that becomes a checked body
/// field is typed, one an update only looks a record up by is text of at least one
/// character, a field the path fills is never required, a nested record's required fields
/// are, and a raw body of a minimum size has that minimum length.
#[test]
fn the_export_says_what_a_writes_path_fills_and_what_nested_records_need() {
    let s: Spec = common::spec("sipxconfig");
    let doc = openapi::export(&[&s]);
    let op = |path: &str, m: &str| doc["paths"][path][m].clone();
    let param = param_schema;
    // The owner a create's path names is stored, so it must be an integer.
    let personal = op("/sipxconfig/api/schedules/user/{userId}/personal", "post");
    assert_eq!(param(&personal, "userId")["type"], "integer");
    let body = personal["requestBody"]["content"]["application/json"]["schema"].to_string();
    assert!(!body.contains(r#""required":["userId"]"#), "{body}");
    // An update finds its phone by id or MAC address; anything else is not found.
    let phone = op("/sipxconfig/api/phones/{phoneId}", "put");
    assert_eq!(param(&phone, "phoneId")["type"], "string");
    assert_eq!(param(&phone, "phoneId")["minLength"], 1);
    // A gateway's id is the server's: the create's path value is not checked.
    let gateway = op("/sipxconfig/api/gateways/{gatewayId}", "post");
    assert_eq!(param(&gateway, "gatewayId")["type"], "string");
    // A schedule's periods need their start and end.
    let schedule = doc["components"]["schemas"]["b-schedule.request"].to_string();
    assert!(
        schedule.contains(r#""required":["start","end"]"#),
        "{schedule}"
    );
    // A call needs a body of at least one byte, whatever its type.
    let call = op("/sipxconfig/rest/call/{to}", "put");
    let text = &call["requestBody"]["content"]["text/plain"]["schema"];
    assert_eq!(text["minLength"], 1, "{text}");
}
