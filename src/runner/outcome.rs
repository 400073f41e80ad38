//! Does an answer match an outcome (`403`, `200:1201`)? And reading answer bodies.

use serde_json::Value;

use super::http::Resp;
use crate::spec::model::{BodyFormat, Code, MatchMode, Outcome};
use crate::spec::Spec;

/// Whether `resp` is the outcome `want`. `Err` says what differs. A right code with
/// another message counts as a match here; [`fit`] tells the two apart.
pub fn matches(spec: &Spec, want: &Outcome, resp: &Resp) -> Result<(), String> {
    fit(spec, want, resp).map(|_| ())
}

/// How an answer that is the expected outcome carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fit {
    /// Status, code and message as documented.
    Exact,
    /// The code identifies the outcome and is right, but the message is not the documented
    /// one (each spec's decision `error-identity`): a note in lenient mode, a failure
    /// under `--strict`.
    MessageDiffers(String),
}

/// Whether `resp` is the outcome `want`, and how closely.
///
/// Where the code's envelope has a code field and the code's value tells it apart from
/// every other code of its status, the code is the outcome's identity: a wrong code fails
/// even when the message matches. Where it does not (ROME's values are the statuses
/// themselves, Mediant has no code field), the documented message identifies it.
pub fn fit(spec: &Spec, want: &Outcome, resp: &Resp) -> Result<Fit, String> {
    let status = want.status;
    if resp.status != status {
        return Err(format!("status {} (wanted {status})", resp.status));
    }
    let Some(code) = want.code.as_deref() else {
        return Ok(Fit::Exact);
    };
    let Some(c) = spec.code(code) else {
        // Not a declared code: look for it literally.
        return if resp.text().contains(code) {
            Ok(Fit::Exact)
        } else {
            Err(format!(
                "status {status}, but the body does not carry `{code}`"
            ))
        };
    };
    if c.message.is_none() && c.value.is_none() {
        // A code known only by its status.
        return Ok(Fit::Exact);
    }
    let env = c.envelope.as_ref().and_then(|e| spec.envelope(e.get_ref()));
    if let Some(env) = env {
        let want_ct = essence(&env.content_type);
        let got_ct = essence(resp.content_type());
        if !want_ct.is_empty() && !got_ct.is_empty() && !same_family(&want_ct, &got_ct) {
            return Err(format!(
                "status {status}, but the body is `{got_ct}`, not the `{}` envelope ({want_ct})",
                env.name.get_ref()
            ));
        }
    }
    let text = resp.text();
    let value = c.value.clone().unwrap_or_else(|| c.id.get_ref().clone());
    let mode = env.map(|e| e.match_mode).unwrap_or_default();
    let message_ok = c.message.as_ref().map(|m| message_matches(m, &text, mode));
    if let Some(got) = identifying_code(spec, c, &value, resp) {
        return match (got, message_ok) {
            (Some(g), _) if g != value => Err(format!(
                "status {status}, but result code `{g}` (wanted `{value}`)"
            )),
            (None, _) => Err(format!(
                "status {status}, but the body carries no result code (wanted `{value}`)"
            )),
            (Some(_), Some(false)) => Ok(Fit::MessageDiffers(format!(
                "result code `{value}` is right, but the message is not \"{}\" (decision error-identity)",
                c.message.as_deref().unwrap_or_default()
            ))),
            _ => Ok(Fit::Exact),
        };
    }
    // A documented message is what tells codes of the same status apart, so it must match
    // when there is one; otherwise the code's value (or id) must appear.
    let ok = message_ok.unwrap_or_else(|| text.contains(&value));
    if ok {
        Ok(Fit::Exact)
    } else {
        Err(format!(
            "status {status}, but the body carries neither code `{value}` nor {}",
            match &c.message {
                Some(m) => format!("the message \"{m}\""),
                None => "a message".into(),
            }
        ))
    }
}

/// When `c`'s code field identifies it (its envelope names a code field, and no other code
/// of its status and envelope shares its value): the code the body carries there
/// (`Some(None)` when it carries none). `None` when the code does not identify it.
fn identifying_code(spec: &Spec, c: &Code, value: &str, resp: &Resp) -> Option<Option<String>> {
    let env_name = c.envelope.as_ref()?.get_ref();
    let path = spec.envelope(env_name)?.code_path.as_ref()?;
    let shared = spec.codes().any(|o| {
        o.id.get_ref() != c.id.get_ref()
            && o.status == c.status
            && o.envelope.as_ref().map(|e| e.get_ref()) == Some(env_name)
            && o.value.as_deref().unwrap_or(o.id.get_ref()) == value
    });
    if shared {
        return None;
    }
    let tree = parse(resp).ok();
    let got = tree.as_ref().and_then(|t| {
        crate::codec::get_path(t, path).or_else(|| match t {
            Value::Object(o) if o.len() == 1 => o
                .values()
                .next()
                .and_then(|i| crate::codec::get_path(i, path.split_once('.')?.1)),
            _ => None,
        })
    });
    Some(got.and_then(crate::spec::check::scalar_text))
}

/// A documented message against a body: exactly (as a substring), or after normalising
/// whitespace, dashes, case and a trailing dot. `{name}` placeholders match anything.
pub fn message_matches(message: &str, body: &str, mode: MatchMode) -> bool {
    // A placeholder sent back as written (`file {filename} is being created`) was never
    // filled in: that is not the documented message.
    let mut rest = message;
    while let Some(i) = rest.find('{') {
        let Some(j) = rest[i..].find('}') else { break };
        if body.contains(&rest[i..=i + j]) {
            return false;
        }
        rest = &rest[i + j + 1..];
    }
    let parts: Vec<&str> = split_placeholders(message);
    let norm = |s: &str| -> String {
        match mode {
            MatchMode::Exact => s.to_string(),
            MatchMode::Normalized => s
                .to_lowercase()
                .replace(['–', '—'], "-")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .trim_end_matches('.')
                .to_string(),
        }
    };
    let body = norm(body);
    let mut at = 0;
    for p in parts {
        let p = norm(p);
        if p.is_empty() {
            continue;
        }
        match body[at..].find(&p) {
            Some(i) => at += i + p.len(),
            None => return false,
        }
    }
    true
}

fn split_placeholders(m: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = m;
    while let Some(i) = rest.find('{') {
        match rest[i..].find('}') {
            Some(j) => {
                out.push(&rest[..i]);
                rest = &rest[i + j + 1..];
            }
            None => break,
        }
    }
    out.push(rest);
    out
}

/// `application/json; charset=utf-8` → `application/json`.
pub fn essence(ct: &str) -> String {
    ct.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The kind of a content type (`json`, `xml`, ...): the response oracle's, one definition.
pub use crate::oracle::family;

/// Two content types of one kind (see [`family`]).
pub fn same_family(a: &str, b: &str) -> bool {
    family(a) == family(b)
}

/// The body as a tree: JSON as is, XML as `{root: ...}`, CSV as an array of objects.
pub fn parse(resp: &Resp) -> Result<Value, String> {
    let ct = essence(resp.content_type());
    let body = &resp.body;
    if ct.contains("json") {
        crate::codec::from_json(body).map_err(|e| e.to_string())
    } else if ct.contains("xml") {
        crate::codec::from_xml(body)
            .map(|(root, v)| serde_json::json!({ root: v }))
            .map_err(|e| e.to_string())
    } else if ct.contains("csv") {
        crate::codec::from_csv(body)
            .map(|rows| Value::Array(rows.into_iter().map(Value::Object).collect()))
            .map_err(|e| e.to_string())
    } else {
        let t = body.trim_ascii_start();
        if t.starts_with(b"{") || t.starts_with(b"[") {
            crate::codec::from_json(body).map_err(|e| e.to_string())
        } else if t.starts_with(b"<") {
            crate::codec::from_xml(body)
                .map(|(root, v)| serde_json::json!({ root: v }))
                .map_err(|e| e.to_string())
        } else {
            Err(format!("a body of type `{ct}` is not structured"))
        }
    }
}

/// Every scalar leaf of a tree, as text, sorted: a representation-independent view of the
/// data (XML has no numbers or booleans, so all leaves are compared as text).
pub fn leaves(v: &Value) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Null => {}
            Value::Bool(b) => out.push(b.to_string()),
            Value::Number(n) => out.push(n.to_string()),
            Value::String(s) => {
                if !s.trim().is_empty() {
                    out.push(s.trim().to_string())
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(o) => o.values().for_each(|x| walk(x, out)),
        }
    }
    let mut out = Vec::new();
    walk(v, &mut out);
    out.sort();
    out
}

/// The first object in `v` (at any depth) whose fields `key` equal `want` (compared as
/// text).
pub fn find_object<'a>(
    v: &'a Value,
    want: &[(String, String)],
) -> Option<&'a serde_json::Map<String, Value>> {
    match v {
        Value::Object(o) => {
            let hit = !want.is_empty()
                && want
                    .iter()
                    .all(|(k, w)| o.get(k).is_some_and(|x| text_of(x) == *w));
            if hit {
                return Some(o);
            }
            o.values().find_map(|x| find_object(x, want))
        }
        Value::Array(a) => a.iter().find_map(|x| find_object(x, want)),
        _ => None,
    }
}

/// A scalar as text (`"5"` and `5` compare equal).
pub fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Whether an envelope's format is one the runner can parse.
pub fn structured(f: BodyFormat) -> bool {
    matches!(f, BodyFormat::Json | BodyFormat::Xml)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roaming(code: &str, message: &str) -> Resp {
        let body = format!(
            r#"{{"Response":{{"resultCode":"1","resultParam":{{"resultCode":"{code}","resultDescription":"{message}"}}}}}}"#
        );
        Resp {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into(),
        }
    }

    /// The second escape the issue reports: 1203 rewritten to 1201, the message left alone.
    #[test]
    fn the_code_is_the_identity_where_it_tells_outcomes_apart() {
        let spec = crate::spec::load(&crate::spec::resolve("roaming-profile")).unwrap();
        let dup: Outcome = "200:1203".parse().unwrap();
        let swapped = roaming("1201", "Duplicate roaming profile name");
        let e = fit(&spec, &dup, &swapped).unwrap_err();
        assert!(e.contains("`1201`") && e.contains("`1203`"), "{e}");
        let reworded = roaming("1203", "Name already taken");
        assert!(matches!(
            fit(&spec, &dup, &reworded),
            Ok(Fit::MessageDiffers(_))
        ));
        let exact = roaming("1203", "Duplicate roaming profile name");
        assert_eq!(fit(&spec, &dup, &exact), Ok(Fit::Exact));
    }

    #[test]
    fn an_unfilled_placeholder_is_not_the_message() {
        let m = "file {filename} is being created";
        assert!(message_matches(
            m,
            r#"{"description":"file debugFile is being created"}"#,
            MatchMode::Exact
        ));
        assert!(!message_matches(
            m,
            r#"{"description":"file {filename} is being created"}"#,
            MatchMode::Exact
        ));
    }

    #[test]
    fn messages_match_with_placeholders_and_normalisation() {
        assert!(message_matches(
            "Table {table} does not exist",
            "{\"m\":\"Table routes does not exist\"}",
            MatchMode::Exact
        ));
        assert!(!message_matches(
            "Table {table} does not exist",
            "Table x missing",
            MatchMode::Exact
        ));
        assert!(message_matches(
            "Bad  Request.",
            "bad request",
            MatchMode::Normalized
        ));
        assert!(!message_matches(
            "Bad Request",
            "bad request",
            MatchMode::Exact
        ));
    }

    #[test]
    fn leaves_ignore_representation() {
        let j: Value = serde_json::json!({"a": {"b": [1, "x"], "c": true}});
        let x: Value = serde_json::json!({"root": {"b": ["1", "x"], "c": "true"}});
        assert_eq!(leaves(&j), leaves(&x));
        assert_ne!(
            leaves(&j),
            leaves(&serde_json::json!({"b": [2, "x"], "c": true}))
        );
    }
}
