//! Response snapshots (issue 5): every readable endpoint of every bundled API, normalised
//! (`runner::snapshot`), against the baseline committed under `snapshots/` (insta; review a
//! change with `cargo insta review` or `dialtone snapshot review`). Also: a baseline
//! recorded from one emulator and compared with an emulator whose firmware changed one
//! answer reports exactly that drift.

use std::path::{Path, PathBuf};

use dialtone::runner::result::{TestResult, Verdict};
use dialtone::runner::snapshot::{self, Snapshots};
use dialtone::runner::{Options, Suite};
use dialtone::spec::{self, Spec};

use crate::common::{run_against_emulator, scratch_dir, spec as load};

fn tempdir(tag: &str) -> PathBuf {
    scratch_dir(&format!("response-snapshots-{tag}"))
}

/// Run only the snapshot tests of `spec`, one by one through `Session::run`, against a
/// fresh emulator serving `served`.
fn snapshot_run(spec: Spec, served: Spec, dir: &Path, record: bool) -> Report {
    let suite = Suite::new(vec![spec], vec![]).with_snapshots();
    let opts = Options {
        snapshots: Some(Snapshots {
            dir: dir.to_path_buf(),
            record,
        }),
        ..Options::default()
    };
    let (results, _) = run_against_emulator(served, &[], &suite, opts, |t| {
        t.entry.id.ends_with("/snapshot/GET")
    });
    Report { results }
}

struct Report {
    results: Vec<TestResult>,
}

impl Report {
    fn passed(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.verdict == Verdict::Pass)
            .count()
    }
    fn problems(&self) -> usize {
        self.results
            .iter()
            .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error))
            .count()
    }
}

#[test]
fn emulator_answers_match_the_committed_snapshots() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    for name in spec::BUNDLED {
        let dir = tempdir(&format!("snap-{name}"));
        let report = snapshot_run(load(name), load(name), &dir, true);
        assert!(report.passed() > 0, "{name}: no snapshot was taken");
        assert_eq!(
            report.passed(),
            report.results.len(),
            "{name}: some snapshot reads did not pass: {:?}",
            report
                .results
                .iter()
                .filter(|r| r.verdict != Verdict::Pass)
                .map(|r| (&r.id, &r.message))
                .collect::<Vec<_>>()
        );
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(root.join(name));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.bind(|| {
            for r in &report.results {
                let file = dir.join(snapshot::relative_path(&r.id));
                let text = snapshot::read(&file)
                    .unwrap()
                    .unwrap_or_else(|| panic!("{}: not recorded", file.display()));
                insta::assert_snapshot!(snapshot::name(&r.id), text);
            }
        });
        // Nothing stale: every committed snapshot belongs to a readable endpoint.
        let committed: Vec<String> = std::fs::read_dir(root.join(name))
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|f| f.ends_with(".snap"))
            .collect();
        for f in &committed {
            let stem = f.trim_end_matches(".snap");
            assert!(
                report.results.iter().any(|r| snapshot::name(&r.id) == stem),
                "{name}: snapshots/{name}/{f} belongs to no readable endpoint; delete it"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// A firmware change to one answer is reported as exactly one drift, with a diff naming the
/// changed value, and the new answer is left for review.
#[test]
fn one_changed_answer_is_exactly_one_drift() {
    let dir = tempdir("snap-drift");
    let recorded = snapshot_run(load("mediant"), load("mediant"), &dir, true);
    assert_eq!(recorded.problems(), 0);

    // The "new firmware": the status answer reports another version.
    let mut changed = load("mediant");
    let ep = changed
        .raw
        .endpoints
        .iter_mut()
        .find(|e| e.value.id.get_ref() == "status")
        .expect("mediant has a status endpoint");
    let resp = ep.value.op[0]
        .response
        .as_mut()
        .expect("status has a response");
    let example = resp.example.as_mut().expect("status has an example");
    assert!(example.contains("7.20A.200.014"));
    *example = example.replace("7.20A.200.014", "7.20A.202.307");

    let report = snapshot_run(load("mediant"), changed, &dir, false);
    let bad: Vec<_> = report
        .results
        .iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .collect();
    assert_eq!(
        bad.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        vec!["mediant/status/snapshot/GET"],
        "exactly the changed answer drifts"
    );
    let r = bad[0];
    assert_eq!(r.verdict, Verdict::Fail);
    let diff = r.actual.as_deref().unwrap_or_default();
    assert!(
        diff.contains("-  \"versionID\": \"7.20A.200.014\"")
            && diff.contains("+  \"versionID\": \"7.20A.202.307\""),
        "the diff names the change: {diff}"
    );
    // The volatile fields and everything else are not part of the diff.
    assert_eq!(
        diff.lines()
            .filter(|l| (l.starts_with('-') || l.starts_with('+'))
                && !l.starts_with("---")
                && !l.starts_with("+++"))
            .count(),
        2,
        "{diff}"
    );
    let pending = snapshot::pending(&dir).unwrap();
    assert_eq!(pending.len(), 1);
    assert!(pending[0].1.ends_with("mediant/status__GET.snap"));
    std::fs::remove_dir_all(&dir).unwrap();
}
