//! The runner's safety rules against a "real device": the bundled emulator behind a profile
//! with `target.emulator = false`, so the runner has no control interface and applies the
//! rules it applies to real targets. The test itself still reads the emulator's control
//! interface (`GET /_dialtone`) to see what changed.
//!
//! * Without allow flags the runner only reads, and the device is left as it was.
//! * With `--allow write` it only creates objects marked with its prefix, deletes them
//!   afterwards, and every other write it sends is a probe the device refuses.
//! * `--allow write` does not let disruptive tests run.

use std::collections::BTreeMap;
use std::time::Duration;

use dialtone::harness::LocalEmulator;
use dialtone::runner::{
    Auth, Exchange, Options, Req, Resp, Session, Suite, Test, TestResult, Verdict,
};
use dialtone::spec::model::{CodeClass, Effect, FieldType, Outcome, Safety};
use dialtone::spec::Spec;
use serde_json::Value;

use crate::common::{runtime, session, spec, start_emulator, BODY_LIMIT};

const PREFIX: &str = "dialtone-";

/// The emulator for `name`, and a session that takes it for a real device.
pub(crate) fn device(
    rt: &tokio::runtime::Runtime,
    name: &str,
    allow_write: bool,
    allow_disruptive: bool,
) -> (LocalEmulator, Suite, Session) {
    let emu = start_emulator(rt, spec(name), &[], BODY_LIMIT);
    let mut profile = emu.profile.clone();
    profile.target.emulator = false;
    let suite = Suite::new(vec![spec(name)], vec![]);
    let opts = Options {
        allow_write,
        allow_disruptive,
        keep_passing_evidence: true,
        body_limit: BODY_LIMIT,
        test_budget: Duration::from_secs(20),
        ..Options::default()
    };
    let session = session(profile, &suite, opts);
    assert!(
        !session.emulator(),
        "the session must treat the target as real"
    );
    (emu, suite, session)
}

/// What the device holds: the collection sizes from the control interface, and the body of
/// every list/query GET of the spec's collections, read as the highest-ranked role.
#[derive(Debug, PartialEq)]
pub(crate) struct Snapshot {
    pub(crate) sizes: Value,
    pub(crate) reads: BTreeMap<String, (u16, String)>,
}

pub(crate) async fn snapshot(session: &Session, spec: &Spec) -> Snapshot {
    let (_, r) = session.client.send(&Req::new("GET", "/_dialtone")).await;
    let overview: Value = serde_json::from_slice(&r.expect("the control interface answers").body)
        .expect("the overview is JSON");
    let sizes = overview["apis"][0]["collections"].clone();
    assert!(sizes.is_object(), "no collection sizes in {overview}");
    let top = spec
        .roles_by_rank()
        .last()
        .map(|r| r.name.get_ref().clone())
        .expect("the spec has roles");
    let auth = session
        .auth(spec.name(), &top)
        .cloned()
        .unwrap_or(Auth::None);
    let mut reads = BTreeMap::new();
    for ep in spec.endpoints().filter(|ep| ep.collection.is_some()) {
        for op in &ep.op {
            if op.method.get_ref() != "GET"
                || !matches!(op.effect, Some(Effect::List | Effect::Query))
            {
                continue;
            }
            let target = dialtone::sample::target(spec, ep, op);
            let mut req = Req::new("GET", target.clone());
            req.auth = auth.clone();
            for (h, v) in &spec.auth().required_headers {
                if !h.eq_ignore_ascii_case("content-type") {
                    req = req.header(h, v);
                }
            }
            if let Some(ct) = op.response.as_ref().and_then(|r| r.content_types.first()) {
                req = req.header("Accept", ct);
            }
            let (_, r) = session.client.send(&req).await;
            let r = r.unwrap_or_else(|e| panic!("GET {target}: {e}"));
            reads.insert(target, (r.status, r.text()));
        }
    }
    Snapshot { sizes, reads }
}

/// Run the whole suite, one test at a time, with snapshots before and after.
fn run_all(
    rt: &tokio::runtime::Runtime,
    name: &str,
    allow_write: bool,
) -> (Snapshot, Vec<TestResult>, Snapshot) {
    let (emu, suite, session) = device(rt, name, allow_write, false);
    let spec = suite.specs[name].clone();
    let before = rt.block_on(snapshot(&session, &spec));
    let results: Vec<TestResult> = suite
        .tests
        .iter()
        .map(|t| rt.block_on(session.run(t)))
        .collect();
    let after = rt.block_on(snapshot(&session, &spec));
    rt.block_on(emu.running.shutdown());
    (before, results, after)
}

/// The failures and errors, apart from the bundled emulator's known gaps: it stands in for a
/// device here (`target.emulator = false`), so the runner does not skip them, and a device
/// that answers as the emulator does would fail them.
fn not_passed(results: &[TestResult]) -> Vec<String> {
    let gaps = dialtone::emulator::known_gaps();
    results
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error))
        .filter(|r| !gaps.contains_key(&r.id))
        .map(|r| {
            format!(
                "{} {}: {}",
                r.verdict.as_str(),
                r.id,
                r.message.as_deref().unwrap_or("")
            )
        })
        .collect()
}

pub(crate) fn snapshot_diff(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    if before.sizes != after.sizes {
        out.push(format!("sizes {} -> {}", before.sizes, after.sizes));
    }
    for (k, b) in &before.reads {
        let a = &after.reads[k];
        if a != b {
            out.push(format!("GET {k}: {} {} -> {} {}", b.0, b.1, a.0, a.1));
        }
    }
    out
}

fn is_read(ex: &Exchange) -> bool {
    ex.method == "GET" || ex.method == "HEAD"
}

/// Whether a non-GET exchange is a probe the device refused: a 4xx/5xx status, or an
/// answer that matches one of the spec's codes of class `failure` (roaming-profile answers
/// 200 with a failure `resultCode` in the body).
fn refused(spec: &Spec, ex: &Exchange) -> bool {
    let Some(status) = ex.status else {
        return false;
    };
    if status >= 400 {
        return true;
    }
    let resp = Resp {
        status,
        headers: ex.response_headers.clone(),
        body: ex
            .response_body
            .clone()
            .unwrap_or_default()
            .into_bytes()
            .into(),
    };
    spec.codes()
        .filter(|c| c.class == CodeClass::Failure)
        .any(|c| {
            let failure = Outcome {
                status: c.status,
                code: Some(c.id.get_ref().clone()),
            };
            dialtone::runner::outcome::matches(spec, &failure, &resp).is_ok()
        })
}

/// Whether a request body carries the prefix as the start of a text value: in a key or
/// unique text field of the op's schema when it has one, else in any text field (the runner
/// marks the first free text field of schemas whose only identity is server-assigned).
fn carries_prefix(spec: &Spec, test: &Test, body: &str) -> bool {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return body.contains(&format!(">{PREFIX}"));
    };
    let op = test
        .entry
        .endpoint
        .as_deref()
        .and_then(|id| spec.endpoint(id))
        .and_then(|ep| {
            ep.op
                .iter()
                .find(|o| Some(o.method.get_ref()) == test.entry.method.as_ref())
        });
    let schema = op
        .and_then(|o| o.request.as_ref())
        .and_then(|r| r.schema.as_ref())
        .and_then(|s| spec.schema(s.get_ref()));
    let ident: Vec<&str> = schema
        .map(|s| {
            s.field
                .iter()
                .filter(|f| (f.key || f.unique) && !f.server_assigned && f.ty == FieldType::String)
                .map(|f| f.name.get_ref().as_str())
                .collect()
        })
        .unwrap_or_default();
    let mut hits = Vec::new();
    prefixed(&v, None, &mut hits);
    if ident.is_empty() {
        !hits.is_empty()
    } else {
        hits.iter().any(|h| ident.contains(&h.as_str()))
    }
}

/// Names of the fields (at any depth) whose text value starts with the prefix.
fn prefixed(v: &Value, name: Option<&str>, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.starts_with(PREFIX) => out.push(name.unwrap_or("").to_string()),
        Value::Object(o) => o.iter().for_each(|(k, x)| prefixed(x, Some(k), out)),
        Value::Array(a) => a.iter().for_each(|x| prefixed(x, name, out)),
        _ => {}
    }
}

#[test]
fn read_only_by_default() {
    let rt = runtime();
    for name in dialtone::spec::BUNDLED {
        let (before, results, after) = run_all(&rt, name, false);
        assert!(
            not_passed(&results).is_empty(),
            "{name}: {:#?}",
            not_passed(&results)
        );
        for r in &results {
            for ex in &r.exchanges {
                assert!(
                    is_read(ex),
                    "{name} {}: sent {} {}",
                    r.id,
                    ex.method,
                    ex.url
                );
            }
            if r.safety != "read" {
                assert_eq!(r.verdict, Verdict::Skip, "{name} {} ran", r.id);
                let m = r.message.as_deref().unwrap_or("");
                let flag = if r.safety == "write" {
                    "--allow write"
                } else {
                    "--allow disruptive"
                };
                assert!(
                    m.contains(flag),
                    "{name} {}: skip message does not name `{flag}`: {m}",
                    r.id
                );
            }
        }
        assert!(
            results.iter().any(|r| r.verdict == Verdict::Pass),
            "{name}: nothing ran"
        );
        let diff = snapshot_diff(&before, &after);
        assert!(
            diff.is_empty(),
            "{name}: the device changed:\n{}",
            diff.join("\n")
        );
    }
}

#[test]
fn allow_write_touches_only_its_own_objects() {
    let rt = runtime();
    let mut left = Vec::new();
    for name in dialtone::spec::BUNDLED {
        let (before, results, after) = run_all(&rt, name, true);
        assert!(
            not_passed(&results).is_empty(),
            "{name}: {:#?}",
            not_passed(&results)
        );
        let suite = Suite::new(vec![spec(name)], vec![]);
        let spec = spec(name);
        for (r, t) in results.iter().zip(&suite.tests) {
            assert_eq!(r.id, t.entry.id);
            for ex in r.exchanges.iter().filter(|ex| !is_read(ex)) {
                // Every write the runner sends is one of:
                // * a create whose body carries the prefix (`carries_prefix`), from a
                //   completeness test (`full` or `omit-*`) of an operation with effect
                //   `create`: the only writes precheck lets through on a real target;
                // * the same from a property test of such an operation (invalid values);
                // * a probe the device refused (`refused`): nothing was written; or an omit
                //   probe the runner itself judged a pass, i.e. the answer matched the spec's
                //   refusal outcome for it (roaming-profile's 200 with a failure resultCode)
                //   and the read-back after it was unchanged.
                // Deletions of the runner's own objects (clean-up) are not part of the
                // evidence; that they happened, and happened only to those objects, is
                // what the snapshot comparison below shows.
                let body = ex.request_body.as_deref().unwrap_or("");
                // The stateful test writes only records it created (updates and deletes
                // name them by key, which may be server-assigned); that it touched
                // nothing else is what the snapshot comparison below shows, and
                // `device_safe` with foreign records seeded.
                if t.entry.check == dialtone::plan::Exercise::Stateful {
                    continue;
                }
                assert!(
                    (t.entry.check == dialtone::plan::Exercise::Full
                        || t.entry.check == dialtone::plan::Exercise::Omit
                        || t.entry.check == dialtone::plan::Exercise::PropertyInvalid)
                        && (carries_prefix(&spec, t, body)
                            || refused(&spec, ex)
                            || ((t.entry.check == dialtone::plan::Exercise::Omit
                                || t.entry.check == dialtone::plan::Exercise::PropertyInvalid)
                                && r.verdict == Verdict::Pass)),
                    "{name} {}: {} {} -> {:?} writes an object that is not the runner's: {body}",
                    r.id,
                    ex.method,
                    ex.url,
                    ex.status
                );
            }
        }
        let diff = snapshot_diff(&before, &after);
        if !diff.is_empty() {
            left.push(format!("{name}:\n{}", diff.join("\n")));
        }
    }
    assert!(
        left.is_empty(),
        "objects the runner created were left behind:\n{}",
        left.join("\n")
    );
}

#[test]
fn allow_write_keeps_disruptive_off() {
    let rt = runtime();
    for name in dialtone::spec::BUNDLED {
        let (emu, suite, session) = device(&rt, name, true, false);
        let mut seen = 0;
        for t in suite
            .tests
            .iter()
            .filter(|t| t.entry.safety == Safety::Disruptive)
        {
            seen += 1;
            let r = rt.block_on(session.run(t));
            assert_eq!(r.verdict, Verdict::Skip, "{name} {} ran", r.id);
            let m = r.message.unwrap_or_default();
            assert!(
                m.contains("--allow disruptive"),
                "{name} {}: skip message does not name `--allow disruptive`: {m}",
                r.id
            );
            assert!(r.exchanges.is_empty(), "{name} {}: sent requests", r.id);
        }
        eprintln!("{name}: {seen} disruptive tests skipped");
        rt.block_on(emu.running.shutdown());
    }
}
