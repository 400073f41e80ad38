//! `dialtone list`: the test plan a spec implies, as a table, as JSON, or as counts.

use std::io::Write;

use anyhow::{Context, Result};

use dialtone::spec::model::Outcome;
use dialtone::{exit, plan};

pub(crate) fn list(
    name: &str,
    json: bool,
    counts: bool,
    partition: Option<plan::partition::Partition>,
    overlays: &[std::path::PathBuf],
) -> Result<u8> {
    let specs = super::load_named_with(name, overlays)?;
    let mut all = Vec::new();
    for s in &specs {
        all.extend(plan::plan(s));
    }
    if let Some(p) = partition {
        // The plan's shard, as `run --partition` deals it (scenario cases are run's alone).
        let keys: Vec<String> = all
            .iter()
            .map(|e| {
                let spec = specs.iter().find(|s| s.name() == e.api);
                plan::partition::group_key(spec, e)
            })
            .collect();
        let keep = p.select(&keys);
        let mut i = 0;
        all.retain(|_| {
            i += 1;
            keep[i - 1]
        });
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &all).context("writing JSON")?;
        writeln!(out)?;
    } else if counts {
        let known_gaps = dialtone::emulator::known_gaps();
        for s in &specs {
            let p: Vec<_> = all.iter().filter(|e| e.api == s.name()).cloned().collect();
            let ops: usize = s.endpoints().map(|e| e.op.len()).sum();
            writeln!(
                out,
                "{}: {} endpoints, {} operations, {} explicit rules, {} codes, {} decisions, {} plan entries",
                s.name(),
                s.endpoints().count(),
                ops,
                s.rules().count(),
                s.codes().count(),
                s.decisions().count(),
                p.len()
            )?;
            for (k, n) in plan::counts(&p) {
                writeln!(out, "  {k:<13} {n}")?;
            }
            let rules: Vec<&plan::PlanEntry> =
                p.iter().filter(|e| e.target.rule.is_some()).collect();
            let untestable = rules.iter().filter(|e| e.untestable.is_some()).count();
            let no_request = rules
                .iter()
                .filter(|e| e.untestable.is_none() && e.unrunnable.is_some())
                .count();
            let gaps = rules
                .iter()
                .filter(|e| e.untestable.is_none() && e.unrunnable.is_none())
                .filter(|e| known_gaps.contains_key(&e.id))
                .count();
            let exercised = rules.len() - untestable - no_request;
            writeln!(
                out,
                "  explicit rules: {exercised} exercised by a request ({:.1}%; {gaps} of them emulator gaps), {untestable} untestable, {no_request} with no request",
                100.0 * exercised as f64 / rules.len().max(1) as f64
            )?;
        }
    } else {
        for e in &all {
            writeln!(
                out,
                "{:<12} {:<7} {:<6} {:<24} {}  [{}]",
                e.kind.as_str(),
                e.level_str(),
                e.method.as_deref().unwrap_or("-"),
                e.role.as_deref().unwrap_or("-"),
                e.id,
                Outcome::join(&e.expect, "|")
            )?;
            if let Some(why) = &e.untestable {
                writeln!(out, "{:<12} untestable: {why}", "")?;
            }
            let changes = &specs
                .iter()
                .find(|s| s.name() == e.api)
                .expect("its spec")
                .changes;
            if let Some(devs) = changes.changed.get(&e.id) {
                writeln!(out, "{:<12} deviation: {}", "", devs.join(", "))?;
            }
        }
        writeln!(out, "{} tests", all.len())?;
        for s in &specs {
            for (id, devs) in &s.changes.removed {
                writeln!(out, "removed by {}: {id}", devs.join(", "))?;
            }
            if !s.overlays.is_empty() {
                writeln!(
                    out,
                    "{}: {} tests changed and {} removed by overlays {}",
                    s.name(),
                    s.changes.changed.len(),
                    s.changes.removed.len(),
                    s.overlays
                        .iter()
                        .map(|o| o.meta.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )?;
            }
        }
    }
    Ok(exit::CLEAN)
}
