//! The tests of a run: every plan entry of the chosen specs, the scenario cases that
//! name one of them, and optionally the replays of stored failures and the snapshot
//! tests. The same code builds the suite for `dialtone run` and for `cargo test`.

use std::sync::Arc;

use indexmap::IndexMap;

use super::{cases, regress};
use crate::plan::{self, PlanEntry};
use crate::spec::Spec;

/// One test of a suite.
#[derive(Debug, Clone)]
pub struct Test {
    pub entry: PlanEntry,
    /// For scenario cases: the case to play.
    pub case: Option<Arc<cases::Case>>,
    /// A stored failure's replay: the seed and case count it was found with.
    pub replay: Option<(u64, u32)>,
}

impl Test {
    pub fn id(&self) -> &str {
        &self.entry.id
    }
}

/// The tests of a run.
pub struct Suite {
    pub specs: IndexMap<String, Arc<Spec>>,
    pub tests: Vec<Test>,
    /// Scenario cases whose paths follow endpoints a product overlay moved: the
    /// deviations that moved them, by test id.
    pub moved_cases: std::collections::BTreeMap<String, Vec<String>>,
}

impl Suite {
    /// Every plan entry of every spec, then the cases that name one of these specs.
    pub fn new(specs: Vec<Spec>, case_list: Vec<cases::Case>) -> Suite {
        let mut tests = Vec::new();
        let mut map = IndexMap::new();
        for spec in specs {
            for entry in plan::plan(&spec) {
                // A rule given as steps is played as a case under its own entry.
                let case = entry
                    .target
                    .rule_at(&spec)
                    .filter(|r| !r.steps.is_empty() && r.untestable.is_none())
                    .map(|r| Arc::new(cases::Case::of_rule(&entry, &r.steps)));
                tests.push(Test {
                    entry,
                    case,
                    replay: None,
                });
            }
            map.insert(spec.name().to_string(), Arc::new(spec));
        }
        let mut moved_cases = std::collections::BTreeMap::new();
        for mut c in case_list {
            if let Some(spec) = map.get(&c.api) {
                let default = spec.api().bases.keys().next().cloned().unwrap_or_default();
                let mut by: Vec<String> = c
                    .steps
                    .iter_mut()
                    .flat_map(|s| crate::spec::overlay::move_step(&spec.raw.moves, &default, s))
                    .collect();
                by.sort();
                by.dedup();
                if !by.is_empty() {
                    moved_cases.insert(c.id.clone(), by);
                }
                let entry = c.plan_entry();
                tests.push(Test {
                    entry,
                    case: Some(Arc::new(c)),
                    replay: None,
                });
            }
        }
        Suite {
            specs: map,
            tests,
            moved_cases,
        }
    }

    /// Put the replays of stored failures first: each a copy of the failing test, named
    /// `<id>/regression-<seed>`, run with the seed and case count it failed with. Stored
    /// failures of tests this suite lacks are ignored (another spec, another version).
    pub fn with_regressions(mut self, stored: &[regress::Regression]) -> Suite {
        self.tests_with_regressions(stored);
        self
    }

    /// Keep only the tests of one shard (`plan::partition`): a stored failure's replay
    /// stays with the test it replays, a scenario case is its own group.
    pub fn partition(&mut self, p: &crate::plan::partition::Partition) {
        let keys: Vec<String> = self
            .tests
            .iter()
            .map(|t| {
                // A case file is its own group; a rule given as steps groups as its entry.
                if t.case.as_ref().is_some_and(|c| c.kind.is_none()) {
                    return t.entry.id.clone();
                }
                let mut e = t.entry.clone();
                if let Some((base, _)) = e.id.split_once("/regression-") {
                    e.id = base.to_string();
                }
                let spec = self.specs.get(&e.api).map(|s| s.as_ref());
                crate::plan::partition::group_key(spec, &e)
            })
            .collect();
        let keep = p.select(&keys);
        let mut i = 0;
        self.tests.retain(|_| {
            i += 1;
            keep[i - 1]
        });
    }

    fn tests_with_regressions(&mut self, stored: &[regress::Regression]) {
        let mut first = Vec::new();
        for r in stored {
            if let Some(t) = self.tests.iter().find(|t| t.entry.id == r.test) {
                let mut entry = t.entry.clone();
                entry.id = format!("{}/regression-{}", r.test, r.seed);
                first.push(Test {
                    entry,
                    case: t.case.clone(),
                    replay: Some((r.seed, r.cases)),
                });
            }
        }
        first.append(&mut self.tests);
        self.tests = first;
    }

    /// Add one snapshot test per readable operation of every spec (`--snapshots`).
    pub fn with_snapshots(mut self) -> Suite {
        for spec in self.specs.values() {
            for entry in plan::snapshots(spec) {
                self.tests.push(Test {
                    entry,
                    case: None,
                    replay: None,
                });
            }
        }
        self
    }
}
