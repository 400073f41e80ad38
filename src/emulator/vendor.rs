//! What the spec language cannot say yet, per API family (`api.vendor_module`).
//!
//! * `rome`: the `queryString` filter grammar of the query commands (decision
//!   `query-grammar`): `<field> = '<literal>'` or `<field> like '<pattern>'` conditions
//!   joined by `and`, `%` and `_` as wildcards; a query whose operation lists the
//!   `digit-match-empty` code must carry a `digitMatch` condition.
//! * `mediant`: the `authToken` action issues a random token that expires after the
//!   request's `sessionTimeout` seconds (default 180); the control interface reports
//!   whether a token is still live. The KPI tree of `[data.kpi]` is served by
//!   [`super::kpi_tree`].
//!
//! Everything else (sipXconfig included) is plain spec behaviour.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Response;
use serde_json::Value;

use super::body::Parsed;
use super::engine::Ctx;
use super::render::{self, Fmt};
use super::store::{scalar_text, Fields, Row};
use super::ApiEmu;

fn module<'a>(ctx: &'a Ctx) -> Option<&'a str> {
    ctx.spec().api().vendor_module.as_deref()
}

/// Is there a vendor filter on this request?
pub(super) fn has_filter(ctx: &Ctx) -> bool {
    module(ctx) == Some("rome") && ctx.query("queryString").is_some()
}

type Pred = Box<dyn Fn(&Row) -> bool>;

/// A row filter from the request, or the message of a rejected filter.
pub(super) fn row_filter(ctx: &Ctx) -> Option<Result<Pred, String>> {
    if module(ctx) != Some("rome") || ctx.op.effect != Some(crate::spec::model::Effect::Query) {
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

/// The answer of an operation without a table, where the vendor module serves it from data.
pub(super) fn static_answer(ctx: &Ctx) -> Option<Response<Body>> {
    match module(ctx) {
        Some("mediant") => super::kpi_tree::answer(ctx, ctx.api.kpi.as_ref()?),
        _ => None,
    }
}

/// Checks that must answer before the effect runs.
pub(super) fn before_effect(
    ctx: &Ctx,
    parsed: &Parsed,
    _fmt: Option<&(Fmt, String)>,
) -> Option<Response<Body>> {
    match module(ctx) {
        Some("rome") => rome_before(ctx),
        Some("mediant") => mediant_before(ctx, parsed),
        _ => None,
    }
}

fn rome_before(ctx: &Ctx) -> Option<Response<Body>> {
    if ctx.op.effect != Some(crate::spec::model::Effect::Query) {
        return None;
    }
    if let Some(q) = ctx.query("queryString") {
        if let Err(e) = parse_query_string(q) {
            let failed = crate::spec::model::Outcome {
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
            let o = crate::spec::model::Outcome {
                status: code.status,
                code: Some(code.id.get_ref().clone()),
            };
            return Some(ctx.outcome(&o, None));
        }
    }
    None
}

fn mediant_before(ctx: &Ctx, parsed: &Parsed) -> Option<Response<Body>> {
    let is_token = ctx
        .op
        .response
        .as_ref()
        .and_then(|r| r.schema.as_ref())
        .is_some_and(|s| s.get_ref() == "auth-token-response");
    if !is_token {
        return None;
    }
    let timeout = match parsed {
        Parsed::Items(items) => items
            .first()
            .and_then(|i| i.field("sessionTimeout"))
            .and_then(|v| v.as_u64())
            .unwrap_or(180),
        _ => 180,
    };
    let token = random_hex();
    {
        let mut d = ctx.api.device.lock();
        let now = Instant::now();
        d.tokens.retain(|_, exp| *exp > now);
        d.tokens
            .insert(token.clone(), now + Duration::from_secs(timeout));
    }
    let success = ctx.success();
    let msg = success
        .code
        .as_deref()
        .and_then(|c| ctx.spec().code(c))
        .and_then(|c| c.message.clone())
        .unwrap_or_else(|| "Authentication token successfully generated".into());
    let body = serde_json::json!({ "authToken": token, "description": msg });
    Some(render::raw(
        success.status,
        Some("application/json"),
        serde_json::to_vec(&body).unwrap_or_default(),
    ))
}

/// Whether a token issued by the auth-token action is still live.
pub(super) fn token_live(api: &ApiEmu, token: &str) -> bool {
    api.device
        .lock()
        .tokens
        .get(token)
        .is_some_and(|exp| *exp > Instant::now())
}

fn random_hex() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::new();
    for _ in 0..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
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
