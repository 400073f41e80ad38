//! Assertions on one answer (`assert = [...]` on a step): values at JSON pointers into the
//! parsed body (XML and CSV are read into the same shape) or headers, compared with
//! literals, patterns, counts, orders, captured variables and earlier read-backs.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde_json::Value;

use super::{clip, describe, Judgement};
use crate::runner::http::Resp;
use crate::runner::outcome::text_of;
use crate::spec::model::Assert;

/// Captured variables, by name.
pub(super) type Vars = HashMap<String, String>;

/// `s` with every `{{name}}` replaced by its value.
pub(super) fn subst(s: &str, vars: &Vars) -> String {
    let mut out = s.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("{{{{{k}}}}}"), v);
    }
    out
}

/// The number of elements a value counts as: an array its length, null or nothing 0, any
/// other value 1 (an XML element that appears once is a single object).
pub(super) fn count_of(v: Option<&Value>) -> usize {
    match v {
        Some(Value::Array(a)) => a.len(),
        Some(Value::Null) | None => 0,
        Some(_) => 1,
    }
}

/// Check every assertion of a step against one answer; the first that fails is the
/// judgement.
pub(super) fn check_all(
    asserts: &[Assert],
    resp: &Resp,
    tree: Option<&Value>,
    vars: &Vars,
    at: &str,
) -> Result<(), Judgement> {
    for a in asserts {
        check(a, resp, tree, vars).map_err(|(kind, (what, want, got))| {
            Judgement::fail(format!("{at}: assert `{kind}` failed: {what}"), want, got)
        })?;
    }
    Ok(())
}

/// A failed assertion: what failed, what was wanted, what was there.
type Miss = (String, String, String);

/// Check one assertion; a failure names the kind of check that failed (`equals`, ...).
fn check(
    a: &Assert,
    resp: &Resp,
    tree: Option<&Value>,
    vars: &Vars,
) -> Result<(), (&'static str, Miss)> {
    let (place, value): (String, Option<Value>) = match (&a.header, &a.at) {
        (Some(h), _) => (
            format!("header `{h}`"),
            resp.header(h).map(|v| Value::String(v.to_string())),
        ),
        (None, Some(p)) => {
            let p = subst(p, vars);
            let v = tree.and_then(|t| t.pointer(&p)).cloned();
            (format!("`{p}`"), v)
        }
        (None, None) => return Ok(()),
    };
    let seen = Seen {
        place,
        value,
        resp,
        header: a.header.is_some(),
    };
    let mut kind = "present";
    texts(a, &seen, vars, &mut kind)
        .and_then(|()| shapes(a, &seen, vars, &mut kind))
        .map_err(|m| (kind, m))
}

/// What an assertion looks at: where, and the value found there.
struct Seen<'r> {
    place: String,
    value: Option<Value>,
    resp: &'r Resp,
    header: bool,
}

impl Seen<'_> {
    /// The value as a failure shows it.
    fn shown(&self) -> String {
        match &self.value {
            Some(v) => clip(&v.to_string()),
            None if self.header => describe(self.resp),
            None => format!("nothing there in {}", clip(&self.resp.text())),
        }
    }

    /// The value as text, or the failure that there is none to compare with `what`.
    fn text(&self, what: &str) -> Result<String, Miss> {
        self.value.as_ref().map(text_of).ok_or_else(|| {
            (
                format!("{} has no value to compare ({what})", self.place),
                what.into(),
                self.shown(),
            )
        })
    }

    fn miss(&self, what: &str, want: String) -> Miss {
        (format!("{} {what}", self.place), want, self.shown())
    }
}

/// Presence and the checks on the value as text: equals, one of, matches, same as and
/// differs from a captured variable.
fn texts(a: &Assert, s: &Seen, vars: &Vars, kind: &mut &'static str) -> Result<(), Miss> {
    if let Some(p) = a.present {
        let there = s.value.as_ref().is_some_and(|v| !v.is_null());
        if there != p {
            let want = if p { "present" } else { "absent" };
            return Err(s.miss(&format!("is not {want}"), want.into()));
        }
    }
    *kind = "equals";
    if let Some(want) = &a.equals {
        let want = subst(want, vars);
        if s.text(&want)? != want {
            return Err(s.miss("differs", want));
        }
    }
    *kind = "one_of";
    if !a.one_of.is_empty() {
        let opts: Vec<String> = a.one_of.iter().map(|o| subst(o, vars)).collect();
        let want = format!("one of {}", opts.join(", "));
        if !opts.contains(&s.text(&want)?) {
            return Err(s.miss("is none of the allowed values", want));
        }
    }
    *kind = "matches";
    if let Some(re) = &a.matches {
        let re = subst(re, vars);
        let pattern = format!("^(?:{re})$");
        let got = s.text(&pattern)?;
        if !crate::pattern::matches_whole(&re, &got) {
            return Err(s.miss("does not match", pattern));
        }
    }
    for (name, same) in [(&a.same_as, true), (&a.differs_from, false)] {
        let Some(name) = name else { continue };
        *kind = if same { "same_as" } else { "differs_from" };
        let want = var(vars, name, &s.place)?;
        let got = s.text(&want)?;
        if (got == want) != same {
            let rel = if same { "equal" } else { "differ from" };
            return Err(s.miss(
                &format!("does not {rel} the captured `{name}`"),
                format!("{rel} {want}"),
            ));
        }
    }
    Ok(())
}

/// The checks on the value's shape: count, order, change since a captured number, keys.
fn shapes(a: &Assert, s: &Seen, vars: &Vars, kind: &mut &'static str) -> Result<(), Miss> {
    *kind = "count";
    if let Some(n) = a.count {
        let got = count_of(s.value.as_ref());
        if got != n {
            return Err(s.miss(&format!("has {got} elements"), format!("{n} elements")));
        }
    }
    *kind = "sorted_by";
    if let Some(field) = &a.sorted_by {
        sorted(s.value.as_ref(), field, a.descending).map_err(|(i, j)| {
            let dir = if a.descending {
                "descending"
            } else {
                "ascending"
            };
            s.miss(
                &format!("is not sorted by `{field}`: element {j} comes after element {i}"),
                format!("{dir} by `{field}`"),
            )
        })?;
    }
    *kind = "changed_by";
    if let (Some(by), Some(since)) = (a.changed_by, &a.since) {
        let before: f64 = var(vars, since, &s.place)?.parse().map_err(|_| {
            (
                format!("the captured `{since}` is not a number"),
                "a number".into(),
                vars.get(since).cloned().unwrap_or_default(),
            )
        })?;
        let now = match &s.value {
            Some(Value::Array(x)) => x.len() as f64,
            // One XML element of a list reads as an object, not a one-element array.
            Some(Value::Object(_)) => 1.0,
            Some(v) => text_of(v).parse::<f64>().unwrap_or(f64::NAN),
            None => f64::NAN,
        };
        if now - before != by as f64 {
            return Err(s.miss(
                &format!("changed by {} since `{since}`", now - before),
                format!("changed by {by} (from {before})"),
            ));
        }
    }
    *kind = "keys";
    if !a.keys.is_empty() {
        keys(a, s)?;
    }
    Ok(())
}

/// The object there, or each element of the array there, has every key the assertion lists.
fn keys(a: &Assert, s: &Seen) -> Result<(), Miss> {
    let items: Vec<&Value> = match &s.value {
        Some(Value::Array(x)) => x.iter().collect(),
        Some(v) => vec![v],
        None => vec![],
    };
    if items.is_empty() {
        return Err(s.miss("holds no object", a.keys.join(", ")));
    }
    for (i, item) in items.iter().enumerate() {
        let missing: Vec<&str> = a
            .keys
            .iter()
            .filter(|k| item.get(k.as_str()).is_none())
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err((
                format!("{}: element {i} lacks {}", s.place, missing.join(", ")),
                format!("keys {}", a.keys.join(", ")),
                clip(&item.to_string()),
            ));
        }
    }
    Ok(())
}

fn var(vars: &Vars, name: &str, place: &str) -> Result<String, Miss> {
    vars.get(name).cloned().ok_or_else(|| {
        (
            format!("{place}: nothing was captured as `{name}`"),
            format!("a captured `{name}`"),
            String::new(),
        )
    })
}

/// Whether the elements of an array are in order by `field` (`""`: the elements
/// themselves); numbers compare as numbers, anything else as text. `Err((i, j))` names the
/// first pair out of order.
fn sorted(v: Option<&Value>, field: &str, descending: bool) -> Result<(), (usize, usize)> {
    let Some(Value::Array(items)) = v else {
        return Ok(());
    };
    let key = |x: &Value| -> Option<String> {
        if field.is_empty() {
            Some(text_of(x))
        } else {
            x.get(field).map(text_of)
        }
    };
    let keys: Vec<Option<String>> = items.iter().map(key).collect();
    for i in 1..keys.len() {
        let ord = cmp(keys[i - 1].as_deref(), keys[i].as_deref());
        let bad = if descending {
            ord == Ordering::Less
        } else {
            ord == Ordering::Greater
        };
        if bad {
            return Err((i - 1, i));
        }
    }
    Ok(())
}

fn cmp(a: Option<&str>, b: Option<&str>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            _ => a.cmp(b),
        },
        (a, b) => a.is_some().cmp(&b.is_some()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn order_by_number_then_text() {
        let v = json!([{"id": 2}, {"id": 10}, {"id": 11}]);
        assert!(sorted(Some(&v), "id", false).is_ok());
        assert_eq!(sorted(Some(&v), "id", true), Err((0, 1)));
        let t = json!(["b", "a"]);
        assert_eq!(sorted(Some(&t), "", false), Err((0, 1)));
        assert!(sorted(Some(&t), "", true).is_ok());
    }

    #[test]
    fn counts() {
        assert_eq!(count_of(Some(&json!([1, 2]))), 2);
        assert_eq!(count_of(Some(&json!({"a": 1}))), 1);
        assert_eq!(count_of(Some(&Value::Null)), 0);
        assert_eq!(count_of(None), 0);
    }
}
