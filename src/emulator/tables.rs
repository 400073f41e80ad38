//! An API's tables, one per collection: built from the spec, filled from the seed rows,
//! refilled with generated rows or rows the control interface loads.

use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::Value;

use super::store::{Key, Rows, Table};
use super::{ApiEmu, EmulatorError};
use crate::spec::model::{FieldType, Schema};
use crate::spec::Spec;

/// One empty table per collection: the schema's fields, then any key field it lacks.
pub(super) fn build(spec: &Spec) -> IndexMap<String, Table> {
    let mut tables = IndexMap::new();
    for c in spec.collections() {
        let schema = spec.schema(c.schema.get_ref());
        let keys = spec.collection_keys(c);
        let mut cols: Vec<String> = schema
            .map(|s| s.field.iter().map(|f| f.name.get_ref().clone()).collect())
            .unwrap_or_default();
        for k in &keys {
            if !cols.contains(k) {
                cols.push(k.clone());
            }
        }
        let table = Table::new(Arc::from(cols), keys, Rows::new());
        tables.insert(c.name.get_ref().clone(), table);
    }
    tables
}

/// Memory the generated rows of one request may take, as [`ApiEmu::generate_cap`]
/// estimates it.
pub const GENERATED_MEMORY: u64 = 1 << 30;
/// Bytes a row costs beyond its JSON text: the tree node, the key, the value slots.
const ROW_OVERHEAD: usize = 128;

impl ApiEmu {
    /// Key fields of a collection: its `key`, else the schema's key fields.
    pub(super) fn key_fields(&self, collection: &str) -> &[String] {
        self.tables
            .get(collection)
            .map(|t| t.key_fields())
            .unwrap_or(&[])
    }

    pub(super) fn collection_schema(&self, collection: &str) -> Option<&Schema> {
        self.spec
            .collection(collection)
            .and_then(|c| self.spec.schema(c.schema.get_ref()))
    }

    pub(super) fn reseed(&self) -> Result<(), EmulatorError> {
        for c in self.spec.collections() {
            let name = c.name.get_ref();
            let Some(table) = self.tables.get(name) else {
                continue;
            };
            let mut rows = Rows::new();
            for (i, s) in c.seed.iter().enumerate() {
                let v = serde_json::to_value(s).map_err(|e| EmulatorError::Seed {
                    api: self.name().into(),
                    collection: name.clone(),
                    index: i,
                    message: e.to_string(),
                })?;
                if !v.is_object() {
                    return Err(EmulatorError::Seed {
                        api: self.name().into(),
                        collection: name.clone(),
                        index: i,
                        message: "expected an inline table".into(),
                    });
                }
                let mut v = v;
                fill_nulls(&self.spec, c.schema.get_ref(), &mut v, 0);
                let k = table.key_of(&v).unwrap_or(Key::Int(i as i64 + 1));
                rows.insert(k, table.row(v));
            }
            table.replace(rows);
            table.restart();
        }
        Ok(())
    }

    /// Fill a collection with `count` generated rows modelled on its seed rows; key fields
    /// take the values 1..=count. Returns false for an unknown collection.
    /// The most rows [`ApiEmu::generate`] makes for `collection`: what fits in
    /// [`GENERATED_MEMORY`] at the size of its largest seed row (as JSON, plus the cost of
    /// a row and its key in the table). `None` for an unknown collection.
    pub fn generate_cap(&self, collection: &str) -> Option<u64> {
        let c = self.spec.collection(collection)?;
        let largest = c
            .seed
            .iter()
            .filter_map(|s| serde_json::to_vec(s).ok())
            .map(|b| b.len())
            .max()
            .unwrap_or(0);
        let per_row = (largest + ROW_OVERHEAD) as u64;
        Some(GENERATED_MEMORY / per_row)
    }

    pub fn generate(&self, collection: &str, count: u64) -> bool {
        let Some(table) = self.tables.get(collection) else {
            return false;
        };
        let keys = table.key_fields();
        let c = self
            .spec
            .collection(collection)
            .expect("table exists for every collection");
        let models: Vec<Value> = c
            .seed
            .iter()
            .filter_map(|s| serde_json::to_value(s).ok())
            .collect();
        let mut rows = Rows::new();
        for n in 1..=count as i64 {
            let mut row = models
                .get((n as usize - 1) % models.len().max(1))
                .cloned()
                .unwrap_or_else(|| Value::Object(Default::default()));
            if let Some(obj) = row.as_object_mut() {
                for k in keys {
                    obj.insert(k.clone(), self.numbered_key(collection, k, n));
                }
            }
            let k = table.key_of(&row).unwrap_or(Key::Int(n));
            rows.insert(k, table.row(row));
        }
        table.replace(rows);
        true
    }

    /// Key field value number `n`, typed as the schema types the field: a number for
    /// integer fields, else a digit string.
    pub(super) fn numbered_key(&self, collection: &str, field: &str, n: i64) -> Value {
        let ty = self
            .collection_schema(collection)
            .and_then(|s| s.field.iter().find(|f| f.name.get_ref() == field))
            .map(|f| f.ty);
        match ty {
            Some(FieldType::Integer) | Some(FieldType::Number) => Value::from(n),
            _ => Value::String(n.to_string()),
        }
    }

    /// Replace a collection's rows with the given JSON objects.
    pub fn load_rows(&self, collection: &str, items: Vec<Value>) -> Result<usize, String> {
        let Some(table) = self.tables.get(collection) else {
            return Err(format!("no collection `{collection}` in {}", self.name()));
        };
        let mut rows = Rows::new();
        for (i, v) in items.into_iter().enumerate() {
            if !v.is_object() {
                return Err(format!("row {i} is not an object"));
            }
            let k = table.key_of(&v).unwrap_or(Key::Int(i as i64 + 1));
            rows.insert(k, table.row(v));
        }
        let n = rows.len();
        table.replace(rows);
        Ok(n)
    }
}

/// Write `null` into every `nullable` field of `schema` that `v` lacks, and into those of
/// the records nested in its object and list fields.
pub(super) fn fill_nulls(spec: &Spec, schema: &str, v: &mut Value, depth: usize) {
    let (Some(s), Some(o)) = (spec.schema(schema), v.as_object_mut()) else {
        return;
    };
    if depth > 8 {
        return;
    }
    for f in &s.field {
        let name = f.name.get_ref();
        match (o.get_mut(name), &f.schema) {
            (None, _) if f.nullable => {
                o.insert(name.clone(), Value::Null);
            }
            (Some(Value::Array(items)), Some(inner)) => {
                for it in items {
                    fill_nulls(spec, inner.get_ref(), it, depth + 1);
                }
            }
            (Some(inner_v @ Value::Object(_)), Some(inner)) => {
                fill_nulls(spec, inner.get_ref(), inner_v, depth + 1)
            }
            _ => {}
        }
    }
}
