//! `dialtone fuzz` against the bundled emulator: nothing found on the conformant one, each
//! parser fault found quickly, findings saved as cases that replay (failing while the
//! fault is on, passing without it) and that carry no credential.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;

use dialtone::harness::LocalEmulator;
use dialtone::netfuzz::{self, FuzzOptions, FuzzReport, Fuzzer, Oracle};
use dialtone::runner::{cases, Options, Session, Suite, Verdict};

use crate::common::{
    dialtone, dialtone_in, runtime, scratch_dir, session, spec as load, start_emulator, BODY_LIMIT,
};

/// One emulator per API, as `dialtone fuzz` starts them, and a session on each.
fn start(
    rt: &tokio::runtime::Runtime,
    apis: &[&str],
    faults: &[&str],
) -> (Vec<LocalEmulator>, Vec<Arc<Session>>) {
    let mut local = Vec::new();
    let mut sessions = Vec::new();
    for api in apis {
        let l = start_emulator(rt, load(api), faults, BODY_LIMIT);
        let mut specs = IndexMap::new();
        specs.insert(api.to_string(), Arc::new(load(api)));
        let mut opts = Options::default();
        opts.client.timeout = Duration::from_secs(5);
        sessions.push(Arc::new(
            Session::new(l.profile.clone(), &specs, opts).unwrap(),
        ));
        local.push(l);
    }
    (local, sessions)
}

fn fuzz(
    rt: &tokio::runtime::Runtime,
    sessions: Vec<Arc<Session>>,
    opts: FuzzOptions,
) -> FuzzReport {
    let f = Fuzzer::new(sessions, opts).unwrap();
    rt.block_on(f.run(&mut |_| {}))
}

fn stop(rt: &tokio::runtime::Runtime, local: Vec<LocalEmulator>) {
    for l in local {
        rt.block_on(l.running.shutdown());
    }
}

const ALL: [&str; 4] = ["mediant", "sipxconfig", "rome", "roaming-profile"];

#[test]
fn the_conformant_emulator_gives_no_finding() {
    let rt = runtime();
    let (local, sessions) = start(&rt, &ALL, &[]);
    let report = fuzz(
        &rt,
        sessions,
        FuzzOptions {
            seed: 11,
            duration: Some(Duration::from_secs(12)),
            max_requests: Some(15000),
            ..FuzzOptions::default()
        },
    );
    stop(&rt, local);
    let found: Vec<String> = report
        .findings
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {}: {}",
                f.oracle.as_str(),
                f.api,
                f.method,
                f.endpoint,
                f.message
            )
        })
        .collect();
    assert!(
        found.is_empty(),
        "findings on the conformant emulator:\n{}",
        found.join("\n")
    );
    // The run did real work: many requests, over every API, many of them refused.
    assert!(report.fuzzed >= 1000, "only {} requests", report.fuzzed);
    assert_eq!(report.operations.len(), 4, "{:?}", report.operations);
    assert!(
        report.answers.get("4xx").copied().unwrap_or(0) > 100,
        "{:?}",
        report.answers
    );
    assert!(
        report.answers.get("2xx").copied().unwrap_or(0) > 100,
        "{:?}",
        report.answers
    );
}

/// Fuzz the four APIs with `fault` on until the first finding.
fn first_finding(
    fault: &str,
) -> (
    FuzzReport,
    Vec<Arc<Session>>,
    tokio::runtime::Runtime,
    Vec<LocalEmulator>,
) {
    let rt = runtime();
    let (local, sessions) = start(&rt, &ALL, &[fault]);
    let report = fuzz(
        &rt,
        sessions.clone(),
        FuzzOptions {
            seed: 5,
            duration: Some(Duration::from_secs(60)),
            stop_at_first: true,
            ..FuzzOptions::default()
        },
    );
    (report, sessions, rt, local)
}

#[test]
fn each_parser_fault_is_found_within_a_minute() {
    for fault in ["malformed-xml-500", "malformed-json-500", "bad-cursor-500"] {
        let (report, _, rt, local) = first_finding(fault);
        stop(&rt, local);
        let f = report
            .findings
            .first()
            .unwrap_or_else(|| panic!("{fault}: nothing found in {} requests", report.fuzzed));
        assert_eq!(f.oracle, Oracle::No5xx, "{fault}: {f:?}");
        assert_eq!(f.status, Some(500), "{fault}");
        assert!(f.found_after_s < 60.0, "{fault}: {}", f.found_after_s);
        assert!(
            !f.mutations.is_empty(),
            "{fault}: a finding names its mutations"
        );
        assert!(
            f.exchange.curl.starts_with("curl "),
            "{fault}: {}",
            f.exchange.curl
        );
        // Each fault bites where its parser is: XML bodies, JSON bodies, paging parameters.
        let d = f
            .mutations
            .iter()
            .map(|m| m.to_string())
            .collect::<Vec<_>>()
            .join("; ");
        let body = f.exchange.request_body.clone().unwrap_or_default();
        let ct = f
            .exchange
            .request_headers
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        match fault {
            "malformed-xml-500" => assert!(ct.contains("xml"), "{fault}: {ct} {d}"),
            "malformed-json-500" => assert!(ct.contains("json"), "{fault}: {ct} {d}"),
            _ => assert!(d.contains("query"), "{fault}: {d} {body}"),
        }
    }
}

fn tmp(name: &str) -> PathBuf {
    scratch_dir(&format!("netfuzz/{name}"))
}

#[test]
fn a_saved_finding_replays_and_holds_no_credential() {
    let fault = "malformed-json-500";
    let (report, sessions, rt, local) = first_finding(fault);
    let dir = tmp("saved");
    let written = netfuzz::save(&report, &dir).unwrap();
    assert_eq!(written.len(), 1);
    let f = &report.findings[0];
    let secrets: Vec<String> = sessions
        .iter()
        .flat_map(|s| s.profile.secrets())
        .map(|s| s.expose().to_string())
        .collect();
    assert!(!secrets.is_empty());
    // Every file saved: the case, the reproducer, any body file.
    let mut files = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
        files += 1;
        for s in &secrets {
            assert!(
                !text.contains(s.as_str()),
                "{} holds a credential",
                p.display()
            );
        }
        assert!(!text.contains("Basic "), "{}: {text}", p.display());
        if p.extension().is_some_and(|x| x == "curl") {
            assert!(text.contains("$DIALTONE_"), "{text}");
        }
    }
    assert!(files >= 2, "a case and its curl reproducer");
    stop(&rt, local);

    // The case loads with the runner's loader and replays through the runner.
    let loaded = cases::load_dir(&dir).unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].api, f.api);
    assert!(loaded[0].steps[0].body_b64.is_some() || f.exchange.request_body.is_none());
    let replay = |faults: &[&str]| -> Verdict {
        let api = f.api.as_str();
        let l = start_emulator(&rt, load(api), faults, BODY_LIMIT);
        let suite = Suite::new(vec![load(api)], cases::load_dir(&dir).unwrap());
        let test = suite
            .tests
            .iter()
            .find(|t| t.case.as_ref().is_some_and(|c| c.kind.is_none()))
            .expect("the case is in the suite")
            .clone();
        let session = session(l.profile.clone(), &suite, Options::default());
        let r = rt.block_on(session.run(&test));
        rt.block_on(l.running.shutdown());
        r.verdict
    };
    assert_eq!(
        replay(&[fault]),
        Verdict::Fail,
        "the finding fails while the fault is on"
    );
    assert_eq!(
        replay(&[]),
        Verdict::Pass,
        "and passes on the conformant emulator"
    );
}

/// A fuzz run against an emulator that crashes on malformed JSON, stopping at the first
/// finding.
const FIRST_FINDING: &[&str] = &[
    "fuzz",
    "--spec",
    "roaming-profile",
    "--duration",
    "20s",
    "--fault",
    "malformed-json-500",
    "--stop-at-first",
];

#[test]
fn findings_go_under_dot_dialtone_by_default() {
    let dir = tmp("default-dir");
    let o = dialtone_in(&dir, &[FIRST_FINDING, &["-q"]].concat());
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let saved = dir.join(".dialtone/findings");
    assert!(
        std::fs::read_dir(&saved).is_ok_and(|d| d.count() >= 2),
        "no findings in {}",
        saved.display()
    );
    assert!(!dir.join("fuzz-findings").exists());
}

#[test]
fn the_command_exits_1_on_findings_0_without_and_2_on_bad_arguments() {
    let dir = tmp("cli");
    let d = dir.to_str().unwrap();
    let json = tmp("cli-json").join("report.json");
    let o = dialtone(
        &[
            FIRST_FINDING,
            &["--findings", d, "--json", json.to_str().unwrap()],
        ]
        .concat(),
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("FINDING no-5xx roaming-profile"), "{out}");
    assert!(out.contains("requests/s"), "{out}");
    assert!(std::fs::read_dir(&dir).unwrap().count() >= 2);
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["findings"][0]["oracle"], "no-5xx", "{report}");
    assert!(
        report["findings"][0]["mutations"][0]["kind"].is_string(),
        "{report}"
    );

    let o = dialtone(&[
        "fuzz",
        "--spec",
        "roaming-profile",
        "--duration",
        "20s",
        "--max-requests",
        "300",
        "--findings",
        d,
        "-q",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("300 fuzzed requests") && out.contains("0 findings"),
        "{out}"
    );

    let o = dialtone(&["fuzz", "--spec", "rome", "--duration", "soon"]);
    assert_eq!(o.status.code(), Some(2));
    let o = dialtone(&[
        "fuzz",
        "--spec",
        "rome",
        "--target",
        "http://127.0.0.1:9",
        "--fault",
        "bad-cursor-500",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

/// A target that answers every request with an endless body: the fuzzer reports it (an
/// answer over the body cap is a finding) and exits 1, instead of "0 findings".
#[test]
fn an_answer_over_the_body_cap_is_a_finding() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut conn = conn;
                let mut head = [0u8; 4096];
                let _ = conn.read(&mut head);
                let _ = conn.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000000000\r\n\r\n",
                );
                let chunk = vec![b' '; 64 * 1024];
                while conn.write_all(&chunk).is_ok() {}
            });
        }
    });
    let dir = tmp("flood");
    let profile = dir.join("p.toml");
    std::fs::write(
        &profile,
        format!(
            "[target]\nurl = \"{url}\"\napi = \"roaming-profile\"\n\
             [accounts.reseller]\ntoken_env = \"DT_FLOOD_TOKEN\"\n\
             [accounts.enterprise]\ntoken_env = \"DT_FLOOD_TOKEN\"\n"
        ),
    )
    .unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .env("DT_FLOOD_TOKEN", "t")
        .args(["fuzz", "--spec", "roaming-profile", "--profile"])
        .arg(&profile)
        .args([
            "--max-requests",
            "20",
            "--max-body",
            "1048576",
            "--timeout",
            "5",
            "--findings",
        ])
        .arg(dir.join("findings"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("FINDING too-large"), "{out}");
}
