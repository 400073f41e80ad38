//! The bundled emulator's known gaps (`src/emulator/gaps.toml`): each names a test of a
//! bundled spec's plan that is a rule with a request (not an untestable one) and gives its
//! reason, so the list cannot keep entries for tests that no longer exist.

use crate::common::spec as load;

#[test]
fn every_gap_names_a_runnable_rule_of_the_plan_and_says_why() {
    let gaps = dialtone::emulator::known_gaps();
    let mut ids = std::collections::HashMap::new();
    for api in dialtone::spec::BUNDLED {
        let spec = load(api);
        for e in dialtone::plan::plan(&spec) {
            ids.insert(e.id.clone(), e);
        }
    }
    let mut problems = Vec::new();
    for (test, gap) in &gaps {
        let why = &gap.why;
        match ids.get(test) {
            None => problems.push(format!("{test}: no such test in the plan")),
            Some(e) if e.untestable.is_some() => {
                problems.push(format!("{test}: the rule is untestable, not a gap"))
            }
            Some(_) if why.trim().is_empty() => problems.push(format!("{test}: no reason")),
            Some(_) => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
