//! Property and stateful tests against a faulty emulator (issue 5): each fault makes its
//! property fail, the failure is shrunk, the reported seed reproduces exactly that failure,
//! and the stored failing case is replayed first on the next run.

use std::path::{Path, PathBuf};

use dialtone::runner::result::{TestResult, Verdict};
use dialtone::runner::{regress, Options, Suite};

use crate::common::{run_against_emulator, scratch_dir, spec, BODY_LIMIT};

/// (fault, api, the property test that must fail)
const CASES: &[(&str, &str, &str)] = &[
    (
        "cursor-skips-item",
        "mediant",
        "mediant/alarms/active/cursor/random-sizes",
    ),
    (
        "limit-ignored",
        "sipxconfig",
        "sipxconfig/branch/cursor/random-sizes",
    ),
    (
        "skip-value-checks",
        "mediant",
        "mediant/license/property/PUT/invalid-rejected",
    ),
    (
        "client-ids-honoured",
        "sipxconfig",
        "sipxconfig/branch/property/stateful",
    ),
    (
        "update-appends",
        "sipxconfig",
        "sipxconfig/branch/property/stateful",
    ),
    ("malformed-xml-500", "rome", "rome/property/responses"),
    (
        "wrong-error-envelope",
        "roaming-profile",
        "roaming-profile/property/responses",
    ),
];

/// Run the tests whose id contains `test` (stored replays first), one by one through
/// `Session::run`, against a fresh emulator with `fault`.
fn run(api: &str, fault: Option<&str>, test: &str, seed: u64, regressions: &Path) -> Report {
    let stored = regress::load(regressions).unwrap();
    let suite = Suite::new(vec![spec(api)], vec![]).with_regressions(&stored);
    let opts = Options {
        seed,
        regressions: Some(regressions.to_path_buf()),
        body_limit: BODY_LIMIT,
        ..Options::default()
    };
    let (results, session) = run_against_emulator(spec(api), fault.as_slice(), &suite, opts, |t| {
        t.entry.id.contains(test)
    });
    Report {
        seed: session.info().seed,
        results,
    }
}

struct Report {
    seed: u64,
    results: Vec<TestResult>,
}

fn tempdir(tag: &str) -> PathBuf {
    scratch_dir(&format!("property-faults-{tag}"))
}

#[test]
fn faults_fail_their_properties_shrunk_and_reproducible() {
    let seed = 0x005e_ed0f_d1a1;
    for (fault, api, test) in CASES {
        let dir = tempdir(fault);
        let first = run(api, Some(fault), test, seed, &dir);
        let r = first
            .results
            .iter()
            .find(|r| r.id == *test)
            .unwrap_or_else(|| panic!("{fault}: {test} did not run"));
        assert_eq!(r.verdict, Verdict::Fail, "{fault}: {test}: {:?}", r.message);
        let msg = r.message.clone().unwrap_or_default();
        assert!(msg.contains("shrunk in"), "{fault}: not shrunk: {msg}");
        assert!(
            msg.contains(&format!("of seed {seed}")),
            "{fault}: the message names no seed: {msg}"
        );
        assert_eq!(first.seed, seed, "the report carries the seed");

        // The same seed finds and shrinks to exactly the same case.
        let again_dir = tempdir(&format!("{fault}-again"));
        let again = run(api, Some(fault), test, seed, &again_dir);
        let r2 = again.results.iter().find(|r| r.id == *test).unwrap();
        assert_eq!(
            r2.message.as_deref(),
            Some(msg.as_str()),
            "{fault}: not reproduced"
        );

        // The failure was stored; the next run replays it first, under its own name,
        // with the stored seed even when the run's seed differs.
        let stored = regress::load(&dir).unwrap();
        assert_eq!(stored.len(), 1, "{fault}: {stored:?}");
        assert_eq!(stored[0].test, *test);
        assert_eq!(stored[0].seed, seed);
        let replay = run(api, Some(fault), test, seed ^ 1, &dir);
        let replay_id = format!("{test}/regression-{seed}");
        assert_eq!(
            replay.results.first().map(|r| r.id.as_str()),
            Some(replay_id.as_str()),
            "{fault}: the stored case is not replayed first"
        );
        assert_eq!(replay.results[0].verdict, Verdict::Fail);
        assert_eq!(replay.results[0].message.as_deref(), Some(msg.as_str()));
        // Without the fault the replay passes.
        let fixed = run(api, None, test, seed, &dir);
        let rr = fixed.results.iter().find(|r| r.id == replay_id).unwrap();
        assert_eq!(rr.verdict, Verdict::Pass, "{fault}: {:?}", rr.message);
        for d in [dir, again_dir] {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}
