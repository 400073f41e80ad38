//! The stateful test and write-fuzzing on a "real device" (the bundled emulator behind a
//! profile with `target.emulator = false`, so neither has the control interface) touch
//! only the objects they create. The device is seeded with objects that are not
//! dialtone's; every collection's read answers, byte for byte, and the collection sizes
//! are the same after both ran, and no dialtone object is left.

use std::sync::Arc;

use dialtone::contract::Control;
use dialtone::netfuzz::{FuzzOptions, Fuzzer};
use dialtone::plan::Exercise;
use dialtone::runner::{Req, Verdict};

use crate::common::runtime;
use crate::safety::{device, snapshot, snapshot_diff};

/// Collections seeded with generated (non-dialtone) records, per API.
const FOREIGN: [(&str, &[&str]); 2] = [
    (
        "sipxconfig",
        &["branches", "phones", "b-user-groups", "gateways", "erls"],
    ),
    ("roaming-profile", &["roaming-profile"]),
];

#[test]
fn stateful_and_write_fuzzing_leave_others_objects_untouched() {
    let rt = runtime();
    let mut ran = 0;
    for (name, collections) in FOREIGN {
        let (emu, suite, session) = device(&rt, name, true, false);
        let spec = suite.specs[name].clone();
        // Foreign objects: generated records (the control interface is the test's, not
        // the runner's: the session has no use of it).
        for c in collections {
            let Some(col) = spec.collection(c) else {
                panic!("{name} has no collection `{c}`")
            };
            let gen = Control::Generate {
                api: name,
                collection: col.name.get_ref(),
                count: Some(3),
            };
            let (_, r) = rt.block_on(session.client.send(&Req::new(gen.method(), gen.path())));
            let r = r.expect("the control interface answers");
            assert_eq!(r.status, 200, "{name} generate {c}: {}", r.text());
        }
        let before = rt.block_on(snapshot(&session, &spec));
        for (target, (_, body)) in &before.reads {
            assert!(
                !body.contains("\"dialtone-") && !body.contains(">dialtone-"),
                "{name}: GET {target} holds a dialtone object before the run: {body}"
            );
        }
        // The stateful tests, each on its own.
        for t in suite
            .tests
            .iter()
            .filter(|t| t.entry.check == Exercise::Stateful)
        {
            let r = rt.block_on(session.run(t));
            let msg = r.message.clone().unwrap_or_default();
            assert!(
                matches!(r.verdict, Verdict::Pass | Verdict::Skip),
                "{name} {}: {} {msg}",
                r.id,
                r.verdict.as_str()
            );
            if r.verdict == Verdict::Pass {
                ran += 1;
            }
            eprintln!("{name} {}: {} {msg}", r.id, r.verdict.as_str());
        }
        let mid = rt.block_on(snapshot(&session, &spec));
        let diff = snapshot_diff(&before, &mid);
        assert!(
            diff.is_empty(),
            "{name}: the stateful tests changed the device:\n{}",
            diff.join("\n")
        );
        // Write-fuzzing, short and seeded.
        let session = Arc::new(session);
        let fuzzer = Fuzzer::new(
            vec![session.clone()],
            FuzzOptions {
                seed: 7,
                duration: None,
                max_requests: Some(400),
                minimize: false,
                ..FuzzOptions::default()
            },
        )
        .expect("something to fuzz");
        let report = rt.block_on(fuzzer.run(&mut |_| {}));
        eprintln!(
            "{name}: fuzzed {} ({} writes, {:?}), created {}, operations {:?}, skipped {:?}, left {:?}",
            report.fuzzed,
            report.writes,
            report.answers,
            report.created,
            report.operations,
            report.skipped,
            report.left
        );
        assert!(
            report.writes > 0,
            "{name}: the fuzzer sent no write to the device"
        );
        assert!(
            report.created > 0,
            "{name}: the fuzzer created no object of its own"
        );
        assert!(report.left.is_empty(), "{name}: left {:?}", report.left);
        let after = rt.block_on(snapshot(&session, &spec));
        let diff = snapshot_diff(&before, &after);
        assert!(
            diff.is_empty(),
            "{name}: write-fuzzing changed the device:\n{}",
            diff.join("\n")
        );
        rt.block_on(emu.running.shutdown());
    }
    assert!(ran > 0, "no stateful test ran on the device");
}
