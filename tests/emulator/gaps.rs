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

/// `docs/emulator-gaps.md` is the readable form of `src/emulator/gaps.toml`: every entry, by
/// API, with its reason. The test fails when the two differ; `DIALTONE_BLESS=1` rewrites the
/// document from the list.
#[test]
fn the_gaps_document_lists_every_gap_with_its_reason() {
    let gaps = dialtone::emulator::known_gaps();
    let want = gaps_document(&gaps);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/emulator-gaps.md");
    if std::env::var_os("DIALTONE_BLESS").is_some() {
        std::fs::write(&path, &want).expect("write docs/emulator-gaps.md");
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/emulator-gaps.md does not match src/emulator/gaps.toml; rerun with DIALTONE_BLESS=1"
    );
}

fn gaps_document(gaps: &indexmap::IndexMap<String, dialtone::contract::Gap>) -> String {
    let mut out = String::from(
        "# Emulator gaps\n\n\
         Generated from `src/emulator/gaps.toml` by `tests/emulator/gaps.rs` \
         (`DIALTONE_BLESS=1 cargo test --test emulator gaps` rewrites it).\n\n\
         Each entry is a test whose rule the bundled emulator does not yet answer as the source \
         document says, with what it answers instead. Against the bundled emulator such a test \
         is skipped with that reason, and `dialtone coverage` counts its rule as an emulator \
         gap; against a device it runs like any other test. \"strict only\" marks an answer \
         lenient mode accepts. Closing an entry means changing the emulator (or the spec \
         language), never the rule.\n",
    );
    for api in dialtone::spec::BUNDLED {
        let rows: Vec<_> = gaps
            .values()
            .filter(|g| g.test.split('/').next() == Some(api))
            .collect();
        let strict = rows.iter().filter(|g| g.strict).count();
        out.push_str(&format!(
            "\n## {api}: {} ({strict} strict only)\n",
            rows.len()
        ));
        if rows.is_empty() {
            out.push_str("\nNone.\n");
            continue;
        }
        out.push_str(
            "\n| test | strict only | what the emulator answers instead |\n|---|---|---|\n",
        );
        for g in rows {
            let why = g.why.replace('|', "\\|").replace('\n', " ");
            let strict = if g.strict { "yes" } else { "" };
            out.push_str(&format!("| `{}` | {strict} | {why} |\n", g.test));
        }
    }
    out
}
