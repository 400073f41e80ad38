//! Semantic checks over a read spec: references, duplicates, templates, provenance.

use std::collections::{HashMap, HashSet};

use toml::Spanned;

use super::load::{RawSpec, Sourced};
use super::model::*;
use super::{template_params, template_shape};
use crate::diag::{did_you_mean, Diagnostics, SourceFile};

struct Ctx<'a> {
    raw: &'a RawSpec,
    diags: &'a mut Diagnostics,
    roles: HashSet<&'a str>,
    envelopes: HashSet<&'a str>,
    codes: HashSet<&'a str>,
    paginations: HashSet<&'a str>,
    schemas: HashSet<&'a str>,
    collections: HashSet<&'a str>,
    states: HashSet<&'a str>,
    jobs: HashSet<&'a str>,
    decisions: HashSet<&'a str>,
    endpoints: HashSet<&'a str>,
    bases: Vec<&'a str>,
    methods: Vec<String>,
}

impl<'a> Ctx<'a> {
    fn file(&self, id: usize) -> &'a SourceFile {
        &self.raw.files[id]
    }

    fn err(
        &mut self,
        file: usize,
        off: usize,
        code: &'static str,
        msg: String,
        hint: Option<String>,
    ) {
        let f = self.file(file);
        self.diags.at(f, off, code, msg, hint);
    }

    fn refer(&mut self, file: usize, name: &Spanned<String>, what: &str, code: &'static str) {
        let set = match what {
            "role" => &self.roles,
            "envelope" => &self.envelopes,
            "code" => &self.codes,
            "pagination" => &self.paginations,
            "schema" => &self.schemas,
            "collection" => &self.collections,
            "state" => &self.states,
            "job" => &self.jobs,
            "decision" => &self.decisions,
            "endpoint" => &self.endpoints,
            _ => unreachable!("unknown reference kind {what}"),
        };
        let n = name.get_ref().as_str();
        if !set.contains(n) {
            let mut cands: Vec<&str> = set.iter().copied().collect();
            cands.sort();
            let hint = did_you_mean(n, cands.iter().copied()).or_else(|| {
                if cands.is_empty() {
                    Some(format!("this spec defines no {what}; add a `[[{what}]]`"))
                } else if cands.len() <= 12 {
                    Some(format!("defined: {}", cands.join(", ")))
                } else {
                    None
                }
            });
            self.err(
                file,
                name.span().start,
                code,
                format!("undefined {what} `{n}`"),
                hint,
            );
        }
    }

    fn base(&mut self, file: usize, b: &Spanned<String>) {
        let name = b.get_ref().as_str();
        if !self.bases.contains(&name) {
            let hint = did_you_mean(name, self.bases.iter().copied())
                .or_else(|| Some(format!("bases: {}", self.bases.join(", "))));
            self.err(
                file,
                b.span().start,
                "R011",
                format!("undefined base `{name}`"),
                hint,
            );
        }
    }

    fn outcome(&mut self, file: usize, o: &Spanned<Outcome>) {
        if let Some(code) = &o.get_ref().code {
            if !self.codes.contains(code.as_str()) {
                let hint = did_you_mean(code, self.codes.iter().copied());
                self.err(
                    file,
                    o.span().start,
                    "R004",
                    format!("outcome `{}` names undefined code `{code}`", o.get_ref()),
                    hint.or_else(|| Some("define it as a `[[code]]` with this id".into())),
                );
            } else {
                let c = self
                    .raw
                    .codes
                    .iter()
                    .find(|c| c.id.get_ref() == code)
                    .expect("code exists");
                if c.status != o.get_ref().status {
                    self.err(
                        file,
                        o.span().start,
                        "R012",
                        format!(
                            "outcome `{}` pairs code `{code}` with status {}, but the code travels with {}",
                            o.get_ref(),
                            o.get_ref().status,
                            c.status
                        ),
                        Some(format!("write `{}:{code}`", c.status)),
                    );
                }
            }
        }
    }

    fn provenance(&mut self, file: usize, off: usize, p: &Provenance, what: &str) {
        match (&p.source, &p.inferred) {
            (Some(_), Some(_)) => self.err(
                file,
                off,
                "P001",
                format!("{what} has both `source` and `inferred`"),
                Some("keep exactly one: the document section, or `inferred` with a reason".into()),
            ),
            (None, None) => self.err(
                file,
                off,
                "P001",
                format!("{what} has no provenance"),
                Some("add `source = \"§...\"` or `inferred = \"why\"`".into()),
            ),
            (Some(s), None) if s.trim().is_empty() => self.err(
                file,
                off,
                "P002",
                format!("{what} has an empty `source`"),
                None,
            ),
            (None, Some(s)) if s.trim().is_empty() => self.err(
                file,
                off,
                "P002",
                format!("{what} has an empty `inferred` reason"),
                None,
            ),
            _ => {}
        }
    }

    fn cell(&mut self, file: usize, off: usize, c: &CellRule, what: &str) {
        self.outcome(file, &c.expect);
        for a in &c.accept {
            self.outcome(file, a);
        }
        if let Some(e) = &c.envelope {
            self.refer(file, e, "envelope", "R002");
        }
        if let Some(d) = &c.decision {
            self.refer(file, d, "decision", "R009");
        }
        self.provenance(file, off, &c.provenance, what);
    }
}

fn id_ok(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('/')
        && !id.ends_with('/')
        && !id.contains("//")
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

/// Collect names of one kind, reporting duplicates.
fn names<'a, T>(
    raw: &'a RawSpec,
    diags: &mut Diagnostics,
    items: &'a [Sourced<T>],
    get: impl Fn(&'a T) -> &'a Spanned<String>,
    what: &str,
) -> HashSet<&'a str> {
    let mut seen: HashMap<&str, (usize, usize)> = HashMap::new();
    for it in items {
        let n = get(&it.value);
        let s = n.get_ref().as_str();
        if let Some((f, off)) = seen.get(s) {
            let (l, c) = raw.files[*f].line_col(*off);
            diags.at(
                &raw.files[it.file],
                n.span().start,
                "D001",
                format!("duplicate {what} `{s}`"),
                Some(format!(
                    "first defined at {}:{l}:{c}",
                    raw.files[*f].path.display()
                )),
            );
        } else {
            seen.insert(s, (it.file, n.span().start));
        }
    }
    seen.into_keys().collect()
}

fn singleton<T>(raw: &RawSpec, diags: &mut Diagnostics, items: &[Sourced<T>], key: &str) {
    if items.is_empty() {
        let path = raw
            .files
            .first()
            .map(|f| f.path.clone())
            .unwrap_or_else(|| raw.path.clone());
        diags.whole_file(&path, "S001", format!("the spec has no `[{key}]` table"));
    }
    for extra in items.iter().skip(1) {
        diags.at(
            &raw.files[extra.file],
            0,
            "D002",
            format!("`[{key}]` appears more than once; it must be defined in exactly one file"),
            Some(format!(
                "first in {}",
                raw.files[items[0].file].path.display()
            )),
        );
    }
}

pub(super) fn check(raw: &RawSpec, diags: &mut Diagnostics) {
    singleton(raw, diags, &raw.api, "api");
    singleton(raw, diags, &raw.auth, "auth");
    singleton(raw, diags, &raw.matrix, "matrix");

    let roles = names(raw, diags, &raw.roles, |r| &r.name, "role");
    let envelopes = names(raw, diags, &raw.envelopes, |r| &r.name, "envelope");
    let codes = names(raw, diags, &raw.codes, |r| &r.id, "code");
    let paginations = names(raw, diags, &raw.paginations, |r| &r.name, "pagination");
    let schemas = names(raw, diags, &raw.schemas, |r| &r.name, "schema");
    let collections = names(raw, diags, &raw.collections, |r| &r.name, "collection");
    let states = names(raw, diags, &raw.states, |r| &r.name, "state");
    let jobs = names(raw, diags, &raw.jobs, |r| &r.name, "job");
    let _refs = names(raw, diags, &raw.references, |r| &r.name, "reference");
    let _vols = names(raw, diags, &raw.volatiles, |v| &v.name, "volatile");
    let decisions = names(raw, diags, &raw.decisions, |r| &r.id, "decision");
    let endpoints = names(raw, diags, &raw.endpoints, |r| &r.id, "endpoint");
    let _rules = names(raw, diags, &raw.rules, |r| &r.id, "rule id");

    let bases: Vec<&str> = raw
        .api
        .first()
        .map(|a| a.bases.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let methods: Vec<String> = raw
        .matrix
        .first()
        .map(|m| m.methods.get_ref().clone())
        .unwrap_or_default();

    let mut cx = Ctx {
        raw,
        diags,
        roles,
        envelopes,
        codes,
        paginations,
        schemas,
        collections,
        states,
        jobs,
        decisions,
        endpoints,
        bases,
        methods,
    };

    check_api(&mut cx);
    check_roles(&mut cx);
    check_envelopes_codes(&mut cx);
    check_paginations(&mut cx);
    check_schemas(&mut cx);
    check_collections(&mut cx);
    check_states_jobs_refs(&mut cx);
    check_decisions(&mut cx);
    check_endpoints(&mut cx);
    check_rules(&mut cx);
}

fn check_api(cx: &mut Ctx) {
    let raw = cx.raw;
    if let Some(api) = raw.api.first() {
        let name = api.name.get_ref();
        if !id_ok(name) || name.contains('/') {
            cx.err(
                api.file,
                api.name.span().start,
                "I001",
                format!("API name `{name}` must be a single segment of [A-Za-z0-9_.-]"),
                None,
            );
        }
        if raw.path.is_dir() {
            if let Some(dir) = raw.path.file_name().and_then(|s| s.to_str()) {
                if dir != name {
                    cx.err(
                        api.file,
                        api.name.span().start,
                        "I002",
                        format!("API name `{name}` differs from its directory `{dir}`"),
                        Some("rule IDs start with the API name; keep them equal".into()),
                    );
                }
            }
        }
        if api.bases.is_empty() {
            cx.err(
                api.file,
                api.name.span().start,
                "S002",
                "`[api].bases` is empty; give at least one base path".into(),
                None,
            );
        }
        for (k, v) in &api.bases {
            if !v.is_empty() && (!v.starts_with('/') || v.ends_with('/')) {
                cx.err(
                    api.file,
                    api.name.span().start,
                    "E001",
                    format!(
                        "base `{k}` = `{v}` must start with `/` and not end with `/` (or be empty)"
                    ),
                    None,
                );
            }
        }
    }
    if let Some(auth) = raw.auth.first() {
        cx.outcome(auth.file, &auth.missing);
        cx.outcome(auth.file, &auth.invalid);
        for a in &auth.accept {
            cx.outcome(auth.file, a);
        }
        if let Some(d) = &auth.decision {
            cx.refer(auth.file, d, "decision", "R009");
        }
        cx.provenance(
            auth.file,
            auth.missing.span().start,
            &auth.provenance,
            "`[auth]`",
        );
        if auth.scheme == AuthScheme::Bearer && auth.prefix.is_none() {
            cx.err(
                auth.file,
                auth.missing.span().start,
                "S003",
                "bearer authentication needs a `prefix` (e.g. \"Bearer\")".into(),
                None,
            );
        }
    }
    if let Some(m) = raw.matrix.first() {
        let f = m.file;
        let off = m.method_not_allowed.expect.span().start;
        let moff = m.methods.span().start;
        let poff = m.precedence.span().start;
        if m.methods.get_ref().is_empty() {
            cx.err(f, moff, "S004", "`[matrix].methods` is empty".into(), None);
        }
        for meth in m.methods.get_ref() {
            if !is_method(meth) {
                cx.err(
                    f,
                    moff,
                    "E004",
                    format!("`{meth}` is not an upper-case HTTP method token"),
                    None,
                );
            }
        }
        let mut seen = HashSet::new();
        for c in m.precedence.get_ref() {
            if !seen.insert(*c) {
                cx.err(
                    f,
                    poff,
                    "D003",
                    format!(
                        "`{}` appears twice in `[matrix].precedence`",
                        format!("{c:?}").to_lowercase()
                    ),
                    None,
                );
            }
        }
        for needed in [Check::Auth, Check::Method, Check::Role] {
            if !seen.contains(&needed) {
                cx.err(
                    f,
                    poff,
                    "S005",
                    format!("`[matrix].precedence` must place `{needed:?}`").to_lowercase(),
                    Some("e.g. [\"route\", \"auth\", \"method\", \"role\", \"state\", \"validation\"]".into()),
                );
            }
        }
        cx.cell(f, off, &m.method_not_allowed, "`method_not_allowed`");
        cx.cell(
            f,
            m.forbidden.expect.span().start,
            &m.forbidden,
            "`forbidden`",
        );
        cx.cell(
            f,
            m.not_found.expect.span().start,
            &m.not_found,
            "`not_found`",
        );
        for c in [
            &m.not_acceptable,
            &m.unsupported_media_type,
            &m.payload_too_large,
        ]
        .into_iter()
        .flatten()
        {
            cx.cell(f, c.expect.span().start, c, "matrix cell rule");
        }
    }
}

fn is_method(m: &str) -> bool {
    !m.is_empty() && m.chars().all(|c| c.is_ascii_uppercase())
}

fn check_roles(cx: &mut Ctx) {
    let raw = cx.raw;
    for r in &raw.roles {
        let n = r.name.get_ref();
        if n == "none" || n == "bad-credentials" {
            cx.err(
                r.file,
                r.name.span().start,
                "I003",
                format!("role name `{n}` is reserved for the unauthenticated matrix columns"),
                None,
            );
        }
        if !id_ok(n) || n.contains('/') {
            cx.err(
                r.file,
                r.name.span().start,
                "I001",
                format!("role name `{n}` must be one segment of [A-Za-z0-9_.-]"),
                None,
            );
        }
        cx.provenance(
            r.file,
            r.name.span().start,
            &r.provenance,
            &format!("role `{n}`"),
        );
    }
    if raw.roles.is_empty() && !raw.api.is_empty() {
        let f = raw.api[0].file;
        cx.err(f, 0, "S006", "the spec defines no `[[role]]`".into(), None);
    }
}

fn check_envelopes_codes(cx: &mut Ctx) {
    let raw = cx.raw;
    for e in &raw.envelopes {
        let off = e.name.span().start;
        cx.provenance(
            e.file,
            off,
            &e.provenance,
            &format!("envelope `{}`", e.name.get_ref()),
        );
        if e.format == BodyFormat::Xml && e.root.is_none() {
            cx.err(
                e.file,
                off,
                "S007",
                format!("XML envelope `{}` needs a `root` element", e.name.get_ref()),
                None,
            );
        }
        if e.format == BodyFormat::Text && e.template.is_none() && e.message_path.is_none() {
            cx.err(
                e.file,
                off,
                "S007",
                format!("text envelope `{}` needs a `template`", e.name.get_ref()),
                Some("e.g. template = \"{message}\"".into()),
            );
        }
    }
    for c in &raw.codes {
        let off = c.id.span().start;
        if !(100..=999).contains(&c.status) {
            cx.err(
                c.file,
                off,
                "T003",
                format!(
                    "code `{}` has status {} outside 100..=999",
                    c.id.get_ref(),
                    c.status
                ),
                None,
            );
        }
        if let Some(e) = &c.envelope {
            cx.refer(c.file, e, "envelope", "R002");
        }
        for op in &c.operations {
            cx.refer(c.file, op, "endpoint", "R010");
        }
        if c.indeterminate && c.class == CodeClass::Success {
            cx.err(
                c.file,
                off,
                "S008",
                format!(
                    "code `{}` is marked both success and indeterminate",
                    c.id.get_ref()
                ),
                None,
            );
        }
        cx.provenance(
            c.file,
            off,
            &c.provenance,
            &format!("code `{}`", c.id.get_ref()),
        );
    }
}

fn check_paginations(cx: &mut Ctx) {
    let raw = cx.raw;
    for p in &raw.paginations {
        let off = p.name.span().start;
        let need: &[&[&str]] = match p.style {
            PaginationStyle::Cursor => &[&["after", "before"], &["limit"]],
            PaginationStyle::Page => &[&["page"], &["pagesize"]],
            PaginationStyle::Rows => &[&["start"], &["end"]],
            PaginationStyle::Offset => &[&["start"], &["limit"]],
        };
        for alts in need {
            if !alts.iter().any(|k| p.params.contains_key(*k)) {
                cx.err(
                    p.file,
                    off,
                    "G002",
                    format!(
                        "pagination `{}` of style {:?} needs `params.{}`",
                        p.name.get_ref(),
                        p.style,
                        alts.join("` or `params.")
                    )
                    .replace("Cursor", "cursor")
                    .replace("Page", "page")
                    .replace("Rows", "rows")
                    .replace("Offset", "offset"),
                    None,
                );
            }
        }
        const ROLES: &[&str] = &[
            "after", "before", "limit", "page", "pagesize", "start", "end", "sort", "order",
            "filter",
        ];
        for k in p.params.keys() {
            if !ROLES.contains(&k.as_str()) {
                cx.err(
                    p.file,
                    off,
                    "G003",
                    format!(
                        "pagination `{}` has unknown parameter role `{k}`",
                        p.name.get_ref()
                    ),
                    did_you_mean(k, ROLES.iter().copied())
                        .or_else(|| Some(format!("roles: {}", ROLES.join(", ")))),
                );
            }
        }
        if p.sentinel.is_some() && p.style != PaginationStyle::Cursor {
            cx.err(
                p.file,
                off,
                "G004",
                "`sentinel` only applies to cursor pagination".into(),
                None,
            );
        }
        if let (Some(d), Some(m)) = (p.default_limit, p.max_limit) {
            if d > m {
                cx.err(
                    p.file,
                    off,
                    "G005",
                    format!("default_limit {d} exceeds max_limit {m}"),
                    None,
                );
            }
        }
        if let Some(o) = &p.empty {
            cx.outcome(p.file, o);
        }
        if let Some(o) = &p.invalid {
            cx.outcome(p.file, o);
        }
        cx.provenance(
            p.file,
            off,
            &p.provenance,
            &format!("pagination `{}`", p.name.get_ref()),
        );
    }
}

fn check_schemas(cx: &mut Ctx) {
    let raw = cx.raw;
    for s in &raw.schemas {
        let off = s.name.span().start;
        cx.provenance(
            s.file,
            off,
            &s.provenance,
            &format!("schema `{}`", s.name.get_ref()),
        );
        let mut seen = HashSet::new();
        for f in &s.field {
            let fo = f.name.span().start;
            let fname = f.name.get_ref();
            if !seen.insert(fname.as_str()) {
                cx.err(
                    s.file,
                    fo,
                    "D001",
                    format!("duplicate field `{fname}` in schema `{}`", s.name.get_ref()),
                    None,
                );
            }
            if f.ty == FieldType::Enum && f.enum_values.is_empty() {
                cx.err(
                    s.file,
                    fo,
                    "F001",
                    format!("field `{fname}` has type enum but no `enum` values"),
                    None,
                );
            }
            if let (Some(a), Some(b)) = (f.min, f.max) {
                if a > b {
                    cx.err(
                        s.file,
                        fo,
                        "F002",
                        format!("field `{fname}`: min {a} > max {b}"),
                        None,
                    );
                }
            }
            if let (Some(a), Some(b)) = (f.min_len, f.max_len) {
                if a > b {
                    cx.err(
                        s.file,
                        fo,
                        "F002",
                        format!("field `{fname}`: min_len {a} > max_len {b}"),
                        None,
                    );
                }
            }
            if f.items.is_some() && f.ty != FieldType::Array {
                cx.err(
                    s.file,
                    fo,
                    "F003",
                    format!("field `{fname}`: `items` only applies to arrays"),
                    None,
                );
            }
            if let Some(sc) = &f.schema {
                cx.refer(s.file, sc, "schema", "R005");
            }
            if f.provenance.source.is_some() && f.provenance.inferred.is_some() {
                cx.provenance(s.file, fo, &f.provenance, &format!("field `{fname}`"));
            }
            if let Some(o) = &f.on_duplicate {
                cx.outcome(s.file, o);
            }
        }
    }
}

fn check_collections(cx: &mut Ctx) {
    let raw = cx.raw;
    for c in &raw.collections {
        let off = c.name.span().start;
        cx.refer(c.file, &c.schema, "schema", "R005");
        cx.provenance(
            c.file,
            off,
            &c.provenance,
            &format!("collection `{}`", c.name.get_ref()),
        );
        let Some(schema) = raw
            .schemas
            .iter()
            .find(|s| s.name.get_ref() == c.schema.get_ref())
        else {
            continue;
        };
        let fields: Vec<&str> = schema
            .field
            .iter()
            .map(|f| f.name.get_ref().as_str())
            .collect();
        for k in &c.key {
            if !fields.contains(&k.as_str()) {
                cx.err(
                    c.file,
                    off,
                    "R013",
                    format!(
                        "collection `{}` keys on `{k}`, which schema `{}` lacks",
                        c.name.get_ref(),
                        schema.name.get_ref()
                    ),
                    did_you_mean(k, fields.iter().copied()),
                );
            }
        }
        let check_record = |cx: &mut Ctx, rec: &toml::Value, what: &str| match rec.as_table() {
            Some(t) => {
                for k in t.keys() {
                    if !fields.contains(&k.as_str())
                        && schema.unknown_fields == UnknownFields::Reject
                    {
                        cx.err(
                            c.file,
                            off,
                            "R014",
                            format!(
                                "{what} of collection `{}` has field `{k}` that schema `{}` lacks",
                                c.name.get_ref(),
                                schema.name.get_ref()
                            ),
                            did_you_mean(k, fields.iter().copied()),
                        );
                    }
                }
            }
            None => cx.err(
                c.file,
                off,
                "T002",
                format!(
                    "{what} of collection `{}` must be a table",
                    c.name.get_ref()
                ),
                None,
            ),
        };
        for (i, rec) in c.seed.iter().enumerate() {
            check_record(cx, rec, &format!("seed record {}", i + 1));
        }
        if let Some(g) = &c.generate {
            check_record(cx, &g.template, "generate.template");
        }
    }
}

fn check_states_jobs_refs(cx: &mut Ctx) {
    let raw = cx.raw;
    for s in &raw.states {
        let off = s.name.span().start;
        cx.outcome(s.file, &s.outcome);
        for e in s.endpoints.iter().chain(&s.except) {
            cx.refer(s.file, e, "endpoint", "R010");
        }
        for c in &s.also {
            cx.outcome(s.file, &c.outcome);
            for e in &c.endpoints {
                cx.refer(s.file, e, "endpoint", "R010");
            }
        }
        if s.applies_to.is_empty() && s.endpoints.is_empty() {
            cx.err(
                s.file,
                off,
                "S009",
                format!(
                    "state `{}` affects nothing: set `applies_to` or `endpoints`",
                    s.name.get_ref()
                ),
                None,
            );
        }
        cx.provenance(
            s.file,
            off,
            &s.provenance,
            &format!("state `{}`", s.name.get_ref()),
        );
    }
    for j in &raw.jobs {
        let off = j.name.span().start;
        cx.refer(j.file, &j.start, "endpoint", "R010");
        cx.refer(j.file, &j.poll, "endpoint", "R010");
        if let Some(s) = &j.status_endpoint {
            cx.refer(j.file, s, "endpoint", "R010");
        }
        cx.outcome(j.file, &j.accepted);
        cx.outcome(j.file, &j.done);
        for p in &j.pending {
            cx.outcome(j.file, p);
        }
        if !is_method(&j.start_method) {
            cx.err(
                j.file,
                off,
                "E004",
                format!("`{}` is not an upper-case HTTP method", j.start_method),
                None,
            );
        }
        cx.provenance(
            j.file,
            off,
            &j.provenance,
            &format!("job `{}`", j.name.get_ref()),
        );
    }
    for v in &raw.volatiles {
        let off = v.name.span().start;
        for ep in &v.endpoints {
            cx.refer(v.file, ep, "endpoint", "R015");
        }
        cx.provenance(
            v.file,
            off,
            &v.provenance,
            &format!("volatile `{}`", v.name.get_ref()),
        );
    }
    for r in &raw.references {
        let off = r.name.span().start;
        cx.refer(r.file, &r.from, "collection", "R006");
        cx.refer(r.file, &r.to, "collection", "R006");
        if let Some(o) = &r.on_delete {
            cx.outcome(r.file, o);
        }
        if let Some(o) = &r.on_dangling {
            cx.outcome(r.file, o);
        }
        // The pointer field must exist in the `from` schema.
        if let Some(col) = raw
            .collections
            .iter()
            .find(|c| c.name.get_ref() == r.from.get_ref())
        {
            if let Some(s) = raw
                .schemas
                .iter()
                .find(|s| s.name.get_ref() == col.schema.get_ref())
            {
                if !s.field.iter().any(|f| f.name.get_ref() == &r.field) {
                    let fields: Vec<&str> =
                        s.field.iter().map(|f| f.name.get_ref().as_str()).collect();
                    cx.err(
                        r.file,
                        off,
                        "R013",
                        format!(
                            "reference `{}` uses field `{}`, which schema `{}` lacks",
                            r.name.get_ref(),
                            r.field,
                            s.name.get_ref()
                        ),
                        did_you_mean(&r.field, fields.iter().copied()),
                    );
                }
            }
        }
        cx.provenance(
            r.file,
            off,
            &r.provenance,
            &format!("reference `{}`", r.name.get_ref()),
        );
    }
}

fn check_decisions(cx: &mut Ctx) {
    let raw = cx.raw;
    for d in &raw.decisions {
        let off = d.id.span().start;
        if !id_ok(d.id.get_ref()) {
            cx.err(
                d.file,
                off,
                "I001",
                format!(
                    "decision id `{}` has characters outside [A-Za-z0-9_.-/]",
                    d.id.get_ref()
                ),
                None,
            );
        }
        if d.choice.trim().is_empty() {
            cx.err(
                d.file,
                off,
                "S010",
                format!("decision `{}` has an empty `choice`", d.id.get_ref()),
                None,
            );
        }
        cx.provenance(
            d.file,
            off,
            &d.provenance,
            &format!("decision `{}`", d.id.get_ref()),
        );
    }
}

fn check_endpoints(cx: &mut Ctx) {
    let raw = cx.raw;
    let mut templates: HashMap<(String, String), (usize, usize)> = HashMap::new();
    for ep in &raw.endpoints {
        let f = ep.file;
        let eid = ep.id.get_ref();
        let off = ep.id.span().start;
        if !id_ok(eid) {
            cx.err(
                f,
                off,
                "I001",
                format!("endpoint id `{eid}` must be segments of [A-Za-z0-9_.-] joined by `/`"),
                None,
            );
        }
        let path = ep.path.get_ref();
        let poff = ep.path.span().start;
        if !path.is_empty() && !path.starts_with('/') {
            cx.err(
                f,
                poff,
                "E001",
                format!("path `{path}` must start with `/`"),
                None,
            );
        }
        if let Some(b) = &ep.base {
            cx.base(f, b);
        }
        let base = ep
            .base
            .as_ref()
            .map(|b| b.get_ref().clone())
            .unwrap_or_else(|| cx.bases.first().map(|s| s.to_string()).unwrap_or_default());
        // Normalise parameter names so `/a/{x}` and `/a/{y}` count as the same template.
        let shape: String = template_shape(path);
        if let Some((pf, po)) = templates.get(&(base.clone(), shape.clone())) {
            let (l, c) = raw.files[*pf].line_col(*po);
            cx.err(
                f,
                poff,
                "D004",
                format!("path template `{path}` (base `{base}`) is declared by two endpoints"),
                Some(format!(
                    "the other is at {}:{l}:{c}; merge their operations",
                    raw.files[*pf].path.display()
                )),
            );
        } else {
            templates.insert((base, shape), (f, poff));
        }
        match template_params(path) {
            Err(e) => cx.err(
                f,
                poff,
                "E002",
                format!("bad path template `{path}`: {e}"),
                None,
            ),
            Ok(names) => {
                for n in &names {
                    if !ep.params.contains_key(n) {
                        cx.err(
                            f,
                            poff,
                            "E003",
                            format!("path parameter `{{{n}}}` has no type in `params`"),
                            Some(format!(
                                "add `params = {{ {n} = \"string\" }}` (or its real type)"
                            )),
                        );
                    }
                }
                for k in ep.params.keys() {
                    if !names.contains(k) {
                        cx.err(
                            f,
                            off,
                            "E003",
                            format!("`params.{k}` is not a parameter of `{path}`"),
                            did_you_mean(k, names.iter().map(String::as_str)),
                        );
                    }
                }
            }
        }
        if let Some(c) = &ep.collection {
            cx.refer(f, c, "collection", "R006");
        }
        for (pname, p) in &ep.params {
            if let Some(l) = p.spec().lookup {
                let rows = raw
                    .data
                    .iter()
                    .find(|(_, _, k, _)| *k == l.data)
                    .and_then(|(_, _, _, v)| v.get(&l.rows))
                    .and_then(|v| v.as_array());
                if rows.is_none() {
                    cx.err(
                        f,
                        off,
                        "R016",
                        format!(
                            "parameter `{pname}` of endpoint `{eid}` looks up `[data.{}].{}`, which is not an array of tables",
                            l.data, l.rows
                        ),
                        None,
                    );
                }
            }
        }
        for m in &ep.unsupported {
            if !is_method(m) {
                cx.err(
                    f,
                    off,
                    "E004",
                    format!("`{m}` in `unsupported` is not an upper-case HTTP method"),
                    None,
                );
            }
            if ep.op.iter().any(|o| o.method.get_ref() == m) {
                cx.err(
                    f,
                    off,
                    "E006",
                    format!("endpoint `{eid}` both supports and lists as unsupported `{m}`"),
                    Some(
                        "keep the reading you chose and record the conflict as a `[[decision]]`"
                            .into(),
                    ),
                );
            }
        }
        if !ep.unsupported.is_empty() && ep.unsupported_source.is_none() {
            cx.err(
                f,
                off,
                "P001",
                format!(
                    "endpoint `{eid}` lists `unsupported` methods without `unsupported_source`"
                ),
                None,
            );
        }
        cx.provenance(f, off, &ep.provenance, &format!("endpoint `{eid}`"));
        let mut methods = HashSet::new();
        for op in &ep.op {
            check_op(cx, f, eid, op, &mut methods);
        }
    }
}

fn check_op(cx: &mut Ctx, f: usize, eid: &str, op: &Operation, methods: &mut HashSet<String>) {
    let m = op.method.get_ref();
    let off = op.method.span().start;
    if !is_method(m) {
        cx.err(
            f,
            off,
            "E004",
            format!("`{m}` is not an upper-case HTTP method token"),
            None,
        );
    }
    if !methods.insert(m.clone()) {
        cx.err(
            f,
            off,
            "D005",
            format!("endpoint `{eid}` declares `{m}` twice"),
            None,
        );
    }
    if !cx.methods.is_empty() && !cx.methods.contains(m) {
        cx.err(
            f,
            off,
            "E005",
            format!("method `{m}` of `{eid}` is not in `[matrix].methods`, so its matrix cells would never be tested"),
            Some(format!("add `{m}` to `[matrix].methods`")),
        );
    }
    match (&op.min_role, op.roles.is_empty()) {
        _ if op.public => {
            if op.min_role.is_some() || !op.roles.is_empty() {
                cx.err(
                    f,
                    off,
                    "E007",
                    format!("{m} `{eid}` is `public` and also names roles"),
                    Some("a public operation needs no credentials; drop `min_role`/`roles`".into()),
                );
            }
        }
        (Some(r), true) => cx.refer(f, r, "role", "R001"),
        (None, false) => {
            for r in &op.roles {
                cx.refer(f, r, "role", "R001");
            }
        }
        (Some(_), false) => cx.err(
            f,
            off,
            "E007",
            format!("{m} `{eid}` sets both `min_role` and `roles`"),
            Some("keep one".into()),
        ),
        (None, true) => cx.err(
            f,
            off,
            "E007",
            format!("{m} `{eid}` says nobody may call it: set `min_role` or `roles`"),
            None,
        ),
    }
    if let Some(s) = &op.success {
        cx.outcome(f, s);
    }
    for a in &op.accept {
        cx.outcome(f, a);
    }
    if let Some(fb) = &op.forbidden {
        cx.cell(f, off, fb, &format!("`forbidden` of {m} `{eid}`"));
    }
    if let Some(p) = &op.pagination {
        cx.refer(f, p, "pagination", "R003");
    }
    for c in &op.codes {
        cx.refer(f, c, "code", "R004");
    }
    if let Some(j) = &op.job {
        cx.refer(f, j, "job", "R008");
    }
    if let Some(d) = &op.decision {
        cx.refer(f, d, "decision", "R009");
    }
    if let Some(req) = &op.request {
        if let Some(s) = &req.schema {
            cx.refer(f, s, "schema", "R005");
        }
        if let Some(r) = &req.reject {
            cx.outcome(f, r);
        }
        if req.content_types.is_empty() && !req.empty {
            cx.err(f, off, "E008", format!("{m} `{eid}`: `request.content_types` is empty; use `empty = true` for a body-less request"), None);
        }
        if req.completeness.is_some() && req.schema.is_none() {
            cx.err(
                f,
                off,
                "E009",
                format!(
                    "{m} `{eid}`: `completeness` needs a `request.schema` to count fields against"
                ),
                None,
            );
        }
        if req
            .content_types
            .iter()
            .any(|c| c.starts_with("multipart/"))
            && req.file_field.is_none()
        {
            cx.err(
                f,
                off,
                "E010",
                format!("{m} `{eid}`: a multipart request needs `file_field`"),
                None,
            );
        }
    }
    if let Some(resp) = &op.response {
        if let Some(s) = &resp.schema {
            cx.refer(f, s, "schema", "R005");
        }
        if let Some(e) = &resp.envelope {
            cx.refer(f, e, "envelope", "R002");
        }
        if let Some(b) = &resp.body {
            let ct = resp.content_types.first().map(String::as_str).unwrap_or("");
            if ct.contains("json") && serde_json::from_str::<serde_json::Value>(b).is_err() {
                cx.err(
                    f,
                    off,
                    "E011",
                    format!(
                        "{m} `{eid}`: `response.body` is served as JSON but does not parse as JSON"
                    ),
                    None,
                );
            }
        }
    }
    for (name, p) in &op.query {
        let spec = p.spec();
        if spec.ty == FieldType::Enum && spec.enum_values.is_empty() {
            cx.err(
                f,
                off,
                "F001",
                format!("query parameter `{name}` of {m} `{eid}` is an enum without values"),
                None,
            );
        }
    }
    cx.provenance(f, off, &op.provenance, &format!("{m} `{eid}`"));
}

fn check_rules(cx: &mut Ctx) {
    let raw = cx.raw;
    for r in &raw.rules {
        let f = r.file;
        let off = r.id.span().start;
        let id = r.id.get_ref();
        if !id_ok(id) {
            cx.err(
                f,
                off,
                "I001",
                format!("rule id `{id}` must be segments of [A-Za-z0-9_.-] joined by `/`"),
                None,
            );
        }
        if let Some(api) = raw.api.first() {
            if id.starts_with(&format!("{}/", api.name.get_ref())) {
                cx.err(
                    f,
                    off,
                    "I004",
                    format!("rule id `{id}` repeats the API name; ids are relative to the API"),
                    Some(format!("write `{}`", &id[api.name.get_ref().len() + 1..])),
                );
            }
        }
        if r.summary.trim().is_empty() {
            cx.err(
                f,
                off,
                "S011",
                format!("rule `{id}` has an empty summary"),
                None,
            );
        }
        if let Some(send) = &r.send {
            if send.body.is_some() && (!send.set.is_empty() || !send.omit.is_empty()) {
                cx.err(
                    f,
                    off,
                    "E015",
                    format!("rule `{id}`: `send.body` replaces the sample body; it cannot be combined with `set` or `omit`"),
                    None,
                );
            }
            if r.endpoint.is_none() && !send.params.is_empty() {
                cx.err(
                    f,
                    off,
                    "E015",
                    format!("rule `{id}`: `send.params` needs an `endpoint` whose path has them"),
                    None,
                );
            }
            if let (Some(e), false) = (&r.endpoint, send.params.is_empty()) {
                if let Some(ep) = raw.endpoints.iter().find(|x| x.id.get_ref() == e.get_ref()) {
                    let names = crate::spec::template_params(ep.path.get_ref()).unwrap_or_default();
                    for p in send.params.keys() {
                        if !names.contains(p) {
                            cx.err(
                                f,
                                off,
                                "E015",
                                format!(
                                    "rule `{id}`: `send.params.{p}` is not a parameter of `{}`",
                                    ep.path.get_ref()
                                ),
                                Some(format!("parameters: {}", names.join(", "))),
                            );
                        }
                    }
                }
            }
        }
        if let Some(e) = &r.endpoint {
            cx.refer(f, e, "endpoint", "R010");
            if let (Some(m), Some(ep)) = (
                &r.method,
                raw.endpoints.iter().find(|x| x.id.get_ref() == e.get_ref()),
            ) {
                let known = ep.op.iter().any(|o| o.method.get_ref() == m)
                    || ep.unsupported.contains(m)
                    || cx.methods.contains(m);
                if !known {
                    cx.err(f, off, "E012", format!("rule `{id}` uses method `{m}`, which endpoint `{}` neither has nor tests", e.get_ref()), None);
                }
            }
        } else if r.method.is_some() && r.path.is_none() {
            cx.err(
                f,
                off,
                "E013",
                format!("rule `{id}` names a method but no endpoint or path"),
                Some("add `endpoint = \"...\"`, or `path = \"/...\"` for a path that is not an endpoint".into()),
            );
        }
        if let Some(p) = &r.path {
            if r.endpoint.is_some() {
                cx.err(
                    f,
                    p.span().start,
                    "E014",
                    format!("rule `{id}` sets both `endpoint` and `path`"),
                    Some("keep one".into()),
                );
            }
            if !p.get_ref().starts_with('/') {
                cx.err(
                    f,
                    p.span().start,
                    "E001",
                    format!("path `{}` must start with `/`", p.get_ref()),
                    None,
                );
            }
        }
        if let Some(b) = &r.base {
            cx.base(f, b);
        }
        if let Some(role) = &r.role {
            if role.get_ref() != "none" && role.get_ref() != "bad-credentials" {
                cx.refer(f, role, "role", "R001");
            }
        }
        for o in &r.expect {
            cx.outcome(f, o);
        }
        if let Some(s) = &r.state {
            cx.refer(f, s, "state", "R007");
        }
        if let Some(d) = &r.decision {
            cx.refer(f, d, "decision", "R009");
        }
        cx.provenance(f, off, &r.provenance, &format!("rule `{id}`"));
    }
}
