//! Every fault of the emulator's catalogue makes the runner fail, and the failing tests
//! include the rule the fault breaks (the catalogue's `violates` patterns). The runner
//! here is the same one `dialtone run` uses; only the presentation is left out.

use dialtone::emulator::faults::{CATALOGUE, FINDINGS};
use dialtone::runner::{cases, Options, Suite, Verdict};
use dialtone::spec;

use crate::common::{runtime, session, spec as load, start_emulator, BODY_LIMIT};

use dialtone::runner::baseline::glob;

#[test]
fn glob_matches_like_the_catalogue_says() {
    assert!(glob(
        "*/matrix/*/bad-credentials",
        "rome/x/matrix/GET/bad-credentials"
    ));
    assert!(!glob(
        "*/matrix/*/bad-credentials",
        "rome/x/matrix/GET/read"
    ));
    assert!(glob("rome/*", "rome/a"));
    assert!(!glob("rome/*", "mediant/a"));
    assert!(glob("mediant/job/*/flow", "mediant/job/debug-file/flow"));
    assert!(!glob("mediant/job/*/flow", "mediant/job/debug-file/flowx"));
}

/// For each kind of assertion of the step grammar: a fault of the catalogue, and a rule's
/// test that the fault makes fail by that very assertion.
const ASSERTIONS: &[(&str, &str, &str)] = &[
    (
        "equals",
        "client-ids-honoured",
        "sipxconfig/branch/create-ignores-id",
    ),
    ("one_of", "drop-optional-field", "mediant/status/enums"),
    (
        "matches",
        "drop-optional-field",
        "sipxconfig/branch/list-item-fields",
    ),
    (
        "present",
        "limit-ignored",
        "mediant/alarms/active/cursor/limit-at-most",
    ),
    (
        "count",
        "cursor-skips-item",
        "mediant/alarms/active/cursor/walk-complete",
    ),
    (
        "sorted_by",
        "list-reversed",
        "sipxconfig/phone-groups/weight-order",
    ),
    (
        "same_as",
        "limit-ignored",
        "mediant/alarms/active/cursor/values-are-ids",
    ),
    (
        "differs_from",
        "client-ids-honoured",
        "sipxconfig/user/create-ignores-id",
    ),
    (
        "changed_by",
        "client-ids-honoured",
        "sipxconfig/branch/create-listed",
    ),
    (
        "keys",
        "drop-optional-field",
        "mediant/kpi/current/applications",
    ),
];

#[test]
fn every_fault_fails_the_run_on_the_rule_it_breaks() {
    let rt = runtime();
    let case_list = || cases::load_dir(&cases::bundled_dir()).unwrap();
    // Every (fault, API) pair the catalogue says shows the fault.
    let mut jobs = Vec::new();
    for (_, fault) in CATALOGUE {
        for api in spec::BUNDLED {
            let patterns: Vec<&str> = fault
                .violates
                .iter()
                .filter(|(a, _)| *a == "*" || a == api)
                .map(|(_, p)| *p)
                .collect();
            if !patterns.is_empty() {
                jobs.push((fault, *api, patterns));
            }
        }
    }
    // Each pair runs its own emulator and session; the pairs are shared among a few threads
    // so both cores stay busy (one session runs its tests one after another).
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some((fault, api, patterns)) = jobs.get(i) else {
                    break;
                };
                let local = start_emulator(&rt, load(api), &[fault.name], BODY_LIMIT);
                let suite = Suite::new(vec![load(api)], case_list());
                let opts = Options {
                    body_limit: BODY_LIMIT,
                    ..Options::default()
                };
                let session = session(local.profile.clone(), &suite, opts);
                let mut failing = Vec::new();
                let mut messages = Vec::new();
                let mut errors = Vec::new();
                let mut checks = std::collections::BTreeSet::new();
                for t in &suite.tests {
                    let r = rt.block_on(session.run(t));
                    if r.verdict == Verdict::Fail && patterns.iter().any(|p| glob(p, &r.id)) {
                        checks.extend(r.findings.iter().map(|f| f.check.clone()));
                    }
                    match r.verdict {
                        Verdict::Fail => {
                            messages.push((r.id.clone(), r.message.clone().unwrap_or_default()));
                            failing.push(r.id)
                        }
                        Verdict::Error => errors.push(format!("{}: {:?}", r.id, r.message)),
                        _ => {}
                    }
                }
                rt.block_on(local.running.shutdown());
                done.lock().unwrap().push((
                    i,
                    fault.name,
                    *api,
                    patterns.clone(),
                    failing,
                    errors,
                    checks,
                    messages,
                ));
            });
        }
    });
    let mut done = done.into_inner().unwrap();
    done.sort_by_key(|d| d.0);
    assert_eq!(done.len(), jobs.len(), "a worker stopped early");
    let mut problems = Vec::new();
    let mut table = Vec::new();
    // Every assertion kind is caught by its fault, on its rule, by that assertion.
    for (kind, fault, test) in ASSERTIONS {
        let caught = done.iter().any(|d| {
            d.1 == *fault
                && d.7
                    .iter()
                    .any(|(id, m)| id == test && m.contains(&format!("assert `{kind}` failed")))
        });
        if !caught {
            problems.push(format!(
                "assertion `{kind}`: fault {fault} does not fail {test} by that assertion"
            ));
        }
    }
    // Every family of rules given as steps (API and rule kind) has a fault that fails one.
    let suite = Suite::new(spec::BUNDLED.iter().map(|a| load(a)).collect(), vec![]);
    let stepped: std::collections::BTreeMap<&str, (&str, &str)> = suite
        .tests
        .iter()
        .filter(|t| t.case.as_ref().is_some_and(|c| c.kind.is_some()))
        .map(|t| {
            (
                t.entry.id.as_str(),
                (t.entry.api.as_str(), t.entry.kind.as_str()),
            )
        })
        .collect();
    let families: std::collections::BTreeSet<(&str, &str)> = stepped.values().copied().collect();
    // Families no fault of the catalogue reaches yet (a gap stated on issue 14, not a pass).
    const UNCAUGHT: &[(&str, &str)] = &[("sipxconfig", "completeness"), ("sipxconfig", "state")];
    for fam in families.iter().filter(|f| !UNCAUGHT.contains(f)) {
        let caught = done.iter().any(|d| {
            d.7.iter()
                .any(|(id, m)| stepped.get(id.as_str()) == Some(fam) && m.starts_with("step "))
        });
        if !caught {
            problems.push(format!(
                "no fault fails a {} rule of {} given as steps",
                fam.1, fam.0
            ));
        }
    }
    for (_, name, api, patterns, failing, errors, checks, _) in done {
        let hits: Vec<&String> = failing
            .iter()
            .filter(|id| patterns.iter().any(|p| glob(p, id)))
            .collect();
        table.push(format!(
            "{:<26} {:<16} {:>4} failing, {:>4} on its rule, oracle checks {:?}, e.g. {}",
            name,
            api,
            failing.len(),
            hits.len(),
            checks,
            hits.first().map(|s| s.as_str()).unwrap_or("-")
        ));
        if hits.is_empty() {
            problems.push(format!(
                "{name} on {api}: {} tests fail but none matches {patterns:?} (first failures: {:?})",
                failing.len(),
                &failing[..failing.len().min(5)]
            ));
        }
        // A body-level fault is named by the oracle check it trips, on its rule's tests.
        let (id, _) = CATALOGUE.iter().find(|(_, f)| f.name == name).unwrap();
        if let Some((_, want)) = FINDINGS.iter().find(|(f, _)| f == id) {
            let named = if *want == "*" {
                !checks.is_empty()
            } else {
                checks.contains(*want)
            };
            if !named {
                problems.push(format!(
                    "{name} on {api}: no failing test on its rule reports a `{want}` finding (found {checks:?})"
                ));
            }
        }
        if !errors.is_empty() {
            problems.push(format!(
                "{name} on {api}: error verdicts {:?}",
                &errors[..errors.len().min(3)]
            ));
        }
    }
    println!("{}", table.join("\n"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
