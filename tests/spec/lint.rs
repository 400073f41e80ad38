//! The loader's diagnostics: every broken fixture fails with precise, snapshotted messages,
//! the good fixture and the bundled specs are clean, and the CLI's exit codes follow.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use dialtone::spec;

use crate::common::dialtone;

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(Path::new("tests/fixtures").join(dir))
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

/// Run `check` on each fixture, whether or not the ones before it passed. Each failure's own
/// panic message (with the snapshot diff) is printed where it happens; the test then fails
/// once, naming every fixture that failed.
fn each_fixture(files: &[PathBuf], check: impl Fn(&Path)) {
    let failed: Vec<String> = files
        .iter()
        .filter(|f| catch_unwind(AssertUnwindSafe(|| check(f))).is_err())
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} fixtures failed (each one's message is above):\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
}

#[test]
fn broken_fixtures_fail_with_precise_diagnostics() {
    let files = fixtures("broken");
    assert!(
        files.len() >= 15,
        "expected at least 15 broken fixtures, found {}",
        files.len()
    );
    each_fixture(&files, |f| {
        let diags = dialtone::load(f).expect_err(&format!("{} should not load", f.display()));
        assert!(!diags.is_empty());
        for d in &diags {
            assert_eq!(d.file, f, "diagnostic points at the wrong file");
            assert!(d.line >= 1 && d.col >= 1);
        }
        let text: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
        let name = f.file_stem().unwrap().to_string_lossy().to_string();
        insta::assert_snapshot!(name, text.join("\n"));
    });
}

#[test]
fn every_problem_in_a_file_is_reported_at_once() {
    // Three independent typos in one file: all three are reported, not just the first.
    let diags = dialtone::load(Path::new("tests/fixtures/broken/unknown-key.toml")).unwrap_err();
    assert_eq!(diags.len(), 3, "{diags:#?}");
    let diags =
        dialtone::load(Path::new("tests/fixtures/broken/undefined-references.toml")).unwrap_err();
    assert_eq!(diags.len(), 6, "{diags:#?}");
}

#[test]
fn good_fixture_is_clean() {
    let s = dialtone::load(Path::new("tests/fixtures/good/mini.toml")).expect("clean");
    assert_eq!(s.name(), "mini");
    assert_eq!(s.endpoints().count(), 2);
}

#[test]
fn bundled_specs_are_clean() {
    for name in spec::BUNDLED {
        let path = spec::resolve(name);
        if let Err(diags) = dialtone::load(&path) {
            let text: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
            panic!("{name} has {} problems:\n{}", diags.len(), text.join("\n"));
        }
    }
}

#[test]
fn lint_exit_codes() {
    let ok = dialtone(&["lint", "tests/fixtures/good/mini.toml"]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    each_fixture(&fixtures("broken"), |f| {
        let out = dialtone(&["lint", f.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{}", f.display());
        let stdout = String::from_utf8_lossy(&out.stdout);
        let first = stdout.lines().next().unwrap_or("");
        assert!(
            first.starts_with(&format!("{}:", f.display())),
            "diagnostic must start with file:line:col, got {first:?}"
        );
    });
    let missing = dialtone(&["lint", "tests/fixtures/no-such-spec.toml"]);
    assert_eq!(missing.status.code(), Some(2));
    let all = dialtone(&["lint"]);
    assert_eq!(
        all.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&all.stdout)
    );
}

#[test]
fn lint_json_lines_parse() {
    let out = dialtone(&[
        "lint",
        "--json",
        "tests/fixtures/broken/undefined-role.toml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["code"], "R001");
    assert_eq!(lines[0]["line"], 111);
}

#[test]
fn the_reference_documents_every_key() {
    let doc = std::fs::read_to_string("docs/spec-format.md").expect("doc");
    let missing: Vec<&str> = dialtone::spec::load::ALL_KEYS
        .iter()
        .copied()
        .filter(|k| !doc.contains(&format!("`{k}`")))
        .collect();
    assert!(missing.is_empty(), "docs/spec-format.md lacks {missing:?}");
}

#[test]
fn every_model_key_is_known_to_the_typo_hints() {
    // Serialise a fully populated fixture back through the model and check each key it
    // uses is in ALL_KEYS, so typo hints cover the whole language.
    let text = std::fs::read_to_string("tests/fixtures/good/mini.toml").unwrap();
    let v: toml::Value = toml::from_str(&text).unwrap();
    fn walk(v: &toml::Value, out: &mut Vec<String>) {
        match v {
            toml::Value::Table(t) => {
                for (k, x) in t {
                    out.push(k.clone());
                    walk(x, out);
                }
            }
            toml::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut keys = Vec::new();
    walk(&v, &mut keys);
    // Seed records and param names are data, not language keys.
    let data_keys = [
        "v1",
        "description",
        "id",
        "after",
        "before",
        "limit",
        "alarms",
        "start",
        "end",
        "X-Probe",
    ];
    for k in keys {
        if data_keys.contains(&k.as_str()) {
            continue;
        }
        assert!(
            dialtone::spec::load::ALL_KEYS.contains(&k.as_str())
                || dialtone::spec::load::TOP_KEYS.contains(&k.as_str()),
            "key `{k}` is missing from ALL_KEYS"
        );
    }
}

#[test]
fn docs_decisions_lists_every_decision() {
    let doc = std::fs::read_to_string("docs/decisions.md").expect("docs/decisions.md");
    for name in spec::BUNDLED {
        let s = dialtone::load(&spec::resolve(name)).expect("clean");
        for d in s.decisions() {
            assert!(
                doc.contains(&format!("`{}`", d.id.get_ref())),
                "docs/decisions.md lacks {name} decision `{}`; run `python3 tools/decisions.py`",
                d.id.get_ref()
            );
        }
    }
}
