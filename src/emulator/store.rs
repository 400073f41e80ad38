//! In-memory tables behind the emulator's collections.
//!
//! A table is an ordered map from [`Key`] to a row. Rows are `Arc`ed JSON objects so a
//! page can be cut without copying the table. Every table sits behind a lock holding an
//! `Arc` of its data: a replace builds the new map aside and swaps it in with one store, so
//! a reader sees the old table or the new one, never a mix. Cursor pages are range scans,
//! so their cost depends on the page size, not on the size of the table.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use parking_lot::RwLock;
use serde_json::Value;

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
    pub fn of_row(row: &Value, fields: &[String]) -> Option<Key> {
        match fields {
            [] => None,
            [one] => row.get(one).and_then(Key::from_value),
            many => {
                let mut parts = Vec::with_capacity(many.len());
                for f in many {
                    parts.push(scalar_text(row.get(f)?)?);
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

/// Text of a JSON scalar; `None` for objects, arrays and null.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub type Rows = BTreeMap<Key, Arc<Value>>;

/// One collection's rows.
#[derive(Debug, Default)]
pub struct Table {
    data: RwLock<Arc<Rows>>,
}

/// A page cut from a table, with whether items exist before and after it.
#[derive(Debug)]
pub struct Page {
    pub items: Vec<Arc<Value>>,
    pub keys: Vec<Key>,
    pub more_before: bool,
    pub more_after: bool,
}

impl Table {
    pub fn new(rows: Rows) -> Table {
        Table {
            data: RwLock::new(Arc::new(rows)),
        }
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
    pub fn get(&self, k: &Key) -> Option<Arc<Value>> {
        self.data.read().get(k).cloned()
    }
    /// Swap in a whole new table.
    pub fn replace(&self, rows: Rows) {
        *self.data.write() = Arc::new(rows);
    }
    /// Apply `f` to the rows under the write lock. `f` sees a private copy only if a
    /// reader still holds the previous snapshot; either way the change is published at once.
    pub fn update<R>(&self, f: impl FnOnce(&mut Rows) -> R) -> R {
        let mut g = self.data.write();
        f(Arc::make_mut(&mut g))
    }
    /// Next integer key: one more than the largest integer key, starting at 1.
    pub fn next_int(&self) -> i64 {
        self.data
            .read()
            .keys()
            .rev()
            .find_map(|k| match k {
                Key::Int(i) => Some(*i + 1),
                _ => None,
            })
            .unwrap_or(1)
            .max(1)
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
        let mut pairs: Vec<(Key, Arc<Value>)> = Vec::with_capacity(limit.min(1024));
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
        let mut rows = Rows::new();
        for i in 1..=n {
            rows.insert(Key::Int(i), Arc::new(json!({ "id": i })));
        }
        Table::new(rows)
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
}
