//! Mutations of one field of a JSON or XML body: the body is read as a tree, the value at
//! a path is edited, and the tree is written back in the body's format.

use serde_json::{Map, Value};

use super::{Draft, FieldOp, Fmt, Kind};

/// The body as a tree, with how to write it back.
enum Tree {
    Json(Value),
    Xml(String, Value),
}

fn read_tree(d: &Draft) -> Option<Tree> {
    let b = d.body.as_deref()?;
    match d.format() {
        Fmt::Json => crate::codec::from_json(b).ok().map(Tree::Json),
        Fmt::Xml => crate::codec::from_xml(b)
            .ok()
            .map(|(root, v)| Tree::Xml(root, v)),
        _ => None,
    }
}

/// Every path to a value in `v` (objects and arrays), parents before children; at most a
/// few hundred.
pub(super) fn tree_paths(d: &Draft) -> Vec<Vec<String>> {
    let Some(t) = read_tree(d) else {
        return vec![];
    };
    let v = match &t {
        Tree::Json(v) | Tree::Xml(_, v) => v,
    };
    let mut out = Vec::new();
    fn walk(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        if out.len() > 300 || at.len() > 12 {
            return;
        }
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    at.push(k.clone());
                    out.push(at.clone());
                    walk(x, at, out);
                    at.pop();
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate().take(3) {
                    at.push(i.to_string());
                    out.push(at.clone());
                    walk(x, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }
    walk(v, &mut Vec::new(), &mut out);
    out
}

/// `op` done to the value at `path` in the body's tree, and the tree written back.
pub(super) fn edit(d: &mut Draft, path: &[String], op: &FieldOp) {
    let Some(mut t) = read_tree(d) else { return };
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    let root = match &mut t {
        Tree::Json(v) | Tree::Xml(_, v) => v,
    };
    let mut cur = root;
    for k in parent {
        cur = match cur {
            Value::Object(o) => match o.get_mut(k) {
                Some(x) => x,
                None => return,
            },
            Value::Array(a) => match k.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(x) => x,
                None => return,
            },
            _ => return,
        };
    }
    let mut duplicate_key: Option<(String, Value)> = None;
    match cur {
        Value::Object(o) => {
            let Some(old) = o.get(last).cloned() else {
                return;
            };
            match op {
                FieldOp::Drop => {
                    o.shift_remove(last);
                }
                FieldOp::Rename(n) => {
                    let v = o.shift_remove(last).unwrap_or(Value::Null);
                    o.insert(n.clone(), v);
                }
                FieldOp::Duplicate => duplicate_key = Some((last.clone(), old)),
                other => {
                    o.insert(last.clone(), changed(old, other));
                }
            }
        }
        Value::Array(a) => {
            let Some(i) = last.parse::<usize>().ok().filter(|i| *i < a.len()) else {
                return;
            };
            match op {
                FieldOp::Drop => {
                    a.remove(i);
                }
                FieldOp::Duplicate => {
                    let v = a[i].clone();
                    a.insert(i, v);
                }
                FieldOp::Rename(_) => {}
                other => a[i] = changed(a[i].clone(), other),
            }
        }
        _ => return,
    }
    d.body = Some(write_back(&t, parent, duplicate_key));
}

/// The tree as body bytes again. `duplicate` is a key of the object at `parent` to
/// write twice, with its old value first.
fn write_back(t: &Tree, parent: &[String], duplicate: Option<(String, Value)>) -> Vec<u8> {
    match t {
        Tree::Json(v) => {
            let mut s = serde_json::to_string(v).unwrap_or_default();
            if let Some((k, old)) = duplicate {
                // A JSON object cannot hold a key twice; the text can.
                let key = serde_json::to_string(&k).unwrap_or_default();
                let needle = format!("{key}:");
                if let Some(i) = s.find(&needle) {
                    let extra = format!(
                        "{needle}{},",
                        serde_json::to_string(&old).unwrap_or_default()
                    );
                    s.insert_str(i, &extra);
                }
            }
            s.into_bytes()
        }
        Tree::Xml(root, v) => {
            let mut v = v.clone();
            if let Some((k, old)) = duplicate {
                // A repeated element is an array in the tree.
                if let Some(o) = walk_mut(&mut v, parent).and_then(Value::as_object_mut) {
                    o.insert(k, Value::Array(vec![old.clone(), old]));
                }
            }
            crate::codec::to_xml(root, &v).into_bytes()
        }
    }
}

fn walk_mut<'v>(mut v: &'v mut Value, path: &[String]) -> Option<&'v mut Value> {
    for k in path {
        v = match v {
            Value::Object(o) => o.get_mut(k)?,
            Value::Array(a) => a.get_mut(k.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

fn changed(old: Value, op: &FieldOp) -> Value {
    match op {
        FieldOp::Nest => {
            let mut m = Map::new();
            m.insert("value".into(), old);
            Value::Object(m)
        }
        FieldOp::Type(k) => match k {
            Kind::String => Value::String(match &old {
                Value::String(s) => format!("{s}x"),
                other => other.to_string(),
            }),
            Kind::Number => match &old {
                Value::Number(_) => Value::from(-1.5e300),
                _ => Value::from(12345),
            },
            Kind::Bool => Value::Bool(true),
            Kind::Null => Value::Null,
            Kind::Array => Value::Array(vec![old]),
            Kind::Object => {
                let mut m = Map::new();
                m.insert("dialtone".into(), old);
                Value::Object(m)
            }
        },
        FieldOp::Empty => match old {
            Value::Array(_) => Value::Array(vec![]),
            Value::Object(_) => Value::Object(Map::new()),
            _ => Value::String(String::new()),
        },
        FieldOp::Huge(n) => Value::String("A".repeat(*n)),
        FieldOp::LongArray(n) => Value::Array(vec![old; *n]),
        FieldOp::Unicode => Value::String("dïälτöñé ☎ 𝄞 \u{202e}".into()),
        FieldOp::Drop | FieldOp::Duplicate | FieldOp::Rename(_) => old,
    }
}
