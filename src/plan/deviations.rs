//! Which tests a product overlay changes: the plan of the document's spec against the plan
//! of the overlaid one, test by test, and each deviation's share of the difference (the
//! plan of the spec with that deviation alone).

use std::collections::{BTreeMap, HashMap};

use super::{plan, Exercise, PlanEntry};
use crate::spec::overlay::Changes;
use crate::spec::routes::RouteTable;
use crate::spec::Spec;

/// What decides a test's requests and verdicts, written out: the entry itself, how it is
/// exercised, and the parts of the spec it reads (its endpoint without the other
/// operations, its operation and that operation's schemas; for a rule given as steps, the
/// rule and the endpoints its steps name).
fn fingerprint(spec: &Spec, routes: &RouteTable, e: &PlanEntry) -> String {
    let mut out = format!(
        "{}|{:?}",
        serde_json::to_string(e).unwrap_or_default(),
        e.check
    );
    let endpoint = |out: &mut String, i: usize, method: Option<&str>| {
        let Some(ep) = spec.endpoint_at(i) else {
            return;
        };
        if let Ok(mut t) = toml::Table::try_from(ep) {
            t.remove("op");
            out.push_str(&t.to_string());
        }
        for op in ep
            .op
            .iter()
            .filter(|o| method.is_none_or(|m| o.method.get_ref() == m))
        {
            if let Ok(t) = toml::Table::try_from(op) {
                out.push_str(&t.to_string());
            }
            let schemas = [
                op.request.as_ref().and_then(|r| r.schema.as_ref()),
                op.response.as_ref().and_then(|r| r.schema.as_ref()),
            ];
            for s in schemas.into_iter().flatten() {
                if let Some(t) = spec
                    .schema(s.get_ref())
                    .and_then(|s| toml::Table::try_from(s).ok())
                {
                    out.push_str(&t.to_string());
                }
            }
        }
    };
    if let Some(i) = e.target.endpoint {
        let op = e.target.op.and_then(|o| spec.endpoint_at(i)?.op.get(o));
        endpoint(&mut out, i, op.map(|o| o.method.get_ref().as_str()));
        // Tests that create, read back or list through the collection's other
        // operations depend on every endpoint of the collection.
        let collection = spec.endpoint_at(i).and_then(|ep| ep.collection.as_ref());
        if let (true, Some(c)) = (uses_collection(e.check), collection) {
            for (j, other) in spec.endpoints().enumerate() {
                if other.collection.as_ref().map(|x| x.get_ref()) == Some(c.get_ref()) {
                    endpoint(&mut out, j, None);
                }
            }
        }
    }
    // Generated requests of every kind go to every endpoint.
    if e.check == Exercise::PropertyResponses {
        for i in 0..spec.endpoints().count() {
            endpoint(&mut out, i, None);
        }
    }
    if let Some(r) = e.target.rule.and_then(|r| spec.rules().nth(r)) {
        if let Ok(t) = toml::Table::try_from(r) {
            out.push_str(&t.to_string());
        }
        for s in &r.steps {
            // A step names its endpoint by id, or by a literal path the route table knows.
            let by_path = || {
                let full = format!(
                    "{}{}",
                    spec.base_path(s.base.as_deref()),
                    s.path.as_deref()?
                );
                let path = full.split('?').next().unwrap_or_default();
                let segs: Vec<&str> = path.split('/').filter(|x| !x.is_empty()).collect();
                let (ep, _) = routes.lookup(spec, &segs)?;
                spec.endpoint_position(ep.id.get_ref())
            };
            let at = match s.endpoint.as_deref() {
                Some(id) => spec.endpoint_position(id),
                None => by_path(),
            };
            if let Some(i) = at {
                // A literal path may be sent with another method than documented: the
                // whole endpoint decides what it gets.
                let method = s.endpoint.as_ref().and(s.method.as_deref());
                endpoint(&mut out, i, method);
            }
        }
    }
    out
}

/// Whether a test of this kind sends requests to other operations of its endpoint's
/// collection (to create what it works on, or to read the effect back).
fn uses_collection(x: Exercise) -> bool {
    use Exercise::*;
    matches!(
        x,
        Omit | Full
            | UnknownField
            | PropertyInvalid
            | PropertyIdempotent
            | PropertyCreateRead
            | PropertyDeleteGone
            | Stateful
            | Reference
            | PathFilter
    )
}

fn prints(spec: &Spec) -> HashMap<String, String> {
    let routes = RouteTable::new(spec);
    plan(spec)
        .iter()
        .map(|e| (e.id.clone(), fingerprint(spec, &routes, e)))
        .collect()
}

/// The tests `overlaid` changes against `base`, each with the deviations (of `singles`:
/// the base with one deviation applied, by deviation id) that change it on their own; a
/// test only changed by deviations together is put down to all of them. Also the
/// deviations that change no test.
pub fn overlay_changes(
    base: &Spec,
    overlaid: &Spec,
    singles: &[(String, Spec)],
) -> (Changes, Vec<String>) {
    let before = prints(base);
    let after = prints(overlaid);
    let diff = |a: &HashMap<String, String>| -> Vec<String> {
        let mut ids: Vec<String> = a
            .iter()
            .filter(|(id, fp)| before.get(*id) != Some(*fp))
            .map(|(id, _)| id.clone())
            .chain(before.keys().filter(|id| !a.contains_key(*id)).cloned())
            .collect();
        ids.sort();
        ids
    };
    let mut by_dev: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut unused = Vec::new();
    for (id, spec) in singles {
        let tests = diff(&prints(spec));
        if tests.is_empty() {
            unused.push(id.clone());
        }
        by_dev.insert(id.clone(), tests);
    }
    let all: Vec<String> = singles.iter().map(|(id, _)| id.clone()).collect();
    let mut changes = Changes::default();
    for test in diff(&after) {
        let mut devs: Vec<String> = by_dev
            .iter()
            .filter(|(_, tests)| tests.binary_search(&test).is_ok())
            .map(|(d, _)| d.clone())
            .collect();
        if devs.is_empty() {
            devs = all.clone();
        }
        if after.contains_key(&test) {
            changes.changed.insert(test, devs);
        } else {
            changes.removed.insert(test, devs);
        }
    }
    (changes, unused)
}
