//! Product overlays end to end: the bundled emulator behaving as sipXecs 19.08 (the
//! emulator serves the overlaid spec), the suite without and with the overlay, the
//! report's deviations, a certificate under an overlay, and overlays that say nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::common::{dialtone, scratch_dir};

const SIPXECS: &str = "overlays/sipxecs-19.08.toml";

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn run(dir: &Path, name: &str, extra: &[&str]) -> (Option<i32>, Value, String) {
    let out = dir.join(format!("{name}.json"));
    let html = dir.join(format!("{name}.html"));
    let mut args = vec![
        "run",
        "--spec",
        "sipxconfig",
        "-q",
        "--no-regressions",
        "--json",
        out.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = dialtone(&args);
    let html = std::fs::read_to_string(&html).unwrap_or_default();
    (o.status.code(), json(&out), format!("{}\n{html}", text(&o)))
}

fn failing(report: &Value) -> BTreeSet<String> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verdict"] != "pass" && r["verdict"] != "skip")
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// The must-show: against an emulator behaving as sipXecs 19.08, the suite fails
/// at exactly the overlay's points without it (every deviation fails at least one test,
/// and no test fails that no deviation changed), and passes with it, in lenient and in
/// strict mode, the report listing each deviation.
#[test]
fn sipxecs_overlay_turns_its_deviations_into_a_pass_and_lists_them() {
    let dir = scratch_dir("overlay-sipxecs");
    let (code, with, shown) = run(
        &dir,
        "with",
        &["--emulator-overlay", SIPXECS, "--overlay", SIPXECS],
    );
    assert_eq!(code, Some(0), "with the overlay: {:?}", failing(&with));
    let overlay = &with["overlays"][0];
    assert_eq!(overlay["name"], "sipxecs-19.08");
    let mut by_test: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let deviations = overlay["deviations"].as_array().unwrap();
    assert!(deviations.len() >= 10, "{} deviations", deviations.len());
    for d in deviations {
        let id = d["id"].as_str().unwrap();
        assert!(
            shown.contains(id),
            "the terminal or HTML report does not name {id}"
        );
        assert!(!d["evidence"].as_str().unwrap().is_empty());
        for t in d["changed"]
            .as_array()
            .unwrap()
            .iter()
            .chain(d["removed"].as_array().unwrap_or(&vec![]))
        {
            by_test
                .entry(t.as_str().unwrap().into())
                .or_default()
                .push(id.into());
        }
    }
    // Every changed test carries its deviations in the report.
    let marked = with["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["deviations"].as_array().is_some_and(|d| !d.is_empty()))
        .count();
    assert!(
        marked > 100,
        "only {marked} results are marked as deviations"
    );
    assert!(
        shown.contains("under product overlays sipxecs-19.08"),
        "{shown}"
    );
    assert!(shown.contains("Product overlays: deviations from the document"));

    let (code, strict, _) = run(
        &dir,
        "strict",
        &[
            "--emulator-overlay",
            SIPXECS,
            "--overlay",
            SIPXECS,
            "--strict",
        ],
    );
    assert_eq!(code, Some(0), "strict: {:?}", failing(&strict));

    let (code, without, _) = run(&dir, "without", &["--emulator-overlay", SIPXECS]);
    assert_eq!(code, Some(1));
    let fails = failing(&without);
    let outside: Vec<&String> = fails.iter().filter(|t| !by_test.contains_key(*t)).collect();
    assert!(
        outside.is_empty(),
        "failures no deviation explains: {outside:?}"
    );
    for d in deviations {
        let id = d["id"].as_str().unwrap();
        let n = fails
            .iter()
            .filter(|t| by_test[*t].iter().any(|x| x == id))
            .count();
        assert!(n > 0, "deviation {id} fails no test without the overlay");
    }
}

/// An overlay never makes a device that follows its document pass: the tests it changed
/// fail against the bundled emulator as the document has it.
#[test]
fn an_overlay_does_not_hide_what_the_document_says() {
    let dir = scratch_dir("overlay-document");
    let (code, report, _) = run(&dir, "doc", &["--overlay", SIPXECS]);
    assert_eq!(code, Some(1));
    let fails = failing(&report);
    assert!(!fails.is_empty());
    for id in &fails {
        let r = report["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id.as_str())
            .unwrap();
        assert!(
            r["deviations"].as_array().is_some_and(|d| !d.is_empty()),
            "{id} failed but no deviation changed it"
        );
    }
}

/// Overlays that select nothing, change nothing, or belong to another spec are refused
/// with the deviation named.
#[test]
fn overlays_that_say_nothing_are_refused() {
    let dir = scratch_dir("overlay-bad");
    let head = "[overlay]\nname = \"t\"\nspec = \"sipxconfig\"\nproduct = \"p\"\n\n[[deviation]]\nid = \"d1\"\nsummary = \"s\"\nevidence = \"e\"\n";
    let cases = [
        ("nothing.toml", "endpoint = \"no-such-*\"\nset = { summary = \"x\" }\n", "no endpoint id matches"),
        ("noop.toml", "code = \"success-created\"\nset = { status = 201 }\n", "changes no test"),
        ("typo.toml", "endpont = \"gateways\"\nremove = true\n", "unknown key `endpont`"),
        ("twice.toml", "endpoint = \"gateways\"\nremove = true\nset = {}\n", "exactly one of"),
        ("evidence.toml", "endpoint = \"gateways\"\nmethod = \"GET\"\nremove = true\nwithdraw = [\"no-such-rule\"]\n", "no-such-rule"),
    ];
    for (file, body, want) in cases {
        let p = dir.join(file);
        std::fs::write(&p, format!("{head}{body}")).unwrap();
        let o = dialtone(&[
            "list",
            "--spec",
            "sipxconfig",
            "--overlay",
            p.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{file}: {}", text(&o));
        let t = text(&o);
        assert!(t.contains(want) && t.contains("d1"), "{file}: {t}");
    }
    let o = dialtone(&["list", "--spec", "rome", "--overlay", SIPXECS]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("is for spec `sipxconfig`"),
        "{}",
        text(&o)
    );
}

/// A certificate made under an overlay names it, carries a copy, and stops verifying when
/// the overlay file changes.
#[test]
fn a_certificate_states_its_overlays() {
    let dir = scratch_dir("overlay-certify");
    let overlay = dir.join("sipxecs.toml");
    std::fs::copy(SIPXECS, &overlay).unwrap();
    let out = dir.join("bundle");
    let o = dialtone(&[
        "certify",
        "--spec",
        "sipxconfig",
        "--emulator-overlay",
        overlay.to_str().unwrap(),
        "--overlay",
        overlay.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let m = json(&out.join("manifest.json"));
    assert_eq!(m["overlays"][0]["name"], "sipxecs-19.08");
    assert_eq!(m["verdict"], "conformant under product overlays");
    assert!(out.join("overlay-sipxecs-19.08.toml").is_file());
    let v = dialtone(&["certify", "verify", out.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{}", text(&v));
    let mut t = std::fs::read_to_string(&overlay).unwrap();
    t.push('\n');
    std::fs::write(&overlay, t).unwrap();
    let v = dialtone(&["certify", "verify", out.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(2), "{}", text(&v));
    assert!(text(&v).contains("overlay file"), "{}", text(&v));
}

/// Every shipped overlay besides sipXecs (tested above): against the emulator behaving as
/// the overlay says, the suite passes under the overlay in strict mode (so in lenient mode
/// too), and without it fails only at tests the overlay changed.
#[test]
fn every_shipped_overlay_passes_its_own_product_and_fails_only_where_it_deviates() {
    let dir = scratch_dir("overlay-shipped");
    let mut seen = Vec::new();
    for f in std::fs::read_dir("overlays").unwrap() {
        let path = f.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        seen.push(name.clone());
        if path.to_str() == Some(SIPXECS) || name == "sipxecs-19.08" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let spec = text
            .lines()
            .find_map(|l| l.strip_prefix("spec = \""))
            .and_then(|l| l.strip_suffix('"'))
            .unwrap_or_else(|| panic!("{name}: no spec line"));
        let p = path.to_str().unwrap();
        let run = |tag: &str, extra: &[&str]| {
            let out = dir.join(format!("{name}-{tag}.json"));
            let mut args = vec![
                "run",
                "--spec",
                spec,
                "-q",
                "--no-regressions",
                "--json",
                out.to_str().unwrap(),
            ];
            args.extend_from_slice(extra);
            let o = dialtone(&args);
            (o.status.code(), json(&out))
        };
        let (code, with) = run(
            "with",
            &["--emulator-overlay", p, "--overlay", p, "--strict"],
        );
        assert_eq!(code, Some(0), "{name} under itself: {:?}", failing(&with));
        let mut changed = BTreeSet::new();
        for d in with["overlays"][0]["deviations"].as_array().unwrap() {
            assert!(
                !d["changed"].as_array().unwrap().is_empty()
                    || !d["removed"].as_array().unwrap_or(&vec![]).is_empty()
            );
            for t in d["changed"]
                .as_array()
                .unwrap()
                .iter()
                .chain(d["removed"].as_array().unwrap_or(&vec![]))
            {
                changed.insert(t.as_str().unwrap().to_string());
            }
        }
        let (code, without) = run("without", &["--emulator-overlay", p]);
        let fails = failing(&without);
        assert_eq!(
            code,
            Some(1),
            "{name}: the document's suite passes the product"
        );
        let outside: Vec<&String> = fails.iter().filter(|t| !changed.contains(*t)).collect();
        assert!(
            outside.is_empty(),
            "{name}: failures no deviation explains: {outside:?}"
        );
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "audiocodes-mediant-7.40a",
            "bics-roaming-profile",
            "sansay-rome-client",
            "sipxecs-19.08"
        ]
    );
}
