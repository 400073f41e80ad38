//! How the API answers: error envelopes, result codes and pagination styles.

use super::Ctx;
use crate::diag::did_you_mean;
use crate::spec::model::{BodyFormat, CodeClass, PaginationStyle};

pub(super) fn check_envelopes_codes(cx: &mut Ctx) {
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

pub(super) fn check_paginations(cx: &mut Ctx) {
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
