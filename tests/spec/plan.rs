//! The plan (`dialtone list`) covers every endpoint the documents name and every matrix cell.

use std::collections::HashSet;

use dialtone::plan::{self, BAD_CREDENTIALS, NO_CREDENTIALS};
use dialtone::spec::{self, Spec};

use crate::common::{self, dialtone};

/// `/a/{x}/b` and `/a/{y}/b` are the same template; a trailing `/` does not count.
fn shape(path: &str) -> String {
    spec::template_shape(path).trim_end_matches('/').to_string()
}

fn required(name: &str) -> Vec<String> {
    std::fs::read_to_string(format!("tests/data/required/{name}.txt"))
        .expect("required list")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

fn served(spec: &Spec) -> HashSet<(String, String)> {
    let mut set = HashSet::new();
    for ep in spec.endpoints() {
        let full = shape(&spec.full_path(ep));
        for op in &ep.op {
            set.insert((op.method.get_ref().clone(), full.clone()));
        }
        set.insert(("*".into(), full));
    }
    set
}

#[test]
fn every_documented_endpoint_is_in_the_spec() {
    for name in spec::BUNDLED {
        let spec = common::spec(name);
        let have = served(&spec);
        let mut missing = Vec::new();
        for line in required(name) {
            let (method, path) = match line.split_once(' ') {
                Some((m, p)) => (m.to_string(), p.to_string()),
                None => ("*".to_string(), line.clone()),
            };
            if !have.contains(&(method.clone(), shape(&path))) {
                missing.push(line);
            }
        }
        assert!(missing.is_empty(), "{name} lacks:\n{}", missing.join("\n"));
    }
}

/// `<api>/<endpoint...>/matrix/<METHOD>/<column>`
fn is_generated_cell(id: &str) -> bool {
    let segs: Vec<&str> = id.split('/').collect();
    segs.len() >= 5
        && segs[segs.len() - 3] == "matrix"
        && segs[segs.len() - 2].chars().all(|c| c.is_ascii_uppercase())
}

#[test]
fn every_matrix_cell_is_planned_exactly_once() {
    for name in spec::BUNDLED {
        let spec = common::spec(name);
        let plan = plan::plan(&spec);
        let ids: HashSet<&str> = plan.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids.len(), plan.len(), "{name}: duplicate test ids");
        let mut columns: Vec<String> = vec![NO_CREDENTIALS.into(), BAD_CREDENTIALS.into()];
        columns.extend(spec.roles().map(|r| r.name.get_ref().clone()));
        let mut cells = 0;
        let mut expected: HashSet<String> = HashSet::new();
        for ep in spec.endpoints() {
            let mut methods = spec.matrix().methods.get_ref().clone();
            for op in &ep.op {
                if !methods.contains(op.method.get_ref()) {
                    methods.push(op.method.get_ref().clone());
                }
            }
            for m in &methods {
                for c in &columns {
                    let id = format!("{name}/{}/matrix/{m}/{c}", ep.id.get_ref());
                    assert!(ids.contains(id.as_str()), "missing cell {id}");
                    expected.insert(id);
                    cells += 1;
                }
            }
        }
        // No generated cell outside endpoint x method x column.
        let extra: Vec<&str> = plan
            .iter()
            .filter(|e| is_generated_cell(&e.id) && !expected.contains(e.id.as_str()))
            .map(|e| e.id.as_str())
            .collect();
        assert!(extra.is_empty(), "{name}: unexpected cells {extra:?}");
        assert_eq!(expected.len(), cells, "{name}: a cell id is built twice");
    }
}

#[test]
fn matrix_cells_follow_precedence() {
    let spec = common::spec("mediant");
    let plan = plan::plan(&spec);
    let cell = |id: &str| {
        plan.iter()
            .find(|e| e.id == id)
            .unwrap_or_else(|| panic!("no {id}"))
    };
    let texts = |e: &dialtone::plan::PlanEntry| -> Vec<String> {
        e.expect.iter().map(|o| o.to_string()).collect()
    };
    // Without credentials, 401 wins over 405.
    assert_eq!(
        texts(cell("mediant/alarms/history/matrix/DELETE/none"))[0],
        "401"
    );
    // A method the resource lacks is 405 with Allow, whatever the role.
    let c = cell("mediant/alarms/history/matrix/DELETE/security-administrator");
    assert_eq!(texts(c)[0], "405");
    assert_eq!(c.allow.as_deref(), Some(&["GET".to_string()][..]));
    // Too low a privilege: 403 preferred, 405 accepted.
    let c = cell("mediant/actions/reset/matrix/POST/monitor");
    assert_eq!(texts(c), vec!["403", "405"]);
    assert_eq!(
        cell("mediant/actions/reset/matrix/POST/administrator").expect[0].status,
        200
    );
}

#[test]
fn list_json_has_the_documented_fields() {
    let out = dialtone(&["list", "--spec", "all", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let arr = v.as_array().expect("array");
    let mut apis = HashSet::new();
    for e in arr {
        for k in ["id", "rule", "kind", "expect", "source"] {
            assert!(e.get(k).is_some(), "entry lacks {k}: {e}");
        }
        if e["kind"] == "matrix" && is_generated_cell(e["id"].as_str().unwrap()) {
            for k in ["method", "path", "role"] {
                assert!(e.get(k).is_some(), "matrix entry lacks {k}: {e}");
            }
        }
        assert!(
            !e["source"].as_str().unwrap().is_empty(),
            "empty source: {e}"
        );
        apis.insert(e["api"].as_str().unwrap().to_string());
    }
    assert_eq!(apis.len(), 4, "{apis:?}");
    let bad = dialtone(&["list", "--spec", "no-such-api"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no such spec"));
}
