//! Product overlays in a run's report: which overlays the specs were tested under, each
//! deviation with its evidence and the tests it changed or took away, and on every changed
//! test the deviations that changed it. An overlay never hides a failure: the verdicts
//! stand, and every test it touched is listed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{RunReport, Suite};
use crate::spec::Spec;

/// One overlay a run was made under.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OverlayRecord {
    pub name: String,
    pub spec: String,
    pub product: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware: Option<String>,
    /// The overlay file as given.
    pub file: String,
    pub sha256: String,
    pub deviations: Vec<DeviationRecord>,
}

/// One deviation of an overlay and what it did to the plan.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeviationRecord {
    pub id: String,
    pub summary: String,
    pub evidence: String,
    /// Tests whose requests or expectations it changed (run as the overlay says).
    pub changed: Vec<String>,
    /// Tests of the document it took away (not run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
}

/// The tests a spec's overlays changed: its plan's, and the scenario cases they moved.
fn changed(suite: &Suite, spec: &Spec) -> BTreeMap<String, Vec<String>> {
    let mut m = spec.changes.changed.clone();
    let prefix = format!("{}/", spec.name());
    for (t, devs) in &suite.moved_cases {
        if t.starts_with(&prefix) {
            m.insert(t.clone(), devs.clone());
        }
    }
    m
}

/// The overlays of `suite`'s specs, with what each deviation changed.
pub fn records(suite: &Suite) -> Vec<OverlayRecord> {
    let mut out = Vec::new();
    for spec in suite.specs.values() {
        let changed = changed(suite, spec);
        for o in &spec.overlays {
            let tests = |m: &BTreeMap<String, Vec<String>>, d: &str| {
                m.iter()
                    .filter(|(_, devs)| devs.iter().any(|x| x == d))
                    .map(|(t, _)| t.clone())
                    .collect()
            };
            out.push(OverlayRecord {
                name: o.meta.name.clone(),
                spec: o.meta.spec.clone(),
                product: o.meta.product.clone(),
                firmware: o.meta.firmware.clone(),
                file: o.path.display().to_string(),
                sha256: o.sha256.clone(),
                deviations: o
                    .deviations
                    .iter()
                    .map(|d| DeviationRecord {
                        id: d.id.clone(),
                        summary: d.summary.clone(),
                        evidence: d.evidence.clone(),
                        changed: tests(&changed, &d.id),
                        removed: tests(&spec.changes.removed, &d.id),
                    })
                    .collect(),
            });
        }
    }
    out
}

/// Mark every result of `report` that an overlay changed, and record the overlays.
pub fn mark(report: &mut RunReport, suite: &Suite) {
    let changed: BTreeMap<&str, BTreeMap<String, Vec<String>>> = suite
        .specs
        .iter()
        .map(|(name, spec)| (name.as_str(), changed(suite, spec)))
        .collect();
    for r in &mut report.results {
        // A stored regression replays its test, so it shares the test's deviations.
        let id = match r.id.rsplit_once("/regression-") {
            Some((test, _)) => test,
            None => r.id.as_str(),
        };
        if let Some(devs) = changed.get(r.api.as_str()).and_then(|m| m.get(id)) {
            r.deviations = devs.clone();
        }
    }
    report.overlays = records(suite);
}
