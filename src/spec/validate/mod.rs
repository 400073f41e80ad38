//! Semantic checks over a read spec: references, duplicates, templates, provenance.
//!
//! [`check`] first collects the names of every kind (reporting duplicates), then runs one
//! pass per part of the language, in a fixed order so diagnostics come out stably. The
//! passes share a [`Ctx`] holding those names and the helpers that report undefined
//! references, outcomes and missing provenance.

mod answers;
mod data;
mod endpoints;
mod lifecycle;
mod rules;
mod top;

use std::collections::{HashMap, HashSet};

use toml::Spanned;

use super::load::{RawSpec, Sourced};
use super::model::{CellRule, Outcome, Provenance};
use crate::diag::{did_you_mean, Diagnostics, SourceFile};

/// Runs every check over `raw`, adding what it finds to `diags`.
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

    top::check_api(&mut cx);
    top::check_roles(&mut cx);
    answers::check_envelopes_codes(&mut cx);
    answers::check_paginations(&mut cx);
    data::check_schemas(&mut cx);
    data::check_collections(&mut cx);
    lifecycle::check_states_jobs_refs(&mut cx);
    top::check_decisions(&mut cx);
    endpoints::check_endpoints(&mut cx);
    rules::check_rules(&mut cx);
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

/// What every pass shares: the raw spec, where to report, and the names defined of each
/// kind, the API's bases and the matrix's methods.
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
        self.outcome_at(file, o.span().start, o.get_ref());
    }

    /// [`Self::outcome`] for an outcome without a span of its own, reported at `off`.
    fn outcome_at(&mut self, file: usize, off: usize, o: &Outcome) {
        if let Some(code) = &o.code {
            if !self.codes.contains(code.as_str()) {
                let hint = did_you_mean(code, self.codes.iter().copied());
                self.err(
                    file,
                    off,
                    "R004",
                    format!("outcome `{}` names undefined code `{code}`", o),
                    hint.or_else(|| Some("define it as a `[[code]]` with this id".into())),
                );
            } else {
                let c = self
                    .raw
                    .codes
                    .iter()
                    .find(|c| c.id.get_ref() == code)
                    .expect("code exists");
                if c.status != o.status {
                    self.err(
                        file,
                        off,
                        "R012",
                        format!(
                            "outcome `{}` pairs code `{code}` with status {}, but the code travels with {}",
                            o,
                            o.status,
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

fn is_method(m: &str) -> bool {
    !m.is_empty() && m.chars().all(|c| c.is_ascii_uppercase())
}
