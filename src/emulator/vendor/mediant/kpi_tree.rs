//! The Mediant KPI tree served from the spec's `[data.kpi]` (§10 Performance Monitoring,
//! EP-20…33): application, group, entity, index and PM discovery, PM lists and single PMs,
//! under `/kpi/current` and `/kpi/history`.
//!
//! The spec language has no words for a browsable tree whose levels are read from nested
//! data, so this is part of the `mediant` vendor module. Paths are read with the KPI path
//! grammar ([`super::kpi_path::KpiPath`]); `/kpi` and `/kpi/interval` keep their documented
//! bodies.
//!
//! What it answers, and the decisions it applies:
//! * discovery and PM lists: `items`, plus a `cursor` object `{start, before, after, end}`
//!   whose values are item ids (names or indexes) and `"-1"` where nothing lies that way
//!   (`kpi-cursor-shape`); `after`/`before` are exclusive and items keep the data's order
//!   (`kpi-cursor-example-order`); `limit` gives the first N; `detailed=false` leaves out
//!   name, description and url; `kpi=` keeps only the items whose subtree holds that PM
//!   (`kpi-param-level`);
//! * a single PM: `{"items": [{id, name, description, url, value}]}` with the value as a
//!   string (`kpi-specific-pm-shape`); `interval=all` lists `{interval, value}` for every
//!   interval, most recent first; `interval=<idx>` and `last` pick one
//!   (`kpi-interval-on-current`: also on current URLs);
//! * an unknown application, group, entity or index, a bad query parameter or cursor: 400
//!   `kpi-bad-request` at the discovery and PM-list levels, 404 `kpi-invalid-path` at the
//!   single-PM level (`kpi-invalid-path-status`); nothing to list: 204
//!   `kpi-nothing-to-discover`; a single PM for an interval outside the collected ones, or
//!   with a bad query parameter: 204 `kpi-nothing-to-display` (`kpi-204-bad-request`);
//! * names compare case-sensitively unless the data says `case_sensitive = false`
//!   (`kpi-group-case`).

#![allow(clippy::result_large_err)] // early answers travel as `Err(Response)`, as in the engine

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::Response;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::kpi_path::{KpiPath, Member, Node, View};
use crate::emulator::engine::ctx::{empty_answer, invalid_paging, Ctx};
use crate::emulator::faults::FaultId;
use crate::emulator::render;
use crate::spec::model::Outcome;

/// `[data.kpi]`.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct KpiData {
    #[serde(default = "yes")]
    case_sensitive: bool,
    #[serde(default = "zero")]
    default_value: String,
    /// How PM values are written: `string` (the document's decision) or `number` (a JSON
    /// number, as devices that deviate answer).
    #[serde(default)]
    pm_value_type: PmValueType,
    #[serde(default = "yes")]
    detailed_default: bool,
    intervals: Intervals,
    answers: Answers,
    #[serde(default)]
    applications: Vec<App>,
}

/// [`KpiData::pm_value_type`].
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum PmValueType {
    #[default]
    String,
    Number,
}

/// `[data.kpi.answers]`: what each kind of failure answers (the codes are the spec's).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Answers {
    /// An unknown name, parameter or cursor at a discovery or PM-list level.
    list_invalid: Outcome,
    /// An unknown name at the single-PM level.
    single_invalid: Outcome,
    /// A single PM with nothing to show for the interval, or a bad parameter.
    nothing_to_display: Outcome,
}

fn yes() -> bool {
    true
}
fn zero() -> String {
    "0".into()
}

#[derive(Debug, Clone, Deserialize)]
struct Intervals {
    first_id: u32,
    last_id: u32,
}

#[derive(Debug, Clone, Deserialize)]
struct App {
    id: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    groups: Vec<Group>,
}

#[derive(Debug, Clone, Deserialize)]
struct Group {
    id: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    entities: Vec<Entity>,
}

#[derive(Debug, Clone, Deserialize)]
struct Entity {
    id: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    indexed: bool,
    /// PMs of a singular entity.
    #[serde(default)]
    pms: Vec<Pm>,
    /// PMs every index of an indexed entity has.
    #[serde(default)]
    pm_catalog: Vec<Pm>,
    #[serde(default)]
    indexes: Vec<Index>,
}

#[derive(Debug, Clone, Deserialize)]
struct Pm {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    /// Current value (singular entities).
    value: Option<String>,
    /// Value per interval id (singular entities).
    #[serde(default)]
    history: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
struct Index {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    values: BTreeMap<String, String>,
    /// PM -> interval id -> value.
    #[serde(default)]
    history: BTreeMap<String, BTreeMap<String, String>>,
}

impl Entity {
    fn pm_ids(&self) -> impl Iterator<Item = &str> {
        self.pms
            .iter()
            .chain(self.pm_catalog.iter())
            .map(|p| p.id.as_str())
    }
}

impl KpiData {
    /// The tree of `[data.kpi]`, its answers checked against the spec's codes.
    pub(super) fn from_toml(v: &toml::Value, spec: &crate::spec::Spec) -> Result<KpiData, String> {
        let d: KpiData = v.clone().try_into().map_err(|e| e.to_string())?;
        if d.intervals.first_id > d.intervals.last_id {
            return Err(format!(
                "intervals.first_id {} is after last_id {}",
                d.intervals.first_id, d.intervals.last_id
            ));
        }
        let a = &d.answers;
        for o in [&a.list_invalid, &a.single_invalid, &a.nothing_to_display] {
            if let Some(c) = o.code.as_deref().filter(|c| spec.code(c).is_none()) {
                return Err(format!(
                    "answers name the code `{c}`, which the spec does not define"
                ));
            }
        }
        Ok(d)
    }

    fn same(&self, a: &str, b: &str) -> bool {
        if self.case_sensitive {
            a == b
        } else {
            a.eq_ignore_ascii_case(b)
        }
    }

    fn find<'t, T>(&self, list: &'t [T], id: &str, key: impl Fn(&T) -> &str) -> Option<&'t T> {
        list.iter().find(|x| self.same(key(x), id))
    }
}

/// Which answer a failure gets: the list levels' 400, or the single-PM level's 404.
#[derive(Clone, Copy, PartialEq)]
enum Level {
    List,
    Single,
}

/// The interval a value is read for.
#[derive(Clone, Copy)]
enum Interval {
    Current,
    At(u32),
    All,
}

struct Req<'a, 'c> {
    ctx: &'a Ctx<'c>,
    data: &'a KpiData,
    here: String,
    detailed: bool,
}

impl Req<'_, '_> {
    fn fail(&self, level: Level, msg: &str) -> Response<Body> {
        let a = &self.data.answers;
        let o = match level {
            Level::List => &a.list_invalid,
            Level::Single => &a.single_invalid,
        };
        self.ctx.outcome(o, Some(msg))
    }

    fn nothing_to_display(&self) -> Response<Body> {
        self.ctx
            .outcome(&self.data.answers.nothing_to_display, None)
    }

    /// An empty list: the operation's empty outcome, or 200 with no items under the
    /// `empty-as-200` fault.
    fn nothing_to_list(&self) -> Response<Body> {
        empty_answer(self.ctx, None)
            .unwrap_or_else(|| json(200, &serde_json::json!({ "items": [] })))
    }

    /// An item with the detail fields `detailed=false` leaves out.
    fn item(
        &self,
        id: &str,
        detail: &[(&str, &str)],
        url: bool,
        rest: Map<String, Value>,
    ) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), Value::from(id));
        if self.detailed {
            for (k, v) in detail {
                m.insert((*k).into(), Value::from(*v));
            }
            if url {
                m.insert("url".into(), Value::from(format!("{}/{id}", self.here)));
            }
        }
        m.extend(rest);
        Value::Object(m)
    }

    /// A PM value as the data says values are written.
    fn shown(&self, v: String) -> Value {
        match (self.data.pm_value_type, v.parse::<f64>()) {
            (PmValueType::Number, Ok(n)) => serde_json::Number::from_f64(n)
                .map(|n| match v.parse::<i64>() {
                    Ok(i) => Value::from(i),
                    Err(_) => Value::Number(n),
                })
                .unwrap_or(Value::String(v)),
            _ => Value::String(v),
        }
    }

    fn value(
        &self,
        current: Option<&str>,
        history: Option<&BTreeMap<String, String>>,
        at: Interval,
    ) -> String {
        let d = &self.data.default_value;
        match at {
            Interval::Current | Interval::All => current.unwrap_or(d).to_string(),
            Interval::At(i) => history
                .and_then(|h| h.get(&i.to_string()))
                .map_or(d.clone(), |v| v.clone()),
        }
    }
}

/// The answer to a GET under `/kpi/current` or `/kpi/history`; `None` leaves the request
/// to the generic engine (`/kpi`, `/kpi/interval`).
pub(super) fn answer(ctx: &Ctx, data: &KpiData) -> Option<Response<Body>> {
    let template = ctx.ep.path.get_ref();
    if !(template.starts_with("/kpi/current") || template.starts_with("/kpi/history")) {
        return None;
    }
    let base = ctx.spec().base_of(ctx.ep).trim_end_matches('/').to_string();
    // Which level the template names decides the failure answer before the path parses:
    // an operation that never answers the list levels' failure is a single PM.
    let single_template = !data
        .answers
        .list_invalid
        .code
        .as_ref()
        .is_some_and(|code| ctx.op.codes.iter().any(|c| c.get_ref() == code));
    // A decoded `%2F` inside a parameter must not become a separator, nor a parameter
    // value another parameter's placeholder.
    let mut path = template.clone();
    let mut bad = None;
    for (k, v) in &ctx.params {
        if v.contains(['/', '{', '}']) {
            bad = Some(format!("the {k} segment `{v}` holds `/`, `{{` or `}}`"));
        }
        path = path.replace(&format!("{{{k}}}"), v);
    }
    let parsed = match bad {
        Some(why) => Err(why),
        None => KpiPath::parse(&path).map_err(|e| e.to_string()),
    };
    let (view, node) = match parsed {
        Ok(KpiPath::Tree(v, n)) => (v, n),
        Ok(_) => return None,
        Err(e) => {
            let level = if single_template {
                Level::Single
            } else {
                Level::List
            };
            let r = Req {
                ctx,
                data,
                here: String::new(),
                detailed: true,
            };
            return Some(r.fail(level, &e));
        }
    };
    // A value other than `true` or `false` is refused in `serve`.
    let detailed = ctx
        .query("detailed")
        .map_or(data.detailed_default, |d| d == "true");
    let req = Req {
        ctx,
        data,
        here: format!("{base}{path}"),
        detailed,
    };
    Some(serve(&req, view, &node))
}

fn serve(r: &Req, view: View, node: &Node) -> Response<Body> {
    let level = match node {
        Node::IndexedPm { .. } => Level::Single,
        Node::Member {
            member: Member::Pm(_),
            ..
        } => Level::Single,
        _ => Level::List,
    };
    let (app, group, entity) = match resolve(r, node, level) {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let at = match interval(r, view, level) {
        Ok(i) => i,
        Err(resp) => return resp,
    };
    if let Some(bad) = r
        .ctx
        .query
        .iter()
        .map(|(k, _)| k)
        .find(|k| !r.ctx.op.query.contains_key(k.as_str()))
    {
        return bad_query(r, level, &format!("unknown query parameter `{bad}`"));
    }
    if !matches!(r.ctx.query("detailed"), None | Some("true" | "false")) {
        return bad_query(r, level, "detailed is `true` or `false`");
    }
    let items: Vec<(String, Value)> = match node {
        Node::Applications => applications(r),
        Node::Groups { .. } => groups(r, app.expect("resolved")),
        Node::Entities { .. } => entities(r, group.expect("resolved")),
        Node::Entity { .. } => {
            let e = entity.expect("resolved");
            if e.indexed {
                // `?id=<idx>` lists only the entity of that index (L5444-5448).
                let only = r.ctx.query("id");
                e.indexes
                    .iter()
                    .filter(|_| holds(r, e))
                    .filter(|i| only.is_none_or(|o| r.data.same(&i.id, o)))
                    .map(|i| {
                        let detail = [
                            ("name", i.name.as_str()),
                            ("description", i.description.as_str()),
                        ];
                        (i.id.clone(), r.item(&i.id, &detail, true, Map::new()))
                    })
                    .collect()
            } else {
                pm_list(r, &e.pms, None, at)
            }
        }
        Node::Member { member, .. } => {
            return serve_member(r, entity.expect("resolved"), member, at)
        }
        Node::IndexedPm { index, pm, .. } => {
            let e = entity.expect("resolved");
            let d = r.data;
            let ix = e.indexes.iter().find(|x| e.indexed && d.same(&x.id, index));
            let def = d.find(&e.pm_catalog, pm, |x| &x.id);
            return match (ix, def) {
                (Some(ix), Some(def)) => single(r, def, Some(ix), at),
                _ => r.fail(
                    Level::Single,
                    &format!("no PM `{pm}` of index `{index}` in `{}`", e.id),
                ),
            };
        }
    };
    page(r, items)
}

/// What a path names, level by level.
type Resolved<'d> = (Option<&'d App>, Option<&'d Group>, Option<&'d Entity>);

/// Resolve the path down to what it names; an unknown name fails at `level`.
fn resolve<'d>(r: &Req<'d, '_>, node: &Node, level: Level) -> Result<Resolved<'d>, Response<Body>> {
    let d = r.data;
    let (app, group, entity) = match node {
        Node::Applications => (None, None, None),
        Node::Groups { app }
        | Node::Entities { app, .. }
        | Node::Entity { app, .. }
        | Node::Member { app, .. }
        | Node::IndexedPm { app, .. } => (Some(app), group_of(node), entity_of(node)),
    };
    let app = match app {
        Some(a) => match d.find(&d.applications, a, |x| &x.id) {
            Some(x) => Some(x),
            None => return Err(r.fail(level, &format!("no KPI application `{a}`"))),
        },
        None => None,
    };
    let group = match (app, group) {
        (Some(a), Some(g)) => match d.find(&a.groups, g, |x| &x.id) {
            Some(x) => Some(x),
            None => return Err(r.fail(level, &format!("no KPI group `{g}` in `{}`", a.id))),
        },
        _ => None,
    };
    let entity = match (group, entity) {
        (Some(g), Some(e)) => match d.find(&g.entities, e, |x| &x.id) {
            Some(x) => Some(x),
            None => return Err(r.fail(level, &format!("no KPI entity `{e}` in `{}`", g.id))),
        },
        _ => None,
    };
    Ok((app, group, entity))
}

/// Whether an entity holds the PM `kpi=` asks for (any entity does without `kpi=`).
fn holds(r: &Req, e: &Entity) -> bool {
    r.ctx
        .query("kpi")
        .is_none_or(|k| e.pm_ids().any(|p| r.data.same(p, k)))
}

/// The applications, each with its groups' ids.
fn applications(r: &Req) -> Vec<(String, Value)> {
    let kpi = r.ctx.query("kpi");
    r.data
        .applications
        .iter()
        .filter(|a| {
            a.groups
                .iter()
                .any(|g| g.entities.iter().any(|e| holds(r, e)))
                || kpi.is_none()
        })
        .map(|a| {
            let mut rest = Map::new();
            let groups: Vec<Value> = a
                .groups
                .iter()
                .map(|g| Value::from(g.id.as_str()))
                .collect();
            rest.insert("groups".into(), Value::Array(groups));
            (
                a.id.clone(),
                r.item(&a.id, &[("description", &a.description)], true, rest),
            )
        })
        .collect()
}

/// The groups of an application.
fn groups(r: &Req, app: &App) -> Vec<(String, Value)> {
    let kpi = r.ctx.query("kpi");
    app.groups
        .iter()
        .filter(|g| g.entities.iter().any(|e| holds(r, e)) || kpi.is_none())
        .map(|g| {
            (
                g.id.clone(),
                r.item(&g.id, &[("description", &g.description)], true, Map::new()),
            )
        })
        .collect()
}

/// The entities of a group.
fn entities(r: &Req, group: &Group) -> Vec<(String, Value)> {
    group
        .entities
        .iter()
        .filter(|e| holds(r, e))
        .map(|e| {
            (
                e.id.clone(),
                r.item(&e.id, &[("description", &e.description)], true, Map::new()),
            )
        })
        .collect()
}

/// The fifth level: the PM list of an index, or one PM of a singular entity.
fn serve_member(r: &Req, e: &Entity, member: &Member, at: Interval) -> Response<Body> {
    let d = r.data;
    match (member, e.indexed) {
        (Member::Index(i), true) => match d.find(&e.indexes, i, |x| &x.id) {
            Some(ix) => page(r, pm_list(r, &e.pm_catalog, Some(ix), at)),
            None => r.fail(Level::List, &format!("no index `{i}` of `{}`", e.id)),
        },
        (Member::Pm(p), false) => match d.find(&e.pms, p, |x| &x.id) {
            Some(pm) => single(r, pm, None, at),
            None => r.fail(Level::Single, &format!("no PM `{p}` in `{}`", e.id)),
        },
        (Member::Index(i), false) => r.fail(
            Level::Single,
            &format!("`{}` has no indexes, and no PM `{i}`", e.id),
        ),
        (Member::Pm(p), true) => r.fail(
            Level::Single,
            &format!("`{}` is indexed: `{p}` is not an index", e.id),
        ),
    }
}

fn group_of(n: &Node) -> Option<&String> {
    match n {
        Node::Entities { group, .. }
        | Node::Entity { group, .. }
        | Node::Member { group, .. }
        | Node::IndexedPm { group, .. } => Some(group),
        _ => None,
    }
}

fn entity_of(n: &Node) -> Option<&String> {
    match n {
        Node::Entity { entity, .. }
        | Node::Member { entity, .. }
        | Node::IndexedPm { entity, .. } => Some(entity),
        _ => None,
    }
}

/// A bad query parameter: 400 on lists; "nothing to display" on a single PM, whose answer
/// list has no 400 (decision `kpi-204-bad-request`).
fn bad_query(r: &Req, level: Level, msg: &str) -> Response<Body> {
    match level {
        Level::List => r.fail(Level::List, msg),
        Level::Single => r.nothing_to_display(),
    }
}

/// `?interval=`: an interval id, `last`, or (on a single PM) `all`.
fn interval(r: &Req, view: View, level: Level) -> Result<Interval, Response<Body>> {
    let iv = &r.data.intervals;
    let Some(q) = r.ctx.query("interval") else {
        return Ok(match view {
            View::Current => Interval::Current,
            View::History => Interval::At(iv.last_id),
        });
    };
    match q {
        "last" => Ok(Interval::At(iv.last_id)),
        "all" if level == Level::Single => Ok(Interval::All),
        _ => match q.parse::<u32>() {
            Ok(i) if q.bytes().all(|b| b.is_ascii_digit()) => {
                if (iv.first_id..=iv.last_id).contains(&i) {
                    Ok(Interval::At(i))
                } else if level == Level::Single {
                    Err(r.nothing_to_display())
                } else {
                    Err(r.nothing_to_list())
                }
            }
            _ => Err(bad_query(r, level, &format!("bad interval `{q}`"))),
        },
    }
}

/// The PM list of a singular entity (`index` None) or of one index.
fn pm_list(r: &Req, pms: &[Pm], index: Option<&Index>, at: Interval) -> Vec<(String, Value)> {
    let kpi = r.ctx.query("kpi");
    pms.iter()
        .filter(|p| kpi.is_none_or(|k| r.data.same(&p.id, k)))
        .map(|p| (p.id.clone(), pm_item(r, p, index, at, true)))
        .collect()
}

fn pm_item(r: &Req, p: &Pm, index: Option<&Index>, at: Interval, in_list: bool) -> Value {
    let (current, history) = match index {
        Some(ix) => (
            ix.values.get(&p.id).map(String::as_str),
            ix.history.get(&p.id),
        ),
        None => (p.value.as_deref(), Some(&p.history)),
    };
    let mut rest = Map::new();
    rest.insert("value".into(), r.shown(r.value(current, history, at)));
    let detail = [
        ("name", p.name.as_str()),
        ("description", p.description.as_str()),
    ];
    if in_list {
        r.item(&p.id, &detail, true, rest)
    } else {
        // A single PM's url is the request's own.
        let mut v = r.item(&p.id, &detail, false, rest);
        if r.detailed {
            if let Value::Object(m) = &mut v {
                let value = m.shift_remove("value");
                m.insert("url".into(), Value::from(r.here.as_str()));
                if let Some(value) = value {
                    m.insert("value".into(), value);
                }
            }
        }
        v
    }
}

/// One PM: its value, or with `interval=all` its value in every interval, newest first.
fn single(r: &Req, p: &Pm, index: Option<&Index>, at: Interval) -> Response<Body> {
    let items: Vec<Value> = match at {
        Interval::All => {
            let iv = &r.data.intervals;
            (iv.first_id..=iv.last_id)
                .rev()
                .map(|i| {
                    let history = match index {
                        Some(ix) => ix.history.get(&p.id),
                        None => Some(&p.history),
                    };
                    let mut m = Map::new();
                    m.insert("interval".into(), Value::from(i.to_string()));
                    m.insert(
                        "value".into(),
                        r.shown(r.value(None, history, Interval::At(i))),
                    );
                    Value::Object(m)
                })
                .collect()
        }
        _ => vec![pm_item(r, p, index, at, false)],
    };
    json(200, &serde_json::json!({ "items": items }))
}

fn json(status: u16, v: &Value) -> Response<Body> {
    render::raw(
        status,
        Some("application/json"),
        serde_json::to_vec(v).unwrap_or_default(),
    )
}

/// A bad cursor or limit: the pagination's own "invalid" answer, through the engine (which
/// also commits the `bad-cursor-500` fault).
fn bad_paging(r: &Req, msg: &str) -> Response<Body> {
    let ctx = r.ctx;
    match ctx
        .op
        .pagination
        .as_ref()
        .and_then(|p| ctx.spec().pagination(p.get_ref()))
    {
        Some(p) => invalid_paging(ctx, p, msg),
        None => r.fail(Level::List, msg),
    }
}

/// Cut a list to the page the cursor parameters ask for and add the cursor object.
fn page(r: &Req, items: Vec<(String, Value)>) -> Response<Body> {
    let ctx = r.ctx;
    let d = r.data;
    let sentinel = "-1";
    let pos = |name: &str, v: &str| -> Result<Option<usize>, Response<Body>> {
        if v == sentinel {
            return Ok(None);
        }
        match items.iter().position(|(id, _)| d.same(id, v)) {
            Some(i) => Ok(Some(i)),
            None => Err(bad_paging(
                r,
                &format!("`{name}={v}` names no item of this list"),
            )),
        }
    };
    let limit = match ctx.query("limit") {
        None => usize::MAX,
        Some(l) => match l.parse::<i64>() {
            Ok(n) if n > 0 => n as usize,
            _ => return bad_paging(r, &format!("limit `{l}` is not a positive integer")),
        },
    };
    let limit = if ctx.fault(FaultId::LimitIgnored) {
        usize::MAX
    } else {
        limit
    };
    let n = items.len();
    // The window as a half-open range of positions.
    let (from, to) = match (ctx.query("after"), ctx.query("before")) {
        (Some(a), _) => match pos("after", a) {
            Ok(None) => (n, n),
            Ok(Some(i)) => {
                let skip = usize::from(ctx.fault(FaultId::CursorSkipsItem));
                let from = (i + 1 + skip).min(n);
                (from, from.saturating_add(limit).min(n))
            }
            Err(resp) => return resp,
        },
        (None, Some(b)) => match pos("before", b) {
            Ok(None) => (0, 0),
            Ok(Some(i)) => (i.saturating_sub(limit), i),
            Err(resp) => return resp,
        },
        (None, None) => (0, limit.min(n)),
    };
    // Under the `empty-as-200` fault an empty page goes on to a 200 with its cursor.
    if from >= to {
        if let Some(resp) = empty_answer(ctx, None) {
            return resp;
        }
    }
    let end_mark = if ctx.fault(FaultId::MissingSentinel) {
        "0"
    } else {
        sentinel
    };
    let id_at = |i: usize| Value::from(items[i].0.as_str());
    let mark = Value::from(end_mark);
    let cursor = serde_json::json!({
        "start": if n > 0 { id_at(0) } else { mark.clone() },
        "before": if from < to && from > 0 { id_at(from) } else { mark.clone() },
        "after": if from < to && to < n { id_at(to - 1) } else { mark.clone() },
        "end": if n > 0 { id_at(n - 1) } else { mark.clone() },
    });
    let window: Vec<Value> = items
        .into_iter()
        .skip(from)
        .take(to.saturating_sub(from))
        .map(|(_, v)| v)
        .collect();
    json(
        200,
        &serde_json::json!({ "items": window, "cursor": cursor }),
    )
}
