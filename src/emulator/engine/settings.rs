//! Endpoints that serve a settings tree from `[data]` (`settings = { data, at, path }`):
//! sipXconfig's setting paths. GET of a leaf answers the bare setting, of an inner path
//! (or of the whole tree) the settings under it in a wrapped list; PUT sets a value (a
//! text body on a path, or `{path, value}` items on the tree), checked against the
//! setting's type first; DELETE reverts to `defaultValue`. Unknown ids and paths answer
//! "no such object". Changed values live in the device state until a reset.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::Response;
use serde_json::{Map, Value};

use super::ctx::{Ctx, Parsed};
use crate::codec;
use crate::emulator::render::{self, Fmt};
use crate::spec::model::SettingsTree;

/// One setting of the tree as it stands: its data entry and current value.
struct Setting<'a> {
    entry: &'a toml::Table,
    path: String,
    value: Option<String>,
}

impl Setting<'_> {
    fn text(&self, key: &str) -> Option<String> {
        self.entry.get(key).map(text)
    }
    /// The option values of an enum setting.
    fn options(&self) -> Vec<&str> {
        self.entry
            .get("options")
            .and_then(toml::Value::as_table)
            .map(|t| t.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }
}

fn text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What the setting path names: the whole tree, one leaf, or the leaves under an inner
/// path (indexes into the tree).
enum Selected {
    All,
    Leaf(usize),
    Under(Vec<usize>),
}

/// The answer of a request to a settings endpoint, or `None` for a method the tree does
/// not handle (it gets the operation's usual answer).
pub(super) fn answer(
    ctx: &Ctx,
    tree: &SettingsTree,
    parsed: &Parsed,
    fmt: Option<(Fmt, String)>,
) -> Option<Response<Body>> {
    let method = ctx.op.method.get_ref().as_str();
    if !matches!(method, "GET" | "PUT" | "DELETE") {
        return None;
    }
    let Some((id, entries)) = resolve(ctx, tree) else {
        return Some(ctx.not_found());
    };
    let mut device = ctx.api.device.lock();
    let changed = device.settings.entry(id).or_default();
    let settings: Vec<Setting> = entries
        .iter()
        .filter_map(toml::Value::as_table)
        .filter_map(|e| {
            let path = e.get("path").map(text)?;
            let value = match changed.get(&path) {
                Some(v) => v.clone(),
                None => e.get("value").map(text),
            };
            Some(Setting {
                entry: e,
                path,
                value,
            })
        })
        .collect();
    let Some(selected) = select(ctx, tree, &settings) else {
        return Some(ctx.not_found());
    };
    let targets: Vec<usize> = match &selected {
        Selected::All => (0..settings.len()).collect(),
        Selected::Leaf(i) => vec![*i],
        Selected::Under(v) => v.clone(),
    };
    Some(match method {
        "GET" => read(ctx, tree, &settings, &selected, fmt),
        "DELETE" => {
            for &i in &targets {
                changed.insert(settings[i].path.clone(), settings[i].text("defaultValue"));
            }
            ctx.outcome(&ctx.success(), None)
        }
        _ => match write(&settings, &targets, &selected, parsed) {
            Ok(new) => {
                changed.extend(new);
                ctx.outcome(&ctx.success(), None)
            }
            Err(why) => ctx.reject(&why),
        },
    })
}

/// The tree's identity (`data:at` with the parameters filled in) and its entries, if the
/// request's parameters lead to one.
fn resolve<'a>(ctx: &'a Ctx, tree: &SettingsTree) -> Option<(String, &'a Vec<toml::Value>)> {
    let mut v = ctx.spec().data(&tree.data)?;
    let mut keys = Vec::new();
    for k in tree.at.split('.') {
        let key = match k.strip_prefix('{').and_then(|k| k.strip_suffix('}')) {
            Some(p) => ctx.param(p)?.to_string(),
            None => k.to_string(),
        };
        v = v.get(&key)?;
        keys.push(key);
    }
    Some((format!("{}:{}", tree.data, keys.join(".")), v.as_array()?))
}

/// The settings the request's setting path names; `None` when it names none.
fn select(ctx: &Ctx, tree: &SettingsTree, settings: &[Setting]) -> Option<Selected> {
    let Some(p) = tree.path.as_deref().and_then(|p| ctx.param(p)) else {
        return Some(Selected::All);
    };
    let p = p.trim_matches('/');
    if let Some(i) = settings.iter().position(|s| s.path == p) {
        return Some(Selected::Leaf(i));
    }
    let under: Vec<usize> = (0..settings.len())
        .filter(|&i| {
            settings[i]
                .path
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('/'))
        })
        .collect();
    (!under.is_empty()).then_some(Selected::Under(under))
}

/// A setting as answered: the response schema's fields in order (absent ones null), with
/// the current value; an enum option's empty label is null.
fn render_one(ctx: &Ctx, s: &Setting) -> Value {
    let schema = ctx.response_schema();
    let names: Vec<String> = match schema {
        Some(sc) => sc.field.iter().map(|f| f.name.get_ref().clone()).collect(),
        None => s.entry.keys().cloned().collect(),
    };
    let mut out = Map::new();
    for n in names {
        let v = match n.as_str() {
            "value" => s.value.clone().map_or(Value::Null, Value::String),
            "options" => match s.entry.get("options").and_then(toml::Value::as_table) {
                Some(t) => Value::Object(
                    t.iter()
                        .map(|(k, l)| {
                            let l = text(l);
                            let l = if l.is_empty() {
                                Value::Null
                            } else {
                                Value::String(l)
                            };
                            (k.clone(), l)
                        })
                        .collect(),
                ),
                None => Value::Null,
            },
            _ => s.text(&n).map_or(Value::Null, Value::String),
        };
        out.insert(n, v);
    }
    Value::Object(out)
}

/// GET: the bare leaf, or the wrapped list of the settings selected.
fn read(
    ctx: &Ctx,
    tree: &SettingsTree,
    settings: &[Setting],
    selected: &Selected,
    fmt: Option<(Fmt, String)>,
) -> Response<Body> {
    let (f, ct) = fmt.unwrap_or((Fmt::Json, "application/json".into()));
    let status = ctx.success().status;
    if let Selected::Leaf(i) = selected {
        let v = render_one(ctx, &settings[*i]);
        let bytes = match f {
            Fmt::Xml => codec::to_xml("setting", &v).into_bytes(),
            _ => serde_json::to_vec(&v).unwrap_or_default(),
        };
        return render::raw(status, Some(&ct), bytes);
    }
    let list: Vec<Value> = match selected {
        Selected::Under(v) => v.iter().map(|&i| render_one(ctx, &settings[i])).collect(),
        _ => settings.iter().map(|s| render_one(ctx, s)).collect(),
    };
    let w = tree.wrapper.as_str();
    let bytes = match f {
        Fmt::Xml => codec::to_xml(w, &serde_json::json!({ "setting": list })).into_bytes(),
        _ => serde_json::to_vec(&serde_json::json!({ w: list })).unwrap_or_default(),
    };
    render::raw(status, Some(&ct), bytes)
}

/// PUT: the new values, every one checked before any is kept. A text body sets the
/// setting(s) at the path (on the whole tree it names none, and changes nothing); items
/// set the settings their `path` names (an item naming none is ignored). The error is why
/// a value does not fit its setting's type.
fn write(
    settings: &[Setting],
    targets: &[usize],
    selected: &Selected,
    parsed: &Parsed,
) -> Result<BTreeMap<String, Option<String>>, String> {
    let mut new = BTreeMap::new();
    match parsed {
        Parsed::Raw(b) => {
            if matches!(selected, Selected::All) {
                return Ok(new);
            }
            let sent = String::from_utf8_lossy(b).trim().to_string();
            for &i in targets {
                let s = &settings[i];
                new.insert(s.path.clone(), fit(s, &sent)?);
            }
        }
        Parsed::Items(rows) => {
            for row in rows {
                let v = row.to_value();
                let path = v.get("path").and_then(Value::as_str).unwrap_or_default();
                // An item naming no setting of this tree changes nothing.
                let Some(s) = settings.iter().find(|s| s.path == path) else {
                    continue;
                };
                let sent = match v.get("value") {
                    Some(Value::String(t)) => t.clone(),
                    Some(Value::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                };
                new.insert(s.path.clone(), fit(s, sent.trim())?);
            }
        }
        Parsed::Nothing => {}
    }
    Ok(new)
}

/// The value to keep for `sent`, or why it does not fit the setting's type. Booleans
/// accept true/false/1/0 and keep the token style of the setting's own values; an empty
/// value clears a string setting.
fn fit(s: &Setting, sent: &str) -> Result<Option<String>, String> {
    let ty = s.text("type").unwrap_or_else(|| "string".into());
    let bad = || format!("`{sent}` is not a valid {ty} for setting `{}`", s.path);
    match ty.as_str() {
        "boolean" => {
            let on = match sent.to_ascii_lowercase().as_str() {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => return Err(bad()),
            };
            let digits = [s.value.clone(), s.text("defaultValue")]
                .iter()
                .flatten()
                .any(|v| v == "0" || v == "1");
            let token = match (digits, on) {
                (true, true) => "1",
                (true, false) => "0",
                (false, true) => "true",
                (false, false) => "false",
            };
            Ok(Some(token.into()))
        }
        "integer" if sent.parse::<i64>().is_err() => Err(bad()),
        "enum" if !s.options().contains(&sent) => Err(bad()),
        _ if sent.is_empty() && ty == "string" => Ok(None),
        _ => Ok(Some(sent.to_string())),
    }
}
