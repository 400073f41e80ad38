//! ROME's vendor module: the `queryString` filter grammar of the query commands (decision
//! `query-grammar`): `<field> = '<literal>'` or `<field> like '<pattern>'` conditions
//! joined by `and`, `%` and `_` as wildcards. A query whose operation lists the
//! `digit-match-empty` code must carry a `digitMatch` condition.

use axum::body::Body;
use axum::http::Response;
use serde_json::Value;

use super::{RowPred, VendorModule};
use crate::emulator::engine::ctx::{Ctx, Parsed};
use crate::emulator::store::{scalar_text, Fields, Row};
use crate::spec::model::{Effect, Outcome};

/// The ROME query commands.
pub(super) struct Rome;

impl VendorModule for Rome {
    fn has_filter(&self, ctx: &Ctx) -> bool {
        ctx.query("queryString").is_some()
    }

    fn row_filter(&self, ctx: &Ctx) -> Option<Result<RowPred, String>> {
        if ctx.op.effect != Some(Effect::Query) {
            return None;
        }
        let mut conds = match ctx.query("queryString") {
            Some(q) => match parse_query_string(q) {
                Ok(c) => c,
                Err(e) => return Some(Err(e)),
            },
            None => vec![],
        };
        if let Some(d) = ctx.query("digitMatch") {
            conds.push(Cond {
                field: "digitMatch".into(),
                like: false,
                value: d.to_string(),
            });
        }
        Some(Ok(Box::new(move |row: &Row| {
            conds.iter().all(|c| c.matches(row))
        })))
    }

    /// A query string that does not parse fails; a query that needs a `digitMatch`
    /// condition answers `digit-match-empty` without one.
    fn before_effect(&self, ctx: &Ctx, _parsed: &Parsed) -> Option<Response<Body>> {
        if ctx.op.effect != Some(Effect::Query) {
            return None;
        }
        if let Some(q) = ctx.query("queryString") {
            if let Err(e) = parse_query_string(q) {
                let failed = Outcome {
                    status: 400,
                    code: ctx.spec().code("failed").map(|c| c.id.get_ref().clone()),
                };
                return Some(ctx.outcome(&failed, Some(&e)));
            }
        }
        let needs_digits = ctx
            .op
            .codes
            .iter()
            .any(|c| c.get_ref() == "digit-match-empty");
        if needs_digits {
            let has = ctx.query("digitMatch").is_some()
                || ctx
                    .query("queryString")
                    .and_then(|q| parse_query_string(q).ok())
                    .is_some_and(|c| c.iter().any(|c| c.field == "digitMatch"));
            if !has {
                let code = ctx.spec().code("digit-match-empty")?;
                let o = Outcome {
                    status: code.status,
                    code: Some(code.id.get_ref().clone()),
                };
                return Some(ctx.outcome(&o, None));
            }
        }
        None
    }
}

/// One condition of a `queryString`: `<field> = '<value>'` or `<field> like '<pattern>'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cond {
    pub(crate) field: String,
    pub(crate) like: bool,
    pub(crate) value: String,
}

impl Cond {
    pub(crate) fn matches<R: Fields + ?Sized>(&self, row: &R) -> bool {
        let Some(v) = row.field(&self.field) else {
            return false;
        };
        let texts: Vec<String> = match v {
            Value::Array(a) => a.iter().filter_map(scalar_text).collect(),
            other => scalar_text(other).into_iter().collect(),
        };
        texts.iter().any(|t| {
            if self.like {
                like(t, &self.value)
            } else {
                *t == self.value
            }
        })
    }
}

/// `s` without a leading ASCII keyword (any case), if it starts with one. Never slices
/// inside a character.
fn strip_keyword<'a>(s: &'a str, keyword: &str) -> Option<&'a str> {
    let head = s.get(..keyword.len())?;
    head.eq_ignore_ascii_case(keyword)
        .then(|| &s[keyword.len()..])
}

/// SQL-style LIKE: `%` matches any run of characters, `_` exactly one character.
/// Backtracks only to the last `%` (the classic wildcard match), so a pattern of many `%`
/// costs O(text × pattern) instead of exponential time.
fn like(text: &str, pat: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pat.chars().collect();
    let (mut ti, mut pi) = (0, 0);
    // Pattern position after the last `%` seen, and the text position it now covers up to.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '%' {
            star = Some((pi + 1, ti));
            pi += 1;
        } else if pi < p.len() && (p[pi] == '_' || p[pi] == t[ti]) {
            ti += 1;
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '%')
}

/// The canonical text of parsed conditions: `f = 'v'` or `f like 'p'`, joined by ` and `.
/// [`parse_query_string`] reads it back to the same conditions.
pub(crate) fn print_query_string(conds: &[Cond]) -> String {
    let mut out = String::new();
    for (i, c) in conds.iter().enumerate() {
        if i > 0 {
            out.push_str(" and ");
        }
        out.push_str(&c.field);
        out.push_str(if c.like { " like '" } else { " = '" });
        out.push_str(&c.value);
        out.push('\'');
    }
    out
}

pub(crate) fn parse_query_string(q: &str) -> Result<Vec<Cond>, String> {
    let mut out = Vec::new();
    let mut rest = q.trim();
    loop {
        let name_end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let field = &rest[..name_end];
        if field.is_empty() {
            return Err(format!("queryString: expected a field name at `{rest}`"));
        }
        let after = rest[name_end..].trim_start();
        let (like, after) = if let Some(a) = after.strip_prefix('=') {
            (false, a)
        } else if let Some(a) = strip_keyword(after, "like") {
            (true, a)
        } else {
            return Err(format!(
                "queryString: expected `=` or `like` after `{field}`"
            ));
        };
        let after = after.trim_start();
        let Some(lit) = after.strip_prefix('\'') else {
            return Err(format!(
                "queryString: expected a quoted literal after `{field}`"
            ));
        };
        let Some(close) = lit.find('\'') else {
            return Err("queryString: unterminated literal".into());
        };
        out.push(Cond {
            field: field.to_string(),
            like,
            value: lit[..close].to_string(),
        });
        rest = lit[close + 1..].trim_start();
        if rest.is_empty() {
            return Ok(out);
        }
        if let Some(r) = strip_keyword(rest, "and ") {
            rest = r.trim_start();
        } else {
            return Err(format!("queryString: expected `and` at `{rest}`"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_grammar() {
        let c = parse_query_string("alias like '%TEST%' and digitMatch = '1212'").unwrap();
        assert_eq!(c.len(), 2);
        assert!(c[0].like && c[0].field == "alias");
        assert!(c[0].matches(&serde_json::json!({"alias": "my-TEST-1"})));
        assert!(!c[0].matches(&serde_json::json!({"alias": "prod"})));
        assert!(parse_query_string("alias like").is_err());
        assert!(parse_query_string("alias = 'x' or b = 'y'").is_err());
        assert!(like("abc", "a_c") && !like("abcd", "a_c"));
        assert!(
            like("a\u{e9}c", "a_c"),
            "`_` is one character, not one byte"
        );
        assert!(like("", "%") && like("x", "%%") && !like("", "_"));
        assert!(like("abcabd", "%ab_") && !like("abcabe", "%abd"));
        // Non-ASCII text where a keyword is expected is an error, not a panic.
        assert!(parse_query_string("digitMatch\u{FFFD}\u{FFFD}='1'").is_err());
        assert!(parse_query_string("a = 'x' \u{e9}nd b = 'y'").is_err());
        // Many `%` against a long text stays quick (it was exponential).
        let text = "a".repeat(200);
        assert!(!like(&text, &format!("{}b", "%".repeat(30))));
    }
}
