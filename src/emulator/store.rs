//! In-memory tables behind the emulator's collections.
//!
//! A table is an ordered map from [`Key`] to a [`Row`]. A row keeps its values in the
//! order of its table's columns, with the column names shared by every row of the table,
//! so a million-row table costs little more than its values; rows are reference-counted so
//! a page can be cut without copying the table. Every table sits behind a lock holding an
//! `Arc` of its data: a replace builds the new map aside and swaps it in with one store, so
//! a reader sees the old table or the new one, never a mix. Cursor pages are range scans,
//! so their cost depends on the page size, not on the size of the table.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use parking_lot::RwLock;
use serde_json::{Map, Value};

/// Ordering key of a row. Integers sort numerically and before strings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    Int(i64),
    Str(String),
}

impl Key {
    /// Key from a path segment, query value or JSON scalar: digits become `Int`.
    pub fn parse(s: &str) -> Key {
        let t = s.trim();
        if !t.is_empty() && t.len() < 19 && t.bytes().all(|b| b.is_ascii_digit()) {
            Key::Int(t.parse().unwrap_or(0))
        } else {
            Key::Str(s.to_string())
        }
    }
    pub fn from_value(v: &Value) -> Option<Key> {
        match v {
            Value::Number(n) => n
                .as_i64()
                .map(Key::Int)
                .or_else(|| Some(Key::parse(&n.to_string()))),
            Value::String(s) if !s.is_empty() => Some(Key::parse(s)),
            _ => None,
        }
    }
    /// The key as a JSON value: a number or a string.
    pub fn to_value(&self) -> Value {
        match self {
            Key::Int(i) => Value::from(*i),
            Key::Str(s) => Value::String(s.clone()),
        }
    }
    /// Composite key of several fields, joined with `/`.
    pub fn of_row<R: Fields + ?Sized>(row: &R, fields: &[String]) -> Option<Key> {
        match fields {
            [] => None,
            [one] => row.field(one).and_then(Key::from_value),
            many => {
                let mut parts = Vec::with_capacity(many.len());
                for f in many {
                    parts.push(scalar_text(row.field(f)?)?);
                }
                Some(Key::Str(parts.join("/")))
            }
        }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::Int(i) => write!(f, "{i}"),
            Key::Str(s) => f.write_str(s),
        }
    }
}
pub use crate::spec::check::scalar_text;

/// Named access to a record's fields: JSON objects and rows alike.
pub trait Fields {
    fn field(&self, name: &str) -> Option<&Value>;
}

impl Fields for Value {
    fn field(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

/// Column names shared by the rows of one table.
pub type Columns = Arc<[String]>;

/// One record: values in column order (`None` where the record lacks the field), plus any
/// fields outside the columns. Cloning is one reference-count increment.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(Arc<RowData>);

#[derive(Debug, PartialEq)]
struct RowData {
    cols: Columns,
    vals: Box<[Option<Value>]>,
    extra: Option<Box<Map<String, Value>>>,
}

impl Row {
    /// A row from a JSON object (anything else becomes an empty row).
    pub fn from_value(cols: &Columns, v: Value) -> Row {
        let mut vals: Vec<Option<Value>> = vec![None; cols.len()];
        let mut extra: Option<Box<Map<String, Value>>> = None;
        if let Value::Object(map) = v {
            // Records usually arrive in column order: look at the next column first.
            let mut next = 0;
            for (k, v) in map {
                let at = match cols.get(next) {
                    Some(c) if *c == k => Some(next),
                    _ => cols.iter().position(|c| *c == k),
                };
                match at {
                    Some(i) => {
                        vals[i] = Some(v);
                        next = i + 1;
                    }
                    None => {
                        extra.get_or_insert_with(Default::default).insert(k, v);
                    }
                }
            }
        }
        Row(Arc::new(RowData {
            cols: cols.clone(),
            vals: vals.into_boxed_slice(),
            extra,
        }))
    }
    /// The fields present, columns first.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &Value)> {
        let cols = self
            .0
            .cols
            .iter()
            .zip(self.0.vals.iter())
            .filter_map(|(c, v)| v.as_ref().map(|v| (c.as_str(), v)));
        let extra = self
            .0
            .extra
            .iter()
            .flat_map(|m| m.iter().map(|(k, v)| (k.as_str(), v)));
        cols.chain(extra)
    }
    /// This row with `update`'s fields written over it.
    pub fn merged(&self, update: &Row) -> Row {
        if !Arc::ptr_eq(&self.0.cols, &update.0.cols) {
            let mut m = self.to_value();
            if let Some(o) = m.as_object_mut() {
                for (k, v) in update.fields() {
                    o.insert(k.to_string(), v.clone());
                }
            }
            return Row::from_value(&self.0.cols, m);
        }
        let vals = self
            .0
            .vals
            .iter()
            .zip(update.0.vals.iter())
            .map(|(old, new)| new.as_ref().or(old.as_ref()).cloned())
            .collect();
        let extra = match (&self.0.extra, &update.0.extra) {
            (Some(a), Some(b)) => {
                let mut m = a.clone();
                m.extend(b.iter().map(|(k, v)| (k.clone(), v.clone())));
                Some(m)
            }
            (a, b) => b.clone().or_else(|| a.clone()),
        };
        Row(Arc::new(RowData {
            cols: self.0.cols.clone(),
            vals,
            extra,
        }))
    }
    /// The row as a JSON object.
    pub fn to_value(&self) -> Value {
        Value::Object(
            self.fields()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }
}

impl Fields for Row {
    fn field(&self, name: &str) -> Option<&Value> {
        match self.0.cols.iter().position(|c| c == name) {
            Some(i) => self.0.vals[i].as_ref(),
            None => self.0.extra.as_ref().and_then(|m| m.get(name)),
        }
    }
}

pub type Rows = BTreeMap<Key, Row>;

/// One collection's rows.
#[derive(Debug)]
pub struct Table {
    cols: Columns,
    keys: Vec<String>,
    data: RwLock<Arc<Rows>>,
    /// The largest integer key [`Table::next_int`] has handed out since the last restart:
    /// a deleted record's id is never given to a new one, as on a real device.
    issued: std::sync::atomic::AtomicI64,
    /// Unix milliseconds of the last change since the last restart (0: none).
    changed: std::sync::atomic::AtomicU64,
}

/// A page cut from a table, with whether items exist before and after it.
#[derive(Debug)]
pub struct Page {
    pub items: Vec<Row>,
    pub keys: Vec<Key>,
    pub more_before: bool,
    pub more_after: bool,
}

impl Table {
    pub fn new(cols: Columns, keys: Vec<String>, rows: Rows) -> Table {
        Table {
            cols,
            keys,
            data: RwLock::new(Arc::new(rows)),
            issued: std::sync::atomic::AtomicI64::new(0),
            changed: std::sync::atomic::AtomicU64::new(0),
        }
    }
    /// Forget the integer keys handed out, as a device that is reset to its seed data.
    pub fn restart(&self) {
        self.issued.store(0, std::sync::atomic::Ordering::Relaxed);
        self.changed.store(0, std::sync::atomic::Ordering::Relaxed);
    }
    /// Record a change now: Unix milliseconds, always later than the change before.
    fn touch(&self) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let _ = self.changed.fetch_update(
            std::sync::atomic::Ordering::Relaxed,
            std::sync::atomic::Ordering::Relaxed,
            |prev| Some(now.max(prev + 1)),
        );
    }
    /// Unix milliseconds of the last change since the last restart, if any.
    pub fn changed_at(&self) -> Option<u64> {
        Some(self.changed.load(std::sync::atomic::Ordering::Relaxed)).filter(|&s| s > 0)
    }
    /// The fields that make a row's key.
    pub fn key_fields(&self) -> &[String] {
        &self.keys
    }
    /// The key of a record, by this table's key fields.
    pub fn key_of<R: Fields + ?Sized>(&self, r: &R) -> Option<Key> {
        Key::of_row(r, &self.keys)
    }
    /// The columns new rows of this table should use.
    pub fn columns(&self) -> &Columns {
        &self.cols
    }
    /// A row of this table from a JSON object.
    pub fn row(&self, v: Value) -> Row {
        Row::from_value(&self.cols, v)
    }
    /// The current rows; cheap (one `Arc` clone) and stable while held.
    pub fn snapshot(&self) -> Arc<Rows> {
        self.data.read().clone()
    }
    pub fn len(&self) -> usize {
        self.data.read().len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn get(&self, k: &Key) -> Option<Row> {
        self.data.read().get(k).cloned()
    }
    /// Swap in a whole new table. The old rows are freed after the lock is released.
    pub fn replace(&self, rows: Rows) {
        let old = std::mem::replace(&mut *self.data.write(), Arc::new(rows));
        self.touch();
        drop(old);
    }
    /// Apply `f` to the rows under the write lock. `f` sees a private copy only if a
    /// reader still holds the previous snapshot; either way the change is published at once.
    pub fn update<R>(&self, f: impl FnOnce(&mut Rows) -> R) -> R {
        let mut g = self.data.write();
        self.touch();
        f(Arc::make_mut(&mut g))
    }
    /// A new integer key: one more than the largest integer key held or ever handed out
    /// (since the last [`Table::restart`]), starting at 1. Each call hands out a new one.
    pub fn next_int(&self) -> i64 {
        use std::sync::atomic::Ordering;
        let held = self
            .data
            .read()
            .keys()
            .rev()
            .find_map(|k| match k {
                Key::Int(i) => Some(*i + 1),
                _ => None,
            })
            .unwrap_or(1)
            .max(1);
        let mut next = held;
        let _ = self
            .issued
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |seen| {
                next = held.max(seen.saturating_add(1));
                Some(next)
            });
        next
    }

    /// Up to `limit` rows with key strictly after `after` (all rows from the start when `None`).
    pub fn page_after(&self, after: Option<&Key>, limit: usize) -> Page {
        let rows = self.snapshot();
        let lower = match after {
            Some(k) => Bound::Excluded(k.clone()),
            None => Bound::Unbounded,
        };
        let mut it = rows.range((lower, Bound::Unbounded));
        let mut items = Vec::with_capacity(limit.min(1024));
        let mut keys = Vec::with_capacity(limit.min(1024));
        for (k, v) in it.by_ref().take(limit) {
            keys.push(k.clone());
            items.push(v.clone());
        }
        let more_after = it.next().is_some();
        let more_before = match keys.first() {
            Some(first) => rows.range(..first.clone()).next_back().is_some(),
            None => after.is_some_and(|a| rows.range(..=a.clone()).next_back().is_some()),
        };
        Page {
            items,
            keys,
            more_before,
            more_after,
        }
    }

    /// Up to `limit` rows with key strictly before `before`, in ascending order.
    pub fn page_before(&self, before: &Key, limit: usize) -> Page {
        let rows = self.snapshot();
        let mut it = rows.range(..before.clone()).rev();
        let mut pairs: Vec<(Key, Row)> = Vec::with_capacity(limit.min(1024));
        for (k, v) in it.by_ref().take(limit) {
            pairs.push((k.clone(), v.clone()));
        }
        let more_before = it.next().is_some();
        pairs.reverse();
        let more_after = rows
            .range((Bound::Included(before.clone()), Bound::Unbounded))
            .next()
            .is_some();
        let (keys, items) = pairs.into_iter().unzip();
        Page {
            items,
            keys,
            more_before,
            more_after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(n: i64) -> Table {
        let cols: Columns = Arc::from(vec!["id".to_string()]);
        let mut rows = Rows::new();
        for i in 1..=n {
            rows.insert(Key::Int(i), Row::from_value(&cols, json!({ "id": i })));
        }
        Table::new(cols, vec!["id".to_string()], rows)
    }

    #[test]
    fn rows_keep_columns_and_extra_fields() {
        let cols: Columns = Arc::from(vec!["id".to_string(), "name".to_string()]);
        let r = Row::from_value(&cols, json!({"name": "a", "id": 3, "other": true}));
        assert_eq!(r.field("id"), Some(&json!(3)));
        assert_eq!(r.field("other"), Some(&json!(true)));
        assert_eq!(r.field("missing"), None);
        assert_eq!(r.to_value(), json!({"id": 3, "name": "a", "other": true}));
        assert_eq!(
            Key::of_row(&r, &["id".to_string(), "name".to_string()]),
            Some(Key::Str("3/a".into()))
        );
        let u = Row::from_value(&cols, json!({"name": "b", "more": 1}));
        assert_eq!(
            r.merged(&u).to_value(),
            json!({"id": 3, "name": "b", "other": true, "more": 1})
        );
        let other_cols: Columns = Arc::from(vec!["name".to_string()]);
        let u = Row::from_value(&other_cols, json!({"name": "c"}));
        assert_eq!(r.merged(&u).field("name"), Some(&json!("c")));
    }

    #[test]
    fn keys_order_numerically() {
        assert!(Key::parse("9") < Key::parse("10"));
        assert!(Key::parse("10") < Key::parse("abc"));
        assert_eq!(Key::from_value(&json!("42")), Some(Key::Int(42)));
    }

    #[test]
    fn forward_pages_cover_everything_once() {
        let t = table(10);
        let mut seen = vec![];
        let mut after = None;
        loop {
            let p = t.page_after(after.as_ref(), 3);
            seen.extend(p.keys.clone());
            if !p.more_after {
                break;
            }
            after = p.keys.last().cloned();
        }
        assert_eq!(seen, (1..=10).map(Key::Int).collect::<Vec<_>>());
    }

    #[test]
    fn backward_pages_are_ascending_and_flag_ends() {
        let t = table(10);
        let p = t.page_before(&Key::Int(5), 3);
        assert_eq!(p.keys, vec![Key::Int(2), Key::Int(3), Key::Int(4)]);
        assert!(p.more_before && p.more_after);
        let p = t.page_before(&Key::Int(3), 5);
        assert_eq!(p.keys, vec![Key::Int(1), Key::Int(2)]);
        assert!(!p.more_before);
    }

    #[test]
    fn snapshot_survives_replace() {
        let t = table(3);
        let old = t.snapshot();
        t.replace(Rows::new());
        assert_eq!(old.len(), 3);
        assert!(t.is_empty());
        assert_eq!(t.next_int(), 1);
    }

    #[test]
    fn deleted_ids_are_not_handed_out_again() {
        let t = table(3);
        assert_eq!(t.next_int(), 4);
        t.update(|rows| {
            rows.remove(&Key::Int(3));
        });
        assert_eq!(t.next_int(), 5, "4 was handed out, 3 was deleted");
        t.restart();
        assert_eq!(t.next_int(), 3, "a reset device counts from its data again");
    }
}
