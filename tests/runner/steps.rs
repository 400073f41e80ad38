//! The step grammar's assertions, end to end against the emulator: a case whose every
//! assertion holds passes, and breaking any one assertion fails the case with a message
//! that names the kind of assertion that failed.

use dialtone::runner::cases::Case;
use dialtone::runner::{Options, Suite, Verdict};

use crate::common::{run_against_emulator, spec as load};

/// The assertions of the last step, each as it holds against the seed data (one branch,
/// id 1, "whitehouse", plus the one the case creates), with a broken variant and the kind
/// of assertion it must fail as.
const ASSERTS: &[(&str, &str, &str)] = &[
    (
        r#"{ at = "/name", equals = "{{prefix}}zz" }"#,
        r#"{ at = "/name", equals = "whitehouse" }"#,
        "equals",
    ),
    (
        r#"{ at = "/name", one_of = ["a", "{{prefix}}zz"] }"#,
        r#"{ at = "/name", one_of = ["a", "b"] }"#,
        "one_of",
    ),
    (
        r#"{ at = "/name", matches = "dialtone-z+" }"#,
        r#"{ at = "/name", matches = "z+" }"#,
        "matches",
    ),
    (
        r#"{ at = "/name", present = true }"#,
        r#"{ at = "/nothing", present = true }"#,
        "present",
    ),
    (
        r#"{ at = "/nothing", present = false }"#,
        r#"{ at = "/name", present = false }"#,
        "present",
    ),
    (
        r#"{ at = "/id", same_as = "id" }"#,
        r#"{ at = "/id", same_as = "first_id" }"#,
        "same_as",
    ),
    (
        r#"{ at = "/name", differs_from = "first_name" }"#,
        r#"{ at = "/name", differs_from = "name" }"#,
        "differs_from",
    ),
    (
        r#"{ at = "/address", count = 0 }"#,
        r#"{ at = "/name", count = 0 }"#,
        "count",
    ),
    (
        r#"{ at = "", keys = ["id", "name"] }"#,
        r#"{ at = "", keys = ["id", "serialNo"] }"#,
        "keys",
    ),
    (
        r#"{ header = "Content-Type", matches = "application/json.*" }"#,
        r#"{ header = "Content-Type", matches = "text/.*" }"#,
        "matches",
    ),
];

/// Assertions on the list after the create.
const LIST_ASSERTS: &[(&str, &str, &str)] = &[
    (
        r#"{ at = "/branches", changed_by = 1, since = "n0" }"#,
        r#"{ at = "/branches", changed_by = 2, since = "n0" }"#,
        "changed_by",
    ),
    (
        r#"{ at = "/branches", sorted_by = "id" }"#,
        r#"{ at = "/branches", sorted_by = "id", descending = true }"#,
        "sorted_by",
    ),
    (
        r#"{ at = "/branches", keys = ["id", "name"] }"#,
        r#"{ at = "/branches", keys = ["id", "serialNo"] }"#,
        "keys",
    ),
    (
        r#"{ at = "/branches", count = 2 }"#,
        r#"{ at = "/branches", count = 1 }"#,
        "count",
    ),
];

fn case(name: &str, list_assert: &str, one_assert: &str) -> Case {
    let text = format!(
        r#"
id = "sipxconfig/case/{name}"
api = "sipxconfig"
summary = "assertions"
source = "L225-397"

[[step]]
name = "list before"
as = "superadmin"
method = "GET"
path = "/branch"
headers = {{ Accept = "application/json" }}
expect = ["200"]
capture = {{ n0 = "count:/branches", first_id = "/branches/0/id", first_name = "/branches/0/name" }}

[[step]]
name = "create"
as = "superadmin"
method = "PUT"
path = "/branch"
json = {{ branch = {{ name = "{{{{prefix}}}}zz" }} }}
expect = ["201:success-created", "200"]
capture = {{ id = "/response/data/id" }}

[[step]]
name = "list after"
as = "superadmin"
method = "GET"
endpoint = "branch"
headers = {{ Accept = "application/json" }}
expect = ["200"]
assert = [{list_assert}]

[[step]]
name = "read back"
as = "superadmin"
method = "GET"
path = "/branch/{{{{id}}}}"
headers = {{ Accept = "application/json" }}
expect = ["200"]
capture = {{ name = "/name" }}
assert = [{one_assert}]
"#
    );
    Case::parse(&text, std::path::Path::new(&format!("{name}.toml")))
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn every_assertion_kind_passes_when_it_holds_and_fails_by_name_when_broken() {
    let spec = load("sipxconfig");
    let mut cases = Vec::new();
    let holds_list: Vec<&str> = LIST_ASSERTS.iter().map(|a| a.0).collect();
    let holds_one: Vec<&str> = ASSERTS.iter().map(|a| a.0).collect();
    cases.push((
        case("all-hold", &holds_list.join(", "), &holds_one.join(", ")),
        None,
    ));
    for (i, (_, broken, kind)) in LIST_ASSERTS.iter().enumerate() {
        cases.push((
            case(&format!("list-{i}"), broken, holds_one[0]),
            Some(*kind),
        ));
    }
    for (i, (_, broken, kind)) in ASSERTS.iter().enumerate() {
        cases.push((
            case(&format!("one-{i}"), holds_list[0], broken),
            Some(*kind),
        ));
    }
    let want: std::collections::HashMap<String, Option<&str>> =
        cases.iter().map(|(c, k)| (c.id.clone(), *k)).collect();
    let suite = Suite::new(
        vec![load("sipxconfig")],
        cases.into_iter().map(|c| c.0).collect(),
    );
    let (results, _) = run_against_emulator(spec, &[], &suite, Options::default(), |t| {
        want.contains_key(&t.entry.id)
    });
    assert_eq!(results.len(), want.len());
    for r in results {
        let msg = r.message.clone().unwrap_or_default();
        match want[&r.id] {
            None => assert_eq!(r.verdict, Verdict::Pass, "{}: {msg}", r.id),
            Some(kind) => {
                assert_eq!(r.verdict, Verdict::Fail, "{}: should fail: {msg}", r.id);
                assert!(
                    msg.contains(&format!("assert `{kind}` failed")),
                    "{}: the failure should name `{kind}`: {msg}",
                    r.id
                );
            }
        }
    }
}
