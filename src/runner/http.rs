//! The runner's HTTP side: one client per run, with a request-rate cap, a per-request time
//! bound, a cap on how much of a response body is read, and a record of every exchange with
//! the credentials taken out.
//!
//! Every request the runner sends goes through [`Client::send`], so the rate cap, the time
//! bound and redaction cannot be bypassed by a check.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Serialize;

use crate::profile::{CredKind, Credentials, Profile, Secret};

/// Printed instead of a credential.
pub const REDACTED: &str = "<redacted>";

const USER_AGENT: &str = concat!("dialtone/", env!("CARGO_PKG_VERSION"));

/// How much of a body an exchange record keeps, in bytes.
const RECORD_LIMIT: usize = 4096;

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    /// Basic with user and password.
    Basic {
        user: String,
        secret: Secret,
    },
    /// A token in `header`, after `prefix` (e.g. `Bearer`).
    Token {
        header: String,
        prefix: Option<String>,
        secret: Secret,
    },
    /// A header with a deliberately wrong credential (the `bad-credentials` column).
    Wrong {
        header: String,
        value: String,
    },
}

impl Auth {
    /// The auth for `creds` under the spec's scheme.
    pub fn from_credentials(c: &Credentials, header: &str, prefix: Option<&str>) -> Auth {
        match (c.kind, &c.user) {
            (CredKind::Password, Some(user)) => Auth::Basic {
                user: user.clone(),
                secret: c.secret.clone(),
            },
            _ => Auth::Token {
                header: header.to_string(),
                prefix: prefix.map(str::to_string),
                secret: c.secret.clone(),
            },
        }
    }
}

/// One request, relative to the target's base URL.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    /// Path and query, starting with `/`; or a full URL (a job's `Location`).
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub auth: Auth,
    /// Who the request is sent as (role name), for the reproducer's variable names.
    pub who: String,
}

impl Req {
    pub fn new(method: &str, target: impl Into<String>) -> Req {
        Req {
            method: method.to_string(),
            target: target.into(),
            headers: Vec::new(),
            body: None,
            auth: Auth::None,
            who: "none".into(),
        }
    }
    pub fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.retain(|(h, _)| !h.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
    pub fn body(mut self, content_type: &str, bytes: Vec<u8>) -> Req {
        self = self.header("Content-Type", content_type);
        self.body = Some(bytes);
        self
    }
}

/// A response, read up to the cap.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: bytes::Bytes,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }
}

/// What went wrong on the wire. Always an `error` verdict, never a `fail`.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("the response body is larger than the cap of {0} bytes")]
    TooLarge(usize),
    #[error("transport: {0}")]
    Other(String),
}

/// What was sent and what came back, as sent: cheap to keep, and turned into a redacted
/// [`Exchange`] only for the tests whose evidence is reported.
#[derive(Debug, Clone)]
pub struct Sent {
    pub req: Req,
    pub url: String,
    pub result: Result<Resp, TransportError>,
    pub duration_ms: f64,
}

/// The record of one request and its answer, credentials removed. This is what reports
/// show; it is also enough to rebuild the request with `curl`.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Exchange {
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub response_headers: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
    /// Bodies longer than the record limit are cut; this gives their full length.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_length: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: f64,
    /// A shell command that sends the same request; credentials come from variables.
    pub curl: String,
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub timeout: Duration,
    /// Largest response body read, in bytes.
    pub max_body: usize,
    /// Requests per second, at most.
    pub rate: Option<f64>,
    /// A plain HTTP proxy every request goes through.
    pub proxy: Option<String>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(10),
            max_body: 16 << 20,
            rate: None,
            proxy: None,
        }
    }
}

/// The run's HTTP client.
pub struct Client {
    inner: reqwest::Client,
    /// Plain HTTP/1.1 to the target without reqwest, for the requests that allow it.
    wire: Option<super::wire::Wire>,
    base: String,
    opts: ClientOptions,
    /// Earliest time the next request may leave (rate cap).
    next_slot: tokio::sync::Mutex<Instant>,
    /// Secret values to take out of every record.
    secrets: parking_lot::RwLock<Vec<String>>,
    sent: AtomicU64,
    /// Transport errors (no answer at all) since the last answer.
    failing: AtomicU64,
    /// How a `curl` reproducer trusts the target as this client does: `-k` when the
    /// profile skips verification, `--cacert FILE` with a `ca_file`, nothing otherwise.
    curl_tls: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("target URL `{0}` is not an http:// or https:// URL")]
    Url(String),
    #[error("{}: cannot read CA file", path.display())]
    Ca {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}

impl Client {
    /// A client for the profile's target.
    pub fn new(profile: &Profile, opts: ClientOptions) -> Result<Client, ClientError> {
        let url = profile.target.url.trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&url).map_err(|_| ClientError::Url(url.clone()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ClientError::Url(url));
        }
        let mut b = reqwest::Client::builder()
            .connect_timeout(opts.timeout)
            .timeout(opts.timeout)
            .redirect(reqwest::redirect::Policy::none())
            // No cap on idle connections: a cap below `--jobs` closed a connection after
            // most answers and opened a new one for the next request, which cost more
            // than the request itself. At most one connection per request in flight is
            // ever opened, and an idle one closes after 90 s (or when the target closes
            // it).
            .user_agent(USER_AGENT);
        b = match &opts.proxy {
            Some(p) => {
                b.proxy(reqwest::Proxy::all(p).map_err(|e| ClientError::Build(e.to_string()))?)
            }
            // Environment proxies would silently reroute loopback runs; a proxy is asked for
            // explicitly with `--proxy`.
            None => b.no_proxy(),
        };
        if profile.tls.insecure_skip_verify {
            b = b.danger_accept_invalid_certs(true);
        }
        if let Some(ca) = profile.ca_file() {
            let pem = std::fs::read(&ca).map_err(|source| ClientError::Ca {
                path: ca.clone(),
                source,
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| ClientError::Build(format!("{}: {e}", ca.display())))?;
            if certs.is_empty() {
                // Trusting nothing extra would fail every test with the same TLS error.
                return Err(ClientError::Build(format!(
                    "{}: the ca_file holds no PEM certificate",
                    ca.display()
                )));
            }
            for cert in certs {
                b = b.add_root_certificate(cert);
            }
        }
        if let Some(name) = &profile.tls.server_name {
            // Connect to the URL's address but verify (and send SNI for) `server_name`.
            if let (Some(host), Ok(addrs)) = (
                parsed.host_str(),
                std::net::ToSocketAddrs::to_socket_addrs(&(
                    parsed.host_str().unwrap_or_default(),
                    parsed.port_or_known_default().unwrap_or(443),
                )),
            ) {
                let _ = host;
                let addrs: Vec<_> = addrs.collect();
                b = b.resolve_to_addrs(name, &addrs);
            }
        }
        let inner = b.build().map_err(|e| ClientError::Build(e.to_string()))?;
        let base = match &profile.tls.server_name {
            Some(name) => {
                let mut u = parsed.clone();
                let _ = u.set_host(Some(name));
                u.as_str().trim_end_matches('/').to_string()
            }
            None => url,
        };
        let secrets = profile
            .secrets()
            .into_iter()
            .map(|s| s.expose().to_string())
            .collect();
        let curl_tls = if profile.tls.insecure_skip_verify {
            Some("-k".to_string())
        } else {
            profile
                .ca_file()
                .map(|ca| format!("--cacert {}", quote(&ca.display().to_string())))
        };
        let wire = match profile.tls.server_name {
            None => super::wire::Wire::new(&parsed, opts.proxy.is_some(), USER_AGENT, opts.timeout),
            Some(_) => None,
        };
        Ok(Client {
            inner,
            wire,
            base,
            opts,
            next_slot: tokio::sync::Mutex::new(Instant::now()),
            secrets: parking_lot::RwLock::new(secrets),
            sent: AtomicU64::new(0),
            failing: AtomicU64::new(0),
            curl_tls,
        })
    }

    /// Requests in a row that got no answer at all (timeouts, refused or reset
    /// connections) since the last one that did.
    pub fn failing_in_a_row(&self) -> u64 {
        self.failing.load(Ordering::Relaxed)
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Requests sent so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Take `secret` out of every record from now on (tokens learnt during the run).
    pub fn add_secret(&self, secret: &str) {
        if secret.len() >= 4 {
            self.secrets.write().push(secret.to_string());
        }
    }

    /// Replace every known secret in `text`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in self.secrets.read().iter() {
            if !s.is_empty() && out.contains(s.as_str()) {
                out = out.replace(s.as_str(), REDACTED);
            }
        }
        out
    }

    pub fn url(&self, target: &str) -> String {
        if target.starts_with("http://") || target.starts_with("https://") {
            target.to_string()
        } else {
            format!("{}{}", self.base, target)
        }
    }

    async fn wait_for_slot(&self) {
        let Some(rate) = self.opts.rate.filter(|r| *r > 0.0) else {
            return;
        };
        let gap = Duration::from_secs_f64(1.0 / rate);
        let mut next = self.next_slot.lock().await;
        let now = Instant::now();
        if *next > now {
            tokio::time::sleep(*next - now).await;
        }
        *next = Instant::now().max(*next) + gap;
    }

    /// Send one request. The raw record is always returned (turn it into an [`Exchange`]
    /// with [`Client::exchange`] when it is kept), with the error when there was one.
    pub async fn send(&self, req: &Req) -> (Sent, Result<Resp, TransportError>) {
        self.wait_for_slot().await;
        self.sent.fetch_add(1, Ordering::Relaxed);
        let url = self.url(&req.target);
        let started = Instant::now();
        let method =
            reqwest::Method::from_bytes(req.method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let auth = auth_header(&req.auth);
        let headers = || {
            req.headers
                .iter()
                .map(|(h, v)| (h.as_str(), v.as_str()))
                .chain(auth.as_ref().map(|(h, v)| (*h, v.as_str())))
        };
        let plain = self.wire.as_ref().and_then(|w| {
            let r = w.request(&method, &req.target, headers(), req.body.as_deref())?;
            Some((w, r))
        });
        let result = match plain {
            Some((w, r)) => w.send(r, &url, self.opts.timeout, self.opts.max_body).await,
            None => {
                let mut b = self.inner.request(method, &url);
                for (h, v) in headers() {
                    b = b.header(h, v);
                }
                if let Some(body) = &req.body {
                    b = b.body(body.clone());
                }
                self.exec(b).await
            }
        };
        match &result {
            // A body over the cap is an answer too big, not a target that went away.
            Ok(_) | Err(TransportError::TooLarge(_)) => self.failing.store(0, Ordering::Relaxed),
            Err(_) => {
                self.failing.fetch_add(1, Ordering::Relaxed);
            }
        }
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        let sent = Sent {
            req: req.clone(),
            url,
            result: result.clone(),
            duration_ms,
        };
        (sent, result)
    }

    /// The redacted record of a request, for reports.
    pub fn exchange(&self, s: &Sent) -> Exchange {
        self.record(&s.req, &s.url, &s.result, s.duration_ms)
    }

    async fn exec(&self, b: reqwest::RequestBuilder) -> Result<Resp, TransportError> {
        let timeout = self.opts.timeout;
        let classify = |e: reqwest::Error| -> TransportError {
            if e.is_timeout() {
                TransportError::Timeout(timeout)
            } else if e.is_connect() {
                TransportError::Connect(chain(&e))
            } else {
                TransportError::Other(chain(&e))
            }
        };
        let work = async {
            let mut r = b.send().await.map_err(classify)?;
            let status = r.status().as_u16();
            let headers = r
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let mut body = Vec::new();
            while let Some(chunk) = r.chunk().await.map_err(classify)? {
                if body.len() + chunk.len() > self.opts.max_body {
                    return Err(TransportError::TooLarge(self.opts.max_body));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Resp {
                status,
                headers,
                body: body.into(),
            })
        };
        // The client's own timeout covers each phase; this one bounds the whole exchange,
        // including a body that trickles in forever.
        match tokio::time::timeout(timeout + Duration::from_secs(1), work).await {
            Ok(r) => r,
            Err(_) => Err(TransportError::Timeout(timeout)),
        }
    }

    fn record(
        &self,
        req: &Req,
        url: &str,
        result: &Result<Resp, TransportError>,
        duration_ms: f64,
    ) -> Exchange {
        let mut request_headers: Vec<(String, String)> = req
            .headers
            .iter()
            .map(|(h, v)| (h.clone(), self.redact(v)))
            .collect();
        match &req.auth {
            Auth::None => {}
            Auth::Basic { .. } => {
                request_headers.push(("Authorization".into(), format!("Basic {REDACTED}")))
            }
            Auth::Token { header, prefix, .. } => request_headers.push((
                header.clone(),
                match prefix {
                    Some(p) => format!("{p} {REDACTED}"),
                    None => REDACTED.into(),
                },
            )),
            Auth::Wrong { header, value } => request_headers.push((header.clone(), value.clone())),
        }
        let request_body = req.body.as_ref().map(|b| self.redact(&clip(b)));
        let (status, response_headers, response_body, response_length, error) = match result {
            Ok(r) => (
                Some(r.status),
                r.headers
                    .iter()
                    .map(|(h, v)| {
                        let v = if is_credential_header(h) {
                            REDACTED.to_string()
                        } else {
                            self.redact(v)
                        };
                        (h.clone(), v)
                    })
                    .collect(),
                Some(self.redact(&clip(&r.body))),
                (r.body.len() > RECORD_LIMIT).then_some(r.body.len()),
                None,
            ),
            Err(e) => (None, vec![], None, None, Some(e.to_string())),
        };
        Exchange {
            method: req.method.clone(),
            url: self.redact(url),
            curl: self.curl(req, url),
            request_headers,
            request_body,
            status,
            response_headers,
            response_body,
            response_length,
            error,
            duration_ms,
        }
    }

    /// A `curl` command that resends `req`. Credentials are shell variables named after the
    /// role (`$DIALTONE_ADMIN_USER`, `$DIALTONE_ADMIN_PASSWORD` or `$DIALTONE_ADMIN_TOKEN`).
    fn curl(&self, req: &Req, url: &str) -> String {
        let var = req
            .who
            .to_ascii_uppercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect::<String>();
        let mut parts = vec!["curl -sS -i".to_string()];
        if req.method != "GET" {
            parts.push(format!("-X {}", req.method));
        }
        if let (true, Some(t)) = (url.starts_with("https://"), &self.curl_tls) {
            parts.push(t.clone());
        }
        for (h, v) in &req.headers {
            parts.push(format!("-H {}", quote(&format!("{h}: {}", self.redact(v)))));
        }
        match &req.auth {
            Auth::None => {}
            Auth::Basic { .. } => parts.push(format!(
                "-u \"$DIALTONE_{var}_USER:$DIALTONE_{var}_PASSWORD\""
            )),
            Auth::Token { header, prefix, .. } => parts.push(format!(
                "-H \"{header}: {}$DIALTONE_{var}_TOKEN\"",
                prefix.as_ref().map(|p| format!("{p} ")).unwrap_or_default()
            )),
            Auth::Wrong { header, value } => {
                parts.push(format!("-H {}", quote(&format!("{header}: {value}"))))
            }
        }
        if let Some(b) = &req.body {
            match std::str::from_utf8(b) {
                Ok(t) if b.len() <= RECORD_LIMIT => {
                    parts.push(format!("--data-binary {}", quote(&self.redact(t))))
                }
                _ => parts.push(format!(
                    "--data-binary @request-body.bin  # {} bytes, see the JSON report",
                    b.len()
                )),
            }
        }
        parts.push(quote(&self.redact(url)));
        parts.join(" ")
    }
}

/// The header that carries `auth`, with the credential in it.
fn auth_header(auth: &Auth) -> Option<(&str, String)> {
    match auth {
        Auth::None => None,
        Auth::Basic { user, secret } => {
            let raw = format!("{user}:{}", secret.expose());
            Some((
                "Authorization",
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                ),
            ))
        }
        Auth::Token {
            header,
            prefix,
            secret,
        } => Some((
            header.as_str(),
            match prefix {
                Some(p) => format!("{p} {}", secret.expose()),
                None => secret.expose().to_string(),
            },
        )),
        Auth::Wrong { header, value } => Some((header.as_str(), value.clone())),
    }
}

fn is_credential_header(h: &str) -> bool {
    let h = h.to_ascii_lowercase();
    h == "authorization" || h == "set-cookie" || h == "cookie" || h.contains("token")
}

fn clip(b: &[u8]) -> String {
    let cut = &b[..b.len().min(RECORD_LIMIT)];
    let mut s = String::from_utf8_lossy(cut).into_owned();
    if b.len() > RECORD_LIMIT {
        s.push_str(&format!("… ({} bytes in all)", b.len()));
    }
    s
}

/// Single-quote for a POSIX shell.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

pub(super) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}
