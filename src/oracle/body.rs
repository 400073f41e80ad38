//! Success bodies: content type, parse, where the records sit, and each record against the
#![allow(clippy::result_large_err)] // a misplaced list travels as `Err(Finding)`, once per answer
//! response schema.

use serde_json::Value;

use super::{family, push, Answer, Finding, Oracle, Severity};
use crate::codec::get_path;
use crate::spec::check::normalise;
use crate::spec::item_name;
use crate::spec::model::*;

/// A parsed body: JSON as is, XML as `(root, content)`, CSV as rows.
pub(super) enum Tree {
    Json(Value),
    Xml(String, Value),
    Csv(Value),
}

impl Tree {
    /// The body as one value, XML under its root element (`{root: content}`); JSON and
    /// CSV are borrowed as they are.
    pub fn value(&self) -> std::borrow::Cow<'_, Value> {
        match self {
            Tree::Json(v) | Tree::Csv(v) => std::borrow::Cow::Borrowed(v),
            Tree::Xml(r, c) => std::borrow::Cow::Owned(serde_json::json!({ r: c })),
        }
    }
}

/// Parse a body of the content type family `fam`; `None` for kinds without structure.
pub(super) fn parse(fam: &str, body: &[u8]) -> Option<Result<Tree, String>> {
    Some(match fam {
        "json" => crate::codec::from_json(body)
            .map(Tree::Json)
            .map_err(|e| e.to_string()),
        "xml" => crate::codec::from_xml(body)
            .map(|(r, c)| Tree::Xml(r, c))
            .map_err(|e| e.to_string()),
        "csv" => crate::codec::from_csv(body)
            .map(|rows| Tree::Csv(Value::Array(rows.into_iter().map(Value::Object).collect())))
            .map_err(|e| e.to_string()),
        _ => return None,
    })
}

impl Oracle<'_> {
    /// A 2xx answer of `op`: its type, its parse, its records.
    pub(super) fn success(
        &self,
        op: &Operation,
        a: &Answer,
        parsed: Option<Result<Tree, String>>,
        out: &mut Vec<Finding>,
    ) {
        let Some(resp) = &op.response else { return };
        if a.status == 204 || (a.body.is_empty() && resp.schema.is_none()) {
            return;
        }
        let fam = family(a.content_type());
        let documented: Vec<String> = resp
            .content_types
            .iter()
            .filter(|c| *c != "none")
            .map(|c| family(c))
            .collect();
        if !documented.is_empty() && !documented.contains(&fam) {
            out.push(self.about_op(
                op,
                "content-type",
                "header:Content-Type",
                format!("one of {}", resp.content_types.join(", ")),
                Some(&Value::String(a.content_type().into())),
            ));
            return;
        }
        if resp.key_body {
            let text = String::from_utf8_lossy(a.body);
            let key = text.trim().trim_matches('"');
            if key.is_empty() || key.contains(char::is_whitespace) {
                out.push(self.about_op(
                    op,
                    "key-body",
                    "",
                    "the new record's key alone",
                    Some(&Value::String(text.into_owned())),
                ));
            }
            return;
        }
        let tree = match parsed {
            None => return,
            Some(Err(e)) => {
                out.push(self.about_op(op, "parse", "", format!("a well-formed {fam} body"), None));
                out.last_mut().expect("just pushed").value = Some(e);
                return;
            }
            Some(Ok(t)) => t,
        };
        self.envelope_of_success(op, resp, &tree, out);
        let Some(schema) = resp
            .schema
            .as_ref()
            .and_then(|s| self.spec.schema(s.get_ref()))
        else {
            return;
        };
        if self.empty_code(resp, &tree) {
            return;
        }
        let typed = matches!(tree, Tree::Json(_));
        match self.records(op, resp, schema, &tree) {
            Ok(records) => {
                for (path, r) in records {
                    self.record(schema, r, &path, typed, out);
                }
            }
            Err(f) => out.push(f),
        }
    }

    /// A success in an envelope that names a code field must carry its code.
    fn envelope_of_success(
        &self,
        op: &Operation,
        resp: &Response,
        tree: &Tree,
        out: &mut Vec<Finding>,
    ) {
        let Some(env) = resp
            .envelope
            .as_ref()
            .and_then(|e| self.spec.envelope(e.get_ref()))
        else {
            return;
        };
        let v = tree.value();
        for (what, path) in [("code", &env.code_path), ("message", &env.message_path)] {
            let Some(p) = path else { continue };
            if get_path(&v, p).is_none_or(|x| x.is_null()) {
                out.push(self.finding(
                    "envelope",
                    &pointer(p),
                    format!(
                        "the `{}` envelope carries its {what} at `{p}`",
                        env.name.get_ref()
                    ),
                    None,
                    format!("envelope {}", env.name.get_ref()),
                    env.provenance.describe(),
                ));
            }
        }
        let _ = op;
    }

    /// Whether the answer's envelope carries a code of class `empty` (no data to check).
    fn empty_code(&self, resp: &Response, tree: &Tree) -> bool {
        let env = resp
            .envelope
            .as_ref()
            .and_then(|e| self.spec.envelope(e.get_ref()));
        let Some(p) = env.and_then(|e| e.code_path.as_ref()) else {
            return false;
        };
        let v = tree.value();
        get_path(&v, p)
            .and_then(crate::spec::check::scalar_text)
            .is_some_and(|c| {
                self.spec.codes().any(|k| {
                    k.class == CodeClass::Empty && k.value.as_deref().unwrap_or(k.id.get_ref()) == c
                })
            })
    }

    /// The records of a success body and where each sits, as the response describes them.
    fn records<'t>(
        &self,
        op: &Operation,
        resp: &Response,
        schema: &Schema,
        tree: &'t Tree,
    ) -> Result<Vec<(String, &'t Value)>, Finding> {
        match tree {
            // A CSV without a header row naming the schema's fields cannot be read by name.
            Tree::Csv(rows) if !csv_named(schema, rows) => Ok(vec![]),
            Tree::Csv(rows) => Ok(elements("", rows)),
            Tree::Json(v) => match self.settings_shape(resp, v) {
                Some(other) => self.json_records(op, &other, v),
                None => self.json_records(op, resp, v),
            },
            Tree::Xml(root, c) => self.xml_records(op, resp, schema, root, c),
        }
    }

    /// A setting path of a settings tree answers one setting (a leaf) or the settings
    /// under it in the tree's wrapped list (an inner path): the shape the body has, when
    /// it is the other one than the response documents.
    fn settings_shape(&self, resp: &Response, v: &Value) -> Option<Response> {
        let tree = self.spec.endpoint(self.ep_id?)?.settings.as_ref()?;
        tree.path.as_ref()?;
        let list = v.get(&tree.wrapper).is_some_and(Value::is_array);
        (list != resp.many).then(|| Response {
            many: list,
            wrapper: list.then(|| tree.wrapper.clone()),
            ..resp.clone()
        })
    }

    fn json_records<'t>(
        &self,
        op: &Operation,
        resp: &Response,
        v: &'t Value,
    ) -> Result<Vec<(String, &'t Value)>, Finding> {
        let env = resp
            .envelope
            .as_ref()
            .and_then(|e| self.spec.envelope(e.get_ref()));
        let items = self.items_path(op);
        let (path, at) = match (
            resp.many,
            env.and_then(|e| e.data_path.as_ref()),
            &items,
            &resp.wrapper,
        ) {
            (true, Some(d), _, _) => (pointer(d), get_path(v, d)),
            // One record in an envelope's data: an absent one is a record with no fields.
            (false, Some(d), _, _) => (pointer(d), Some(get_path(v, d).unwrap_or(&EMPTY))),
            (true, None, Some(p), _) => (pointer(p), get_path(v, p)),
            (_, _, _, Some(w)) => (push("", w), v.get(w.as_str())),
            (true, None, None, None) if v.is_object() => ("/items".into(), v.get("items")),
            _ => (String::new(), Some(v)),
        };
        let Some(at) = at else {
            return Err(self.about_op(
                op,
                "shape",
                &path,
                format!(
                    "the {} sits at `{path}`",
                    if resp.many { "list" } else { "record" }
                ),
                None,
            ));
        };
        match (resp.many, at) {
            (true, Value::Array(_)) => Ok(elements(&path, at)),
            (true, other) => Err(self.about_op(
                op,
                "shape",
                &path,
                "a list of records (an array), not a single value",
                Some(other),
            )),
            (false, Value::Object(_)) => Ok(vec![(path, at)]),
            (false, other) => Err(self.about_op(
                op,
                "shape",
                &path,
                "one record (an object), not a list or a scalar",
                Some(other),
            )),
        }
    }

    fn xml_records<'t>(
        &self,
        op: &Operation,
        resp: &Response,
        schema: &Schema,
        root: &str,
        c: &'t Value,
    ) -> Result<Vec<(String, &'t Value)>, Finding> {
        let item = item_name(Some(schema));
        let element = |path: &str, want: &str, got: &str| {
            self.finding(
                "xml-element",
                path,
                format!("the element is `<{want}>`"),
                Some(&Value::String(format!("<{got}>"))),
                format!("schema {}", schema.name.get_ref()),
                schema.provenance.describe(),
            )
        };
        let top = push("", root);
        let env = resp
            .envelope
            .as_ref()
            .and_then(|e| self.spec.envelope(e.get_ref()));
        if let (false, Some(env), Some(d)) =
            (resp.many, env, env.and_then(|e| e.data_path.as_ref()))
        {
            // `response.data`: the first segment is the envelope's root.
            let want = env
                .root
                .clone()
                .filter(|r| r != "*")
                .unwrap_or_else(|| root.to_string());
            if root != want {
                return Err(element(&top, &want, root));
            }
            let inner = d.split_once('.').map(|(_, rest)| rest).unwrap_or(d);
            return Ok(vec![(pointer(d), get_path(c, inner).unwrap_or(&EMPTY))]);
        }
        if !resp.many {
            let want = resp.wrapper.clone().unwrap_or_else(|| item.clone());
            if root != want {
                return Err(element(&top, &want, root));
            }
            return Ok(vec![(top, c)]);
        }
        let (path, container) = match (self.items_path(op), &resp.wrapper) {
            (Some(p), _) => (format!("{top}{}", pointer(&p)), get_path(c, &p)),
            (None, Some(w)) if root == w => (top, Some(c)),
            (None, Some(w)) if root == item => (push(&top, w), c.get(w.as_str())),
            (None, Some(w)) => return Err(element(&top, w, root)),
            (None, None) if root == format!("{item}s") => (top, Some(c)),
            (None, None) => return Err(element(&top, &format!("{item}s"), root)),
        };
        let Some(container) = container else {
            return Err(self.about_op(op, "shape", &path, "the list of records is there", None));
        };
        match container {
            // An empty element: an empty list.
            Value::String(s) if s.trim().is_empty() => Ok(vec![]),
            Value::Object(o) => match o.get(&item) {
                Some(list @ Value::Array(_)) => Ok(elements(&push(&path, &item), list)),
                Some(one) => Ok(vec![(push(&path, &item), one)]),
                None if o.keys().all(|k| self.meta_keys(op).contains(k)) => Ok(vec![]),
                None => {
                    let got = o.keys().next().cloned().unwrap_or_default();
                    Err(element(&push(&path, &got), &item, &got))
                }
            },
            other => Err(self.about_op(
                op,
                "shape",
                &path,
                format!("a list of `<{item}>` elements"),
                Some(other),
            )),
        }
    }

    /// The top-level names of a list's paging fields (`metadata`, `size`, `start-row`).
    fn meta_keys(&self, op: &Operation) -> Vec<String> {
        op.pagination
            .as_ref()
            .and_then(|p| self.spec.pagination(p.get_ref()))
            .map(|p| {
                p.fields
                    .iter()
                    .filter(|(role, _)| *role != "items")
                    .filter_map(|(_, path)| path.split('.').next().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The path of a list's items, from the operation's pagination.
    fn items_path(&self, op: &Operation) -> Option<String> {
        op.pagination
            .as_ref()
            .and_then(|p| self.spec.pagination(p.get_ref()))
            .and_then(|p| p.fields.get("items").cloned())
    }

    /// One record against its schema. `typed`: JSON, where types are the value's own;
    /// otherwise (XML, CSV) every scalar is text and is read as its field's type.
    pub(super) fn record(
        &self,
        schema: &Schema,
        v: &Value,
        path: &str,
        typed: bool,
        out: &mut Vec<Finding>,
    ) {
        let rule = || format!("schema {}", schema.name.get_ref());
        let src = || schema.provenance.describe();
        let Some(obj) = v.as_object() else {
            if !typed && v.as_str().is_some_and(|s| s.trim().is_empty()) {
                // An empty XML element: a record with no fields.
                self.record(schema, &Value::Object(Default::default()), path, typed, out);
                return;
            }
            out.push(self.finding(
                "shape",
                path,
                "a record (an object)",
                Some(v),
                rule(),
                src(),
            ));
            return;
        };
        for f in &schema.field {
            let name = f.name.get_ref();
            let here = push(path, name);
            match obj.get(name).filter(|x| !x.is_null()) {
                Some(x) => self.field(schema, f, x, &here, typed, out),
                // XML and CSV leave an empty list out.
                None if !typed && f.ty == FieldType::Array => {}
                None if f.required => out.push(self.finding(
                    "required",
                    &here,
                    "a required field is present",
                    None,
                    rule(),
                    f.provenance.describe_or(&src()),
                )),
                None => {}
            }
        }
        let extra = self.extra_severity();
        if let Some(sev) = extra {
            for k in obj
                .keys()
                .filter(|k| !schema.field.iter().any(|f| f.name.get_ref() == *k))
            {
                let mut f = self.finding(
                    "extra-field",
                    &push(path, k),
                    "only the fields the schema lists",
                    obj.get(k),
                    rule(),
                    src(),
                );
                f.severity = sev;
                out.push(f);
            }
        }
    }

    /// How unlisted fields count in this run, if at all.
    fn extra_severity(&self) -> Option<Severity> {
        match (self.spec.api().extra_response_fields, self.mode.strict) {
            (ExtraFields::Allow, true) => None,
            (ExtraFields::Refuse, true) => Some(Severity::Breach),
            _ => Some(Severity::Note),
        }
    }

    /// One field's value: its JSON type (when typed), then the field-value oracle the
    /// emulator applies to request bodies (enumerations, ranges, lengths, formats).
    fn field(
        &self,
        schema: &Schema,
        f: &Field,
        x: &Value,
        path: &str,
        typed: bool,
        out: &mut Vec<Finding>,
    ) {
        let rule = || format!("schema {}", schema.name.get_ref());
        let src = || f.provenance.describe_or(&schema.provenance.describe());
        if typed {
            if let Some(want) = json_type_wanted(f, x) {
                out.push(self.finding("type", path, want, Some(x), rule(), src()));
                return;
            }
        }
        match f.ty {
            FieldType::Object => {
                if let Some(sub) = f
                    .schema
                    .as_ref()
                    .and_then(|s| self.spec.schema(s.get_ref()))
                {
                    self.record(sub, x, path, typed, out);
                }
            }
            FieldType::Array => {
                let each = f.element();
                let x = if typed { x } else { xml_list(&each, x) };
                let split: Vec<Value>;
                let list: Vec<&Value> = match x {
                    Value::Array(a) => a.iter().collect(),
                    Value::String(s) if s.trim().is_empty() => vec![],
                    // CSV joins a list's elements with `;`.
                    Value::String(s) if !typed && s.contains(';') => {
                        split = s.split(';').map(|p| Value::String(p.into())).collect();
                        split.iter().collect()
                    }
                    one => vec![one],
                };
                for (i, el) in list.into_iter().enumerate() {
                    self.field(schema, &each, el, &push(path, &i.to_string()), typed, out);
                }
            }
            FieldType::Any | FieldType::Binary => {}
            // An empty text is "not given"; whether that is allowed is `required`'s call.
            ty if (ty.is_texty() || ty == FieldType::Digits) && x.as_str() == Some("") => {}
            _ => {
                let mut v = x.clone();
                if let Err(e) = normalise(self.spec, f, &mut v) {
                    out.push(self.finding(constraint_kind(&e), path, e, Some(x), rule(), src()));
                }
            }
        }
    }
}

/// The record an envelope gives when its data is absent: one with no fields.
static EMPTY: std::sync::LazyLock<Value> =
    std::sync::LazyLock::new(|| Value::Object(Default::default()));

/// An XML list written as a wrapper element around its items (`<entries><entry/>…`):
/// the items.
fn xml_list<'v>(each: &Field, x: &'v Value) -> &'v Value {
    match x.as_object() {
        Some(o) if o.len() == 1 && each.ty == FieldType::Object => {
            let inner = o.values().next().expect("one entry");
            if inner.is_array() {
                inner
            } else {
                x
            }
        }
        _ => x,
    }
}

/// What a JSON value of field `f` must be, when `x` is not it.
fn json_type_wanted(f: &Field, x: &Value) -> Option<&'static str> {
    let ok = match f.ty {
        FieldType::Integer => x.is_i64() || x.is_u64(),
        FieldType::Number => x.is_number(),
        FieldType::Boolean => x.is_boolean(),
        FieldType::Object => x.is_object(),
        FieldType::Array => x.is_array(),
        FieldType::Any | FieldType::Binary => true,
        FieldType::Enum => x.is_string() || x.is_number() || x.is_boolean(),
        _ => x.is_string(),
    };
    (!ok).then_some(match f.ty {
        FieldType::Integer => "a JSON integer",
        FieldType::Number => "a JSON number",
        FieldType::Boolean => "a JSON boolean",
        FieldType::Object => "a JSON object",
        FieldType::Array => "a JSON array",
        FieldType::Enum => "a JSON scalar",
        _ => "a JSON string",
    })
}

/// The check a field-value message belongs to.
fn constraint_kind(message: &str) -> &'static str {
    if message.contains("allowed values") {
        "enum"
    } else if message.contains("length") {
        "length"
    } else if message.contains("range")
        || message.contains("minimum")
        || message.contains("maximum")
    {
        "range"
    } else if message.contains("not a valid") {
        "format"
    } else {
        "type"
    }
}

/// A dotted spec path as a JSON pointer: `Response.responseParam.rows` →
/// `/Response/responseParam/rows`.
pub(super) fn pointer(dotted: &str) -> String {
    dotted.split('.').fold(String::new(), |p, s| push(&p, s))
}

/// Whether a CSV's header row names at least one of the schema's fields.
fn csv_named(schema: &Schema, rows: &Value) -> bool {
    let first = rows
        .as_array()
        .and_then(|a| a.first())
        .and_then(Value::as_object);
    first.is_none_or(|r| {
        schema
            .field
            .iter()
            .any(|f| r.contains_key(f.name.get_ref()))
    })
}

/// The elements of an array with their pointers.
fn elements<'t>(path: &str, v: &'t Value) -> Vec<(String, &'t Value)> {
    v.as_array()
        .map(|a| {
            a.iter()
                .enumerate()
                .map(|(i, x)| (push(path, &i.to_string()), x))
                .collect()
        })
        .unwrap_or_default()
}
