//! The runner's own path for plain HTTP/1.1 to its target: hyper's client connections in a
//! pool of their own, for the requests it can send exactly as reqwest would. reqwest parses
//! the URL three times per request and passes it through layers the runner does not use
//! (redirects, retries, decompression); at `--jobs 8` against the emulator that was a third
//! of the runner's CPU time per request (docs/performance.md).
//!
//! What goes on the wire is what reqwest sends for the same request: the request's headers
//! in order, then `user-agent` and `accept: */*` unless given, then `host`; TCP_NODELAY and
//! a 15 s keep-alive on the socket; an idle connection kept for 90 s at most; a request that
//! meets a connection the target has just closed is sent again on a new one. Everything
//! else goes through reqwest: HTTPS, a proxy, a base URL with credentials in it, a full URL
//! as the target, and any target the URL parser would rewrite (dot segments, characters it
//! percent-encodes) or header http cannot carry.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, HOST, USER_AGENT};

use super::http::{Resp, TransportError};

/// How long an idle connection is kept, as reqwest's pool does.
const IDLE_FOR: Duration = Duration::from_secs(90);

/// Plain HTTP/1.1 connections to one target.
pub(super) struct Wire {
    /// The `host` header: the host, with the port when it is not 80.
    host: HeaderValue,
    /// Where to connect.
    addr: (String, u16),
    /// The base URL's path, without a trailing `/`; put before every target.
    prefix: String,
    user_agent: HeaderValue,
    connect_timeout: Duration,
    /// Connections that answered their last request in full, with when they did.
    idle: parking_lot::Mutex<Vec<(SendRequest<Full<Bytes>>, Instant)>>,
}

impl Wire {
    /// The plain path for a client of `base`, when it can carry that client's requests.
    pub fn new(
        base: &reqwest::Url,
        proxy: bool,
        user_agent: &str,
        timeout: Duration,
    ) -> Option<Wire> {
        if base.scheme() != "http"
            || proxy
            || !base.username().is_empty()
            || base.password().is_some()
            || base.query().is_some()
            || base.fragment().is_some()
        {
            return None;
        }
        let host_str = base.host_str()?;
        let host = match base.port() {
            Some(p) => format!("{host_str}:{p}"),
            None => host_str.to_string(),
        };
        let connect_host = host_str.trim_start_matches('[').trim_end_matches(']');
        let prefix = base.path().trim_end_matches('/').to_string();
        if !plain_target(&format!("{prefix}/")) {
            return None;
        }
        Some(Wire {
            host: HeaderValue::from_str(&host).ok()?,
            addr: (connect_host.to_string(), base.port_or_known_default()?),
            prefix,
            user_agent: HeaderValue::from_str(user_agent).ok()?,
            connect_timeout: timeout,
            idle: parking_lot::Mutex::new(Vec::new()),
        })
    }

    /// The request as reqwest would send it, or `None` when only reqwest can send it so.
    pub fn request<'h>(
        &self,
        method: &reqwest::Method,
        target: &str,
        headers: impl Iterator<Item = (&'h str, &'h str)>,
        body: Option<&[u8]>,
    ) -> Option<hyper::Request<Full<Bytes>>> {
        if !plain_target(target) {
            return None;
        }
        let mut map = HeaderMap::new();
        for (h, v) in headers {
            map.append(
                HeaderName::from_bytes(h.as_bytes()).ok()?,
                HeaderValue::from_str(v).ok()?,
            );
        }
        map.entry(USER_AGENT)
            .or_insert_with(|| self.user_agent.clone());
        map.entry(ACCEPT)
            .or_insert_with(|| HeaderValue::from_static("*/*"));
        map.entry(HOST).or_insert_with(|| self.host.clone());
        let uri: hyper::Uri = format!("{}{target}", self.prefix).parse().ok()?;
        let body = body.map(Bytes::copy_from_slice).unwrap_or_default();
        let mut req = hyper::Request::new(Full::new(body));
        *req.method_mut() = method.clone();
        *req.uri_mut() = uri;
        *req.headers_mut() = map;
        Some(req)
    }

    /// Send `req` and read its answer up to `max_body` bytes, all within `timeout`.
    pub async fn send(
        &self,
        req: hyper::Request<Full<Bytes>>,
        url: &str,
        timeout: Duration,
        max_body: usize,
    ) -> Result<Resp, TransportError> {
        match tokio::time::timeout(timeout, self.exchange(req, url, max_body)).await {
            Ok(r) => r,
            Err(_) => Err(TransportError::Timeout(timeout)),
        }
    }

    async fn exchange(
        &self,
        req: hyper::Request<Full<Bytes>>,
        url: &str,
        max_body: usize,
    ) -> Result<Resp, TransportError> {
        let sending = |e: &dyn std::error::Error| {
            TransportError::Other(format!(
                "error sending request for url ({url}): {}",
                chain(e)
            ))
        };
        let (mut conn, reused) = match self.checkout().await {
            Some(c) => (c, true),
            None => (self.connect(url).await?, false),
        };
        let resp = match conn.try_send_request(req).await {
            Ok(r) => r,
            Err(mut e) => match e.take_message() {
                // Not sent: the idle connection was closing. Once more on a new one.
                Some(req) if reused => {
                    conn = self.connect(url).await?;
                    conn.send_request(req).await.map_err(|e| sending(&e))?
                }
                _ => return Err(sending(e.error())),
            },
        };
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut incoming = resp.into_body();
        let mut first: Option<Bytes> = None;
        let mut rest: Vec<u8> = Vec::new();
        while let Some(frame) = incoming.frame().await {
            let frame = frame.map_err(|e| {
                TransportError::Other(format!("error decoding response body: {}", chain(&e)))
            })?;
            let Ok(chunk) = frame.into_data() else {
                continue;
            };
            let len = first.as_ref().map_or(0, Bytes::len) + rest.len();
            if len + chunk.len() > max_body {
                return Err(TransportError::TooLarge(max_body));
            }
            match &first {
                None => first = Some(chunk),
                Some(f) => {
                    if rest.is_empty() {
                        rest.extend_from_slice(f);
                    }
                    rest.extend_from_slice(&chunk);
                }
            }
        }
        let body = if rest.is_empty() {
            first.unwrap_or_default()
        } else {
            rest.into()
        };
        if !conn.is_closed() {
            self.idle.lock().push((conn, Instant::now()));
        }
        Ok(Resp {
            status,
            headers,
            body,
        })
    }

    /// An idle connection ready for a request, if one is left.
    async fn checkout(&self) -> Option<SendRequest<Full<Bytes>>> {
        loop {
            let (mut conn, since) = self.idle.lock().pop()?;
            if conn.is_closed() || since.elapsed() > IDLE_FOR {
                continue;
            }
            // Ready as soon as the connection has finished with the last answer.
            if conn.ready().await.is_ok() {
                return Some(conn);
            }
        }
    }

    async fn connect(&self, url: &str) -> Result<SendRequest<Full<Bytes>>, TransportError> {
        let failed = |e: &dyn std::error::Error| {
            TransportError::Connect(format!(
                "error sending request for url ({url}): client error (Connect): tcp connect error: {}",
                chain(e)
            ))
        };
        let addr = (self.addr.0.as_str(), self.addr.1);
        let stream =
            match tokio::time::timeout(self.connect_timeout, tokio::net::TcpStream::connect(addr))
                .await
            {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => return Err(failed(&e)),
                Err(_) => return Err(TransportError::Timeout(self.connect_timeout)),
            };
        let _ = stream.set_nodelay(true);
        let _ = socket2::SockRef::from(&stream)
            .set_tcp_keepalive(&socket2::TcpKeepalive::new().with_time(Duration::from_secs(15)));
        let (send, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| failed(&e))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(send)
    }
}

/// Whether the URL parser leaves `target` (path and query) as it is: it starts with one
/// `/`, has no dot segment (also percent-encoded), no fragment, and only characters that
/// neither the path nor the query percent-encodes.
fn plain_target(target: &str) -> bool {
    let b = target.as_bytes();
    if b.first() != Some(&b'/') || b.get(1) == Some(&b'/') {
        return false;
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    let common = |c: u8| c.is_ascii_alphanumeric() || b"-._~!$&()*+,;=:@%".contains(&c);
    let path_ok = path.bytes().all(|c| common(c) || c == b'/' || c == b'\'')
        && !path.to_ascii_lowercase().contains("%2e")
        && path.split('/').all(|s| s != "." && s != "..");
    path_ok && query.is_none_or(|q| q.bytes().all(|c| common(c) || c == b'/' || c == b'?'))
}

fn chain(e: &dyn std::error::Error) -> String {
    super::http::chain(e)
}

#[cfg(test)]
mod tests {
    use super::plain_target;

    #[test]
    fn targets_the_url_parser_keeps() {
        for t in [
            "/",
            "/api/v1/status",
            "/a/b?x=1&y=%20z",
            "/a.b/c..d",
            "/x?",
            "/x?a/b?c",
        ] {
            assert!(plain_target(t), "{t}");
        }
        for t in [
            "",
            "x",
            "//h/x",
            "/a/../b",
            "/a/./b",
            "/a/..",
            "/a/%2e%2E/b",
            "/a b",
            "/a#f",
            "/a?b c",
            "/a?x='1'",
            "/a\\b",
            "/é",
            "/a{b}",
            "/a\"b",
            "/a<b>",
        ] {
            assert!(!plain_target(t), "{t}");
        }
    }
}
