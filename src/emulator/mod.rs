//! The reference emulator: one spec-driven HTTP server that behaves as each device would.
//!
//! An [`Emulator`] holds one [`ApiEmu`] per spec it serves. Requests go through the same
//! pipeline for every API (see `engine`): find the API by base path, match the endpoint
//! template, then run the spec's precedence checks (route, auth, method, role, state,
//! validation) in the spec's order, and finally apply the operation's effect to in-memory
//! tables. Behaviour comes from the spec; `vendor` holds the few hooks the spec language
//! cannot express yet.
//!
//! The control interface lives under [`CONTROL_PREFIX`] on the same port (see `control`),
//! so a proxy between runner and emulator passes it through like any other request.

mod body;
pub use crate::codec;
pub use crate::spec::check::check_value;
mod control;
mod engine;
pub mod faults;
pub mod kpi;
mod kpi_tree;
pub mod paging;
pub mod render;
pub mod server;
pub mod store;
pub(crate) mod vendor;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use indexmap::IndexMap;
use parking_lot::Mutex;
use serde_json::Value;

use crate::spec::model::{AuthScheme, FieldType, Schema};
use crate::spec::Spec;
use faults::Faults;
use store::{Key, Rows, Table};

/// Reserved path prefix of the control interface.
pub use crate::contract::{CONTROL_PREFIX, DEFAULT_MAX_BODY};
/// Limit on the total uncompressed size of an uploaded zip archive.
pub const ZIP_MAX_TOTAL: u64 = 1 << 30;

pub use crate::contract::Account;

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("{api}: collection `{collection}`: seed row {index} is not a table: {message}")]
    Seed {
        api: String,
        collection: String,
        index: usize,
        message: String,
    },
    #[error("two specs named `{0}`")]
    Duplicate(String),
    #[error("{api}: [data.{name}] cannot be served: {message}")]
    Data {
        api: String,
        name: String,
        message: String,
    },
}

/// Path template segment.
#[derive(Debug, Clone)]
enum Seg {
    Lit(String),
    Param(String),
    /// A last parameter that takes the rest of the path, slashes included: one whose
    /// example holds a `/` (sipXconfig's setting paths).
    Rest(String),
}

#[derive(Debug, Clone)]
struct Route {
    endpoint: usize,
    segs: Vec<Seg>,
}

/// A job started by a request and polled until done.
#[derive(Debug, Clone)]
struct JobRun {
    job: String,
    polls_left: u32,
}

/// Mutable device state of one API besides its tables.
#[derive(Debug, Default)]
struct Device {
    states: BTreeSet<String>,
    jobs: HashMap<String, JobRun>,
    next_job: u64,
    /// Tokens issued by the Mediant auth-token action (web log-in, not REST): token -> expiry.
    tokens: HashMap<String, std::time::Instant>,
}

/// One API served by the emulator.
pub struct ApiEmu {
    pub spec: Spec,
    routes: Vec<Route>,
    tables: IndexMap<String, Table>,
    accounts: Vec<Account>,
    device: Mutex<Device>,
    /// Base paths, longest first.
    bases: Vec<String>,
    /// The Mediant KPI tree (`[data.kpi]`), served by the vendor module.
    kpi: Option<kpi_tree::KpiData>,
}

/// The emulator: the APIs it serves and the faults it commits.
pub struct Emulator {
    apis: Vec<ApiEmu>,
    faults: Faults,
    max_body: usize,
}

impl Emulator {
    pub fn new(specs: Vec<Spec>, faults: Faults) -> Result<Emulator, EmulatorError> {
        let mut apis = Vec::new();
        let mut seen = BTreeSet::new();
        for spec in specs {
            if !seen.insert(spec.name().to_string()) {
                return Err(EmulatorError::Duplicate(spec.name().to_string()));
            }
            apis.push(ApiEmu::new(spec)?);
        }
        Ok(Emulator {
            apis,
            faults,
            max_body: DEFAULT_MAX_BODY,
        })
    }

    /// Refuse request bodies above `bytes` where an operation documents no limit.
    pub fn with_max_body(mut self, bytes: usize) -> Emulator {
        self.max_body = bytes;
        self
    }

    /// The bundled specs (`all`) or one of them, loaded from the specs directory.
    pub fn apis(&self) -> impl Iterator<Item = &ApiEmu> {
        self.apis.iter()
    }
    pub fn api(&self, name: &str) -> Option<&ApiEmu> {
        self.apis.iter().find(|a| a.spec.name() == name)
    }
    pub fn faults(&self) -> &Faults {
        &self.faults
    }
    /// Every account of every API.
    pub fn accounts(&self) -> Vec<Account> {
        self.apis
            .iter()
            .flat_map(|a| a.accounts.iter().cloned())
            .collect()
    }

    /// The names of the APIs served, in order.
    pub fn api_names(&self) -> Vec<String> {
        self.apis.iter().map(|a| a.name().to_string()).collect()
    }

    /// An axum router serving this emulator.
    pub fn router(self: Arc<Self>) -> axum::Router {
        axum::Router::new().fallback(engine::entry).with_state(self)
    }

    /// Handle one request in-process (no socket).
    pub async fn handle(
        &self,
        req: axum::http::Request<axum::body::Body>,
    ) -> axum::http::Response<axum::body::Body> {
        engine::handle(self, req).await
    }

    /// Put every table back to its seed and leave every device state.
    pub fn reset(&self) -> Result<(), EmulatorError> {
        for a in &self.apis {
            a.reseed()?;
            *a.device.lock() = Device::default();
        }
        Ok(())
    }
}

impl ApiEmu {
    fn new(spec: Spec) -> Result<ApiEmu, EmulatorError> {
        let mut routes = Vec::new();
        for (i, ep) in spec.endpoints().enumerate() {
            let mut templates = vec![spec.full_path(ep)];
            let base = spec.base_of(ep).trim_end_matches('/').to_string();
            templates.extend(ep.aliases.iter().map(|a| format!("{base}{a}")));
            for t in templates {
                let mut segs = parse_template(&t);
                if let Some(Seg::Param(p)) = segs.last().cloned() {
                    let multi = ep.params.get(&p).is_some_and(|x| {
                        x.spec()
                            .example
                            .as_ref()
                            .and_then(|e| e.as_str().map(|s| s.contains('/')))
                            .unwrap_or(false)
                    });
                    if multi {
                        *segs.last_mut().expect("non-empty") = Seg::Rest(p);
                    }
                }
                routes.push(Route { endpoint: i, segs });
            }
        }
        // Literal segments win over parameters at the first place two routes differ.
        routes.sort_by_key(|r| std::cmp::Reverse(specificity(&r.segs)));
        let mut bases: Vec<String> = spec
            .api()
            .bases
            .values()
            .map(|b| b.trim_end_matches('/').to_string())
            .collect();
        bases.sort_by_key(|b| std::cmp::Reverse(b.len()));
        let accounts = spec
            .roles_by_rank()
            .into_iter()
            .map(|r| {
                let role = r.name.get_ref().clone();
                let user = r.user.clone().unwrap_or_else(|| role.clone());
                let bearer = spec.auth().scheme == AuthScheme::Bearer;
                let secret = if bearer {
                    format!("dialtone-{}-{}-token", spec.name(), role)
                } else {
                    format!("{user}-dialtone")
                };
                Account {
                    api: spec.name().to_string(),
                    role,
                    user,
                    secret,
                    bearer,
                }
            })
            .collect();
        let kpi = match (spec.api().vendor_module.as_deref(), spec.data("kpi")) {
            (Some("mediant"), Some(v)) => {
                Some(kpi_tree::KpiData::from_toml(v, &spec).map_err(|message| {
                    EmulatorError::Data {
                        api: spec.name().to_string(),
                        name: "kpi".into(),
                        message,
                    }
                })?)
            }
            _ => None,
        };
        let emu = ApiEmu {
            routes,
            tables: IndexMap::new(),
            accounts,
            device: Mutex::new(Device::default()),
            bases,
            kpi,
            spec,
        };
        let mut emu = emu;
        let mut tables = IndexMap::new();
        for c in emu.spec.collections() {
            let schema = emu.spec.schema(c.schema.get_ref());
            let keys = emu.spec.collection_keys(c);
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
        emu.tables = tables;
        emu.reseed()?;
        Ok(emu)
    }

    pub fn name(&self) -> &str {
        self.spec.name()
    }

    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// A digest of everything a request can change: every table's rows (keys and values,
    /// in order), the device states, the running jobs and the live tokens. Two equal
    /// fingerprints mean (up to hash collisions) that nothing observable changed.
    pub fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for (name, table) in &self.tables {
            name.hash(&mut h);
            let rows = table.snapshot();
            rows.len().hash(&mut h);
            for (k, row) in rows.iter() {
                k.hash(&mut h);
                row.to_value().to_string().hash(&mut h);
            }
        }
        let d = self.device.lock();
        d.states.hash(&mut h);
        let mut jobs: Vec<_> = d
            .jobs
            .iter()
            .map(|(k, j)| (k, &j.job, j.polls_left))
            .collect();
        jobs.sort();
        jobs.hash(&mut h);
        d.next_job.hash(&mut h);
        d.tokens.len().hash(&mut h);
        h.finish()
    }

    /// The names of this API's tables.
    pub fn table_names(&self) -> impl Iterator<Item = &str> {
        self.tables.keys().map(String::as_str)
    }

    /// Rows of a collection (for tests and the control interface).
    pub fn table(&self, collection: &str) -> Option<&Table> {
        self.tables.get(collection)
    }

    /// Active device states.
    pub fn states(&self) -> Vec<String> {
        self.device.lock().states.iter().cloned().collect()
    }

    /// Enter (`on`) or leave a device state; false if the spec has no such state.
    pub fn set_state(&self, name: &str, on: bool) -> bool {
        if !self.spec.states().any(|s| s.name.get_ref() == name) {
            return false;
        }
        let mut d = self.device.lock();
        if on {
            d.states.insert(name.to_string());
        } else {
            d.states.remove(name);
        }
        true
    }

    /// Key fields of a collection: its `key`, else the schema's key fields.
    fn key_fields(&self, collection: &str) -> &[String] {
        self.tables
            .get(collection)
            .map(|t| t.key_fields())
            .unwrap_or(&[])
    }

    fn collection_schema(&self, collection: &str) -> Option<&Schema> {
        self.spec
            .collection(collection)
            .and_then(|c| self.spec.schema(c.schema.get_ref()))
    }

    fn reseed(&self) -> Result<(), EmulatorError> {
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
                let k = table.key_of(&v).unwrap_or(Key::Int(i as i64 + 1));
                rows.insert(k, table.row(v));
            }
            table.replace(rows);
        }
        Ok(())
    }

    /// Fill a collection with `count` generated rows modelled on its seed rows; key fields
    /// take the values 1..=count. Returns false for an unknown collection.
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
    fn numbered_key(&self, collection: &str, field: &str, n: i64) -> Value {
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

fn parse_template(t: &str) -> Vec<Seg> {
    t.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                Seg::Param(s[1..s.len() - 1].to_string())
            } else {
                Seg::Lit(s.to_string())
            }
        })
        .collect()
}

fn specificity(segs: &[Seg]) -> Vec<u8> {
    segs.iter()
        .map(|s| match s {
            Seg::Lit(_) => 2,
            Seg::Param(_) => 1,
            Seg::Rest(_) => 0,
        })
        .collect()
}
