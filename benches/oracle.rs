//! Response-oracle benchmark: microseconds per validated answer, for the answers the suite
//! sees most (a Mediant status record, an alarm list, a sipXconfig XML list, roaming rows
//! in their envelope), beside the `jsonschema` crate validating the same JSON bodies
//! against the schema the OpenAPI export holds for them. Prints a Markdown table; see
//! docs/performance.md.
//!
//! Environment: `DIALTONE_BENCH_ITERS` (validations per measurement, default 20000),
//! `DIALTONE_BENCH_RUNS` (measurements per answer, median reported, default 5).

use std::time::Instant;

use dialtone::oracle::{self, Answer, Mode, Router};
use dialtone::spec::{self, Spec};
use serde_json::Value;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// One answer to validate: its spec, request, content type, body, and the OpenAPI
/// schema name of its JSON body (when the comparison applies).
struct Case {
    name: &'static str,
    api: &'static str,
    method: &'static str,
    target: &'static str,
    content_type: &'static str,
    body: String,
    schema: Option<&'static str>,
}

fn alarms(n: usize) -> String {
    let items: Vec<Value> = (1..=n)
        .map(|i| {
            serde_json::json!({
                "id": i.to_string(),
                "description": "Trunk is down",
                "url": format!("/api/v1/alarms/active/{i}")
            })
        })
        .collect();
    serde_json::json!({ "alarms": items, "cursor": { "after": "-1", "before": "-1" } }).to_string()
}

fn branches(n: usize) -> String {
    let mut s = String::from("<branches>");
    for i in 1..=n {
        s.push_str(&format!(
            "<branch><id>{i}</id><name>branch-{i}</name><description>d</description></branch>"
        ));
    }
    s.push_str("</branches>");
    s
}

fn roaming(n: usize) -> String {
    let rows: Vec<Value> = (1..=n)
        .map(|i| {
            serde_json::json!({
                "roamingProfileId": (100 + i).to_string(),
                "roamingProfileName": format!("profile-{i}"),
                "destinationGroupId": "1",
                "status": "1"
            })
        })
        .collect();
    serde_json::json!({ "Response": { "resultCode": "0", "resultParam": {
        "resultCode": "1204", "resultDescription": "Get roaming profile success" },
        "responseParam": { "rows": rows } } })
    .to_string()
}

const STATUS: &str = r#"{"localTimeStamp":"2010-01-17T17:29:15.000Z","ipAddress":"10.4.219.229","subnetMask":"255.255.0.0","defaultGateway":"10.4.0.1","productType":"Mediant SW","versionID":"7.20A.200.014","protocolType":"SIP","operationalState":"UNLOCKED","highAvailability":"Not Operational","serialNumber":"101780235059663","macAddress":"fa163e6e7e1d","systemUpTime":161446,"saveNeeded":false,"resetNeeded":false,"upgradeStatus":"None","mcUpgradeStatus":"None"}"#;

/// A `jsonschema` validator for `#/components/schemas/<name>` of `spec`'s export, as a
/// list of records when `many`.
fn compiled(spec: &Spec, name: &str, many: Option<&str>) -> jsonschema::Validator {
    let doc = dialtone::export::openapi::export(&[spec]);
    let one = serde_json::json!({ "$ref": format!("#/components/schemas/{name}") });
    let body = match many {
        Some(w) => serde_json::json!({ "type": "object", "required": [w],
            "properties": { w: { "type": "array", "items": one } } }),
        None => one,
    };
    let mut root = body;
    root["components"] = doc["components"].clone();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&root)
        .expect("compiles")
}

fn main() {
    let iters = env_num("DIALTONE_BENCH_ITERS", 20_000) as usize;
    let runs = env_num("DIALTONE_BENCH_RUNS", 5) as usize;
    let load = |n: &str| spec::load(&spec::resolve(n)).unwrap_or_else(|d| panic!("{n}: {d:?}"));
    let cases = [
        Case {
            name: "Mediant GET /status (one record, 16 fields)",
            api: "mediant",
            method: "GET",
            target: "/api/v1/status",
            content_type: "application/json",
            body: STATUS.to_string(),
            schema: Some("status"),
        },
        Case {
            name: "Mediant GET /alarms/active (100 records)",
            api: "mediant",
            method: "GET",
            target: "/api/v1/alarms/active",
            content_type: "application/json",
            body: alarms(100),
            schema: Some("alarm-summary"),
        },
        Case {
            name: "sipXconfig GET /branch, XML (100 records)",
            api: "sipxconfig",
            method: "GET",
            target: "/sipxconfig/rest/branch",
            content_type: "application/xml",
            body: branches(100),
            schema: None,
        },
        Case {
            name: "roaming GET /GetRoamingProfile (100 rows in the envelope)",
            api: "roaming-profile",
            method: "GET",
            target: "/api/GetRoamingProfile",
            content_type: "application/json",
            body: roaming(100),
            schema: None,
        },
    ];
    println!("## Response oracle: time per validated answer\n");
    println!("Median of {runs} measurements of {iters} validations each.\n");
    println!("| answer | dialtone oracle | findings | jsonschema (same JSON, OpenAPI schema) |");
    println!("|---|---|---|---|");
    for c in &cases {
        let spec = load(c.api);
        let router = Router::new(&spec);
        let op = router.reach(&spec, c.method, c.target);
        assert!(op.is_some(), "{}: no operation", c.name);
        let headers = [("Content-Type".to_string(), c.content_type.to_string())];
        let answer = Answer {
            status: 200,
            headers: &headers,
            body: c.body.as_bytes(),
        };
        let findings = oracle::check(&spec, op, &answer, Mode::default());
        let ours = median(
            (0..runs)
                .map(|_| {
                    let t0 = Instant::now();
                    for _ in 0..iters {
                        let op = router.reach(&spec, c.method, c.target);
                        std::hint::black_box(oracle::check(&spec, op, &answer, Mode::default()));
                    }
                    t0.elapsed().as_secs_f64() * 1e6 / iters as f64
                })
                .collect(),
        );
        let theirs = c.schema.map(|name| {
            let many = (name == "alarm-summary").then_some("alarms");
            let v = compiled(&spec, name, many);
            median(
                (0..runs)
                    .map(|_| {
                        let t0 = Instant::now();
                        for _ in 0..iters {
                            // Parsing is part of the work, as it is for the oracle.
                            let body: Value = serde_json::from_slice(c.body.as_bytes()).unwrap();
                            std::hint::black_box(v.is_valid(&body));
                        }
                        t0.elapsed().as_secs_f64() * 1e6 / iters as f64
                    })
                    .collect(),
            )
        });
        println!(
            "| {} | {ours:.1} µs | {} | {} |",
            c.name,
            findings.len(),
            theirs
                .map(|t| format!("{t:.1} µs ({:.2}× ours)", t / ours))
                .unwrap_or_else(|| {
                    "not comparable (XML, or an envelope the export does not model)".into()
                })
        );
    }
}
