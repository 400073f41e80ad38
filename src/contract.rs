//! What a client and the emulator's control interface agree on, and nothing else.
//!
//! The runner and the network fuzzer build control requests with [`Control::path`]; the
//! emulator reads them back with [`Control::parse`]. Neither side imports the other: both
//! import this leaf module. The table of requests is in `docs/emulator.md`.

/// Where the emulator's control interface lives on its own port.
pub const CONTROL_PREFIX: &str = "/_dialtone";

/// The default cap on a request body, for the emulator and for what the runner sends.
pub const DEFAULT_MAX_BODY: usize = 64 << 20;

/// A throwaway account of the emulator: one per role of each API.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Account {
    pub api: String,
    pub role: String,
    pub user: String,
    /// Password (basic) or token (bearer). These accounts exist only in the emulator.
    pub secret: String,
    pub bearer: bool,
}

/// One request to the control interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control<'a> {
    /// `GET /_dialtone`: APIs, roles, states, faults, collection sizes.
    Overview,
    /// `POST /_dialtone/reset`: seed data back, every state left.
    Reset,
    /// `PUT /_dialtone/{api}/states/{state}`.
    EnterState { api: &'a str, state: &'a str },
    /// `DELETE /_dialtone/{api}/states/{state}`.
    LeaveState { api: &'a str, state: &'a str },
    /// `GET /_dialtone/{api}/collections/{name}`: `{"count": N}`.
    CountRows { api: &'a str, collection: &'a str },
    /// `PUT /_dialtone/{api}/collections/{name}` with a JSON array of objects.
    LoadRows { api: &'a str, collection: &'a str },
    /// `POST /_dialtone/{api}/collections/{name}/generate?count=N`. `count` is `None` when
    /// the query gives no whole number.
    Generate {
        api: &'a str,
        collection: &'a str,
        count: Option<u64>,
    },
    /// `GET /_dialtone/{api}/tokens/{token}`: `{"live": bool}`.
    TokenLive { api: &'a str, token: &'a str },
}

/// Why a request under [`CONTROL_PREFIX`] is not a control request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotControl {
    /// A collection path with a method it does not take.
    CollectionMethod,
    /// Nothing the interface knows.
    Unknown,
}

impl<'a> Control<'a> {
    /// The HTTP method of the request.
    pub fn method(&self) -> &'static str {
        match self {
            Control::Overview | Control::CountRows { .. } | Control::TokenLive { .. } => "GET",
            Control::Reset | Control::Generate { .. } => "POST",
            Control::EnterState { .. } | Control::LoadRows { .. } => "PUT",
            Control::LeaveState { .. } => "DELETE",
        }
    }

    /// The request target, prefix and query included.
    pub fn path(&self) -> String {
        let p = CONTROL_PREFIX;
        match self {
            Control::Overview => p.to_string(),
            Control::Reset => format!("{p}/reset"),
            Control::EnterState { api, state } | Control::LeaveState { api, state } => {
                format!("{p}/{api}/states/{state}")
            }
            Control::CountRows { api, collection } | Control::LoadRows { api, collection } => {
                format!("{p}/{api}/collections/{collection}")
            }
            Control::Generate {
                api,
                collection,
                count,
            } => format!(
                "{p}/{api}/collections/{collection}/generate?count={}",
                count.unwrap_or(0)
            ),
            Control::TokenLive { api, token } => format!("{p}/{api}/tokens/{token}"),
        }
    }

    /// Read a request back: `path` without its query, which is given apart.
    pub fn parse(
        method: &str,
        path: &'a str,
        query: Option<&str>,
    ) -> Result<Control<'a>, NotControl> {
        let rest = path
            .strip_prefix(CONTROL_PREFIX)
            .ok_or(NotControl::Unknown)?
            .trim_matches('/');
        let segs: Vec<&'a str> = if rest.is_empty() {
            vec![]
        } else {
            rest.split('/').collect()
        };
        let count = || {
            query?
                .split('&')
                .find_map(|p| p.strip_prefix("count="))?
                .parse::<u64>()
                .ok()
        };
        Ok(match (method, segs.as_slice()) {
            ("GET", []) => Control::Overview,
            ("POST", ["reset"]) => Control::Reset,
            ("PUT", [api, "states", state]) => Control::EnterState { api, state },
            ("DELETE", [api, "states", state]) => Control::LeaveState { api, state },
            ("GET", [api, "collections", collection]) => Control::CountRows { api, collection },
            ("PUT", [api, "collections", collection]) => Control::LoadRows { api, collection },
            ("POST", [api, "collections", collection, "generate"]) => Control::Generate {
                api,
                collection,
                count: count(),
            },
            (_, [_, "collections", ..]) => return Err(NotControl::CollectionMethod),
            ("GET", [api, "tokens", token]) => Control::TokenLive { api, token },
            _ => return Err(NotControl::Unknown),
        })
    }

    /// The API a request is about, if any.
    pub fn api(&self) -> Option<&'a str> {
        match *self {
            Control::Overview | Control::Reset => None,
            Control::EnterState { api, .. }
            | Control::LeaveState { api, .. }
            | Control::CountRows { api, .. }
            | Control::LoadRows { api, .. }
            | Control::Generate { api, .. }
            | Control::TokenLive { api, .. } => Some(api),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_reads_back_as_itself() {
        let all = [
            Control::Overview,
            Control::Reset,
            Control::EnterState {
                api: "rome",
                state: "ha-standby",
            },
            Control::LeaveState {
                api: "rome",
                state: "ha-standby",
            },
            Control::CountRows {
                api: "mediant",
                collection: "alarms",
            },
            Control::LoadRows {
                api: "mediant",
                collection: "alarms",
            },
            Control::Generate {
                api: "mediant",
                collection: "alarms",
                count: Some(40),
            },
            Control::TokenLive {
                api: "mediant",
                token: "abc",
            },
        ];
        for c in all {
            let full = c.path();
            let (path, query) = match full.split_once('?') {
                Some((p, q)) => (p, Some(q)),
                None => (full.as_str(), None),
            };
            assert_eq!(Control::parse(c.method(), path, query), Ok(c));
        }
        assert_eq!(
            Control::parse("DELETE", "/_dialtone/rome/collections/x", None),
            Err(NotControl::CollectionMethod)
        );
        assert_eq!(
            Control::parse("GET", "/_dialtone/nowhere", None),
            Err(NotControl::Unknown)
        );
        let g = Control::parse(
            "POST",
            "/_dialtone/a/collections/b/generate",
            Some("count=x"),
        );
        assert!(matches!(g, Ok(Control::Generate { count: None, .. })));
    }
}

/// A rule the bundled emulator does not answer as documented yet (`src/emulator/gaps.toml`):
/// the runner skips its test against the bundled emulator only, with `why`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gap {
    /// The test id (`<api>/<rule id>`).
    pub test: String,
    /// What the emulator answers instead.
    pub why: String,
    /// The emulator's answer is one lenient mode accepts: a gap only under `--strict`.
    #[serde(default)]
    pub strict: bool,
}
