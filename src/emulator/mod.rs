//! The reference emulator: one spec-driven HTTP server that behaves as each device would.
//!
//! An [`Emulator`] holds one [`ApiEmu`] per spec it serves. Requests go through the same
//! pipeline for every API (see `engine`): find the API by base path, match the endpoint
//! template, then run the spec's precedence checks (route, auth, method, role, state,
//! validation) in the spec's order, and finally apply the operation's effect to in-memory
//! tables. Behaviour comes from the spec; `vendor` holds the few hooks the spec language
//! cannot express yet, chosen once per API.
//!
//! The control interface lives under [`CONTROL_PREFIX`] on the same port (see `control`),
//! so a proxy between runner and emulator passes it through like any other request.

mod api;
mod body;
mod clients;
mod control;
mod engine;
pub mod faults;
pub mod paging;
pub mod render;
pub mod server;
pub mod store;
mod tables;
pub(crate) mod vendor;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use indexmap::IndexMap;
use parking_lot::Mutex;

use crate::spec::Spec;
use engine::route::Routes;
use faults::Faults;
use store::Table;
use vendor::VendorModule;

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
    /// Setting values changed from the seed, by settings tree (`data:at`) and setting path.
    settings: BTreeMap<String, BTreeMap<String, Option<String>>>,
}

impl Device {
    /// A device as it starts: no states, and for each job a finished transaction under
    /// the poll endpoint's example id (a transaction from before the run, so that a poll
    /// of the documented example reads its done answer). New jobs number after it.
    fn fresh(spec: &Spec) -> Device {
        let mut d = Device::default();
        for job in spec.jobs() {
            let Some(poll) = spec.endpoint(job.poll.get_ref()) else {
                continue;
            };
            let Some(id) = poll.params.values().find_map(|p| p.spec().example) else {
                continue;
            };
            let id = match &id {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            d.next_job = d.next_job.max(id.parse().unwrap_or(0));
            d.jobs.entry(id).or_insert(JobRun {
                job: job.name.get_ref().clone(),
                polls_left: 0,
            });
        }
        d
    }
}

/// Why a request body could not be read.
#[derive(Debug)]
pub(crate) enum BodyRead {
    /// Over the limit.
    TooLarge,
    /// Still arriving when the deadline passed.
    TooSlow(std::time::Duration),
    /// The client went away or sent a broken body.
    Broken(String),
}

/// One API served by the emulator.
pub struct ApiEmu {
    pub spec: Spec,
    routes: Routes,
    tables: IndexMap<String, Table>,
    accounts: Vec<Account>,
    device: Mutex<Device>,
    /// The API's vendor module (a no-op for most APIs).
    vendor: Box<dyn VendorModule>,
}

/// The emulator: the APIs it serves and the faults it commits.
pub struct Emulator {
    apis: Vec<ApiEmu>,
    faults: Faults,
    max_body: usize,
    /// The longest a request body may take to arrive: a slower one is cut with 408.
    body_deadline: std::time::Duration,
    /// The memory the items of one request may take, roughly; more is refused with 413.
    pub(crate) items_memory: usize,
    /// A list answer of more rows than this is streamed in chunks (`render::Streamed`)
    /// rather than built whole.
    pub(crate) stream_rows: usize,
}

/// Lists of more rows than this are streamed by default.
pub const STREAM_ROWS: usize = 1000;

/// The memory the items of one request may take by default: with the table it replaces
/// and the parser's buffers, a request stays under 1 GiB (a 1,000,000-route replace takes
/// about 360 MiB of this estimate; docs/performance.md).
pub const ITEMS_MEMORY: usize = 400 << 20;

/// How long a request body may take to arrive by default.
pub const BODY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

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
            body_deadline: BODY_DEADLINE,
            items_memory: ITEMS_MEMORY,
            stream_rows: STREAM_ROWS,
        })
    }

    /// Refuse request bodies above `bytes` where an operation documents no limit.
    pub fn with_max_body(mut self, bytes: usize) -> Emulator {
        self.max_body = bytes;
        self
    }

    /// Refuse (413) a request whose items would take more than `bytes` of memory.
    pub fn with_items_memory(mut self, bytes: usize) -> Emulator {
        self.items_memory = bytes;
        self
    }

    /// Stream list answers of more than `rows` rows (`usize::MAX`: never stream; the
    /// streamed body is byte for byte the one built whole).
    pub fn with_stream_rows(mut self, rows: usize) -> Emulator {
        self.stream_rows = rows;
        self
    }

    /// Cut request bodies that take longer than `d` to arrive (408, connection closed).
    pub fn with_body_deadline(mut self, d: std::time::Duration) -> Emulator {
        self.body_deadline = d;
        self
    }

    /// Read a request body of at most `limit` bytes within the body deadline.
    pub(crate) async fn read_limited(
        &self,
        body: axum::body::Body,
        limit: usize,
    ) -> Result<bytes::Bytes, BodyRead> {
        use http_body_util::{BodyExt, Limited};
        match tokio::time::timeout(self.body_deadline, Limited::new(body, limit).collect()).await {
            Err(_) => Err(BodyRead::TooSlow(self.body_deadline)),
            Ok(Ok(c)) => Ok(c.to_bytes()),
            Ok(Err(e))
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                Err(BodyRead::TooLarge)
            }
            Ok(Err(e)) => Err(BodyRead::Broken(e.to_string())),
        }
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
            *a.device.lock() = Device::fresh(&a.spec);
            a.vendor.reset();
        }
        Ok(())
    }
}

/// The tests whose rule the bundled emulator does not answer as documented yet, by test id
/// (`src/emulator/gaps.toml`). The harness hands them to the runner, which skips them
/// against the bundled emulator only.
pub fn known_gaps() -> indexmap::IndexMap<String, crate::contract::Gap> {
    #[derive(serde::Deserialize)]
    struct Gaps {
        #[serde(default)]
        gap: Vec<crate::contract::Gap>,
    }
    let g: Gaps = toml::from_str(include_str!("gaps.toml")).expect("src/emulator/gaps.toml parses");
    g.gap.into_iter().map(|g| (g.test.clone(), g)).collect()
}
