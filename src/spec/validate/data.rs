//! The data the API holds: schemas and their fields, and collections with their keys and
//! seed records.

use std::collections::HashSet;

use super::Ctx;
use crate::diag::did_you_mean;
use crate::spec::model::{FieldType, UnknownFields};

pub(super) fn check_schemas(cx: &mut Ctx) {
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

pub(super) fn check_collections(cx: &mut Ctx) {
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
        // The owner field names the record's account beside the schema's fields.
        let owner = c.owner.as_ref().map(|o| o.field.as_str());
        for k in &c.key {
            if !fields.contains(&k.as_str()) && owner != Some(k.as_str()) {
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
