//! Lists of keyed records inside a record (a field of type `array` whose `schema` has a
//! key field: sipXconfig's permission settings, named by `name`). An update names the
//! records it changes by their key: a partial update changes only those, and the records'
//! server-assigned fields (a permission's `defaultValue`) keep their stored values.

use serde_json::{Map, Value};

use crate::emulator::store::scalar_text;
use crate::spec::model::Schema;
use crate::spec::Spec;

/// Write the keyed lists the update sends (`sent`) into `new`, merged with the stored
/// record `old`: every record sent must carry its schema's required fields (else the
/// error says which is missing), then each replaces the fields of the stored record with
/// its key, or is added. With `partial` the records not sent stay.
pub(super) fn merge_keyed_lists(
    spec: &Spec,
    schema: &Schema,
    old: &Value,
    sent: &Value,
    partial: bool,
    new: &mut Map<String, Value>,
) -> Result<(), String> {
    for f in &schema.field {
        let name = f.name.get_ref();
        let Some(sub) = f.schema.as_ref().and_then(|s| spec.schema(s.get_ref())) else {
            continue;
        };
        let keys: Vec<&str> = sub
            .field
            .iter()
            .filter(|x| x.key)
            .map(|x| x.name.get_ref().as_str())
            .collect();
        let Some(Value::Array(items)) = sent.get(name) else {
            continue;
        };
        if keys.is_empty() {
            continue;
        }
        let key_of = |r: &Value| -> Vec<Option<String>> {
            keys.iter()
                .map(|k| r.get(*k).and_then(scalar_text))
                .collect()
        };
        let stored: Vec<Value> = match old.get(name) {
            Some(Value::Array(a)) => a.clone(),
            _ => vec![],
        };
        let mut out = if partial { stored.clone() } else { vec![] };
        for (i, it) in items.iter().enumerate() {
            let Some(obj) = it.as_object() else {
                return Err(format!("field `{name}`: element {i} is not a record"));
            };
            let given = |n: &str| obj.get(n).is_some_and(|v| !v.is_null());
            if let Some(x) = sub
                .field
                .iter()
                .find(|x| x.required && !x.server_assigned && !given(x.name.get_ref()))
            {
                return Err(format!(
                    "field `{name}`: element {i} lacks required field `{}`",
                    x.name.get_ref()
                ));
            }
            let k = key_of(it);
            let mut rec = stored
                .iter()
                .find(|s| key_of(s) == k)
                .cloned()
                .unwrap_or_else(|| Value::Object(Map::new()));
            if let Some(r) = rec.as_object_mut() {
                for (fk, fv) in obj {
                    let read_only = sub
                        .field
                        .iter()
                        .any(|x| x.server_assigned && x.name.get_ref() == fk);
                    if !read_only {
                        r.insert(fk.clone(), fv.clone());
                    }
                }
            }
            match out.iter_mut().find(|s| key_of(s) == k) {
                Some(slot) => *slot = rec,
                None => out.push(rec),
            }
        }
        new.insert(name.clone(), Value::Array(out));
    }
    Ok(())
}
