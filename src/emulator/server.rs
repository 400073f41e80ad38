//! The emulator's listener: plain HTTP or HTTPS with a throwaway self-signed certificate,
//! HTTP/1.1 and HTTP/2 on one port, bounded in every way a hostile client could exploit.
//!
//! * a client that never finishes its request headers is closed after `header_timeout`
//!   (this also bounds how long an idle HTTP/1 keep-alive connection is kept);
//! * a client that never finishes its TLS handshake is closed after `handshake_timeout`;
//! * a connection with no bytes moving either way for `idle_timeout` is closed;
//! * at most `max_connections` connections are served at once; further clients wait in
//!   the kernel's accept backlog; one client address holds at most
//!   `max_connections_per_client`, and its further connections are closed on arrival;
//! * a request body must arrive within the emulator's body deadline (`Emulator::
//!   with_body_deadline`), else it is cut with 408;
//! * a failing connection is dropped and never disturbs the accept loop or other clients.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

/// How long [`Running::shutdown`] lets in-flight requests finish before cutting them off.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// After an idle connection is asked to close, how long it may take before it is dropped.
const IDLE_CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Where and how to listen.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Address to bind; port 0 picks a free port (see [`Running::addr`]).
    pub listen: SocketAddr,
    /// Serve HTTPS with a self-signed certificate generated at start.
    pub tls: bool,
    /// A client must finish its request headers within this time.
    pub header_timeout: Duration,
    /// A TLS client must finish its handshake within this time.
    pub handshake_timeout: Duration,
    /// A connection with no traffic in either direction for this long is closed.
    pub idle_timeout: Duration,
    /// Connections served at once; further clients wait until one closes.
    pub max_connections: usize,
    /// Connections one client address may hold at once; more are closed on arrival, so
    /// that one client cannot take every slot.
    pub max_connections_per_client: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: false,
            header_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
            max_connections_per_client: 256,
        }
    }
}

/// A server that is accepting connections. Dropping it stops the server too (without
/// waiting); call [`Running::shutdown`] to stop it and wait for in-flight requests.
#[derive(Debug)]
pub struct Running {
    /// Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    /// The bound address (with the real port when port 0 was asked for).
    pub addr: SocketAddr,
    /// The self-signed certificate (PEM) when serving TLS; trust it as a root to verify.
    pub cert_pem: Option<String>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stop accepting, let in-flight requests finish (at most 5 s), then close everything.
    /// When this returns the port is closed.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("TLS setup failed: {0}")]
    Tls(String),
}

/// Bind, then serve `router` in the background until [`Running::shutdown`].
pub async fn serve(router: axum::Router, opts: ServerOptions) -> Result<Running, ServerError> {
    let bind_err = |source| ServerError::Bind {
        addr: opts.listen,
        source,
    };
    let (acceptor, cert_pem) = if opts.tls {
        let (config, pem) = tls_config()?;
        (Some(TlsAcceptor::from(Arc::new(config))), Some(pem))
    } else {
        (None, None)
    };
    let listener = TcpListener::bind(opts.listen).await.map_err(bind_err)?;
    let addr = listener.local_addr().map_err(bind_err)?;
    let scheme = if opts.tls { "https" } else { "http" };
    let (tx, rx) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, router, acceptor, opts, rx));
    Ok(Running {
        url: format!("{scheme}://{addr}"),
        addr,
        cert_pem,
        shutdown: tx,
        task,
    })
}

/// A self-signed certificate for `localhost`, `127.0.0.1` and `::1`, and a rustls config
/// serving it with ALPN `h2` and `http/1.1`.
fn tls_config() -> Result<(rustls::ServerConfig, String), ServerError> {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    let ck = rcgen::generate_simple_self_signed(names)
        .map_err(|e| ServerError::Tls(format!("certificate generation: {e}")))?;
    let pem = ck.cert.pem();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.key_pair.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(vec![ck.cert.der().clone()], key)
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((config, pem))
}

/// Resolves once shutdown was asked for (or the [`Running`] handle was dropped).
async fn shutdown_requested(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

#[derive(Clone, Copy)]
struct Timeouts {
    header: Duration,
    handshake: Duration,
    idle: Duration,
}

/// Connections held per client address.
type PerClient = Arc<parking_lot::Mutex<HashMap<IpAddr, usize>>>;

/// One client's share of the connections, given back when the connection ends.
struct Held {
    map: PerClient,
    ip: IpAddr,
}

impl Held {
    /// A slot for `ip`, if it holds fewer than `max`.
    fn take(map: &PerClient, ip: IpAddr, max: usize) -> Option<Held> {
        let mut m = map.lock();
        let n = m.entry(ip).or_insert(0);
        if *n >= max.max(1) {
            return None;
        }
        *n += 1;
        Some(Held {
            map: map.clone(),
            ip,
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut m = self.map.lock();
        if let Some(n) = m.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    router: axum::Router,
    acceptor: Option<TlsAcceptor>,
    opts: ServerOptions,
    mut rx: watch::Receiver<bool>,
) {
    let limit = Arc::new(Semaphore::new(opts.max_connections.max(1)));
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(opts.header_timeout);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let timeouts = Timeouts {
        header: opts.header_timeout,
        handshake: opts.handshake_timeout,
        idle: opts.idle_timeout,
    };
    let mut conns = JoinSet::new();
    let per_client: PerClient = Arc::new(parking_lot::Mutex::new(HashMap::new()));

    loop {
        let permit = tokio::select! {
            biased;
            _ = shutdown_requested(&mut rx) => break,
            p = limit.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            biased;
            _ = shutdown_requested(&mut rx) => break,
            r = listener.accept() => match r {
                Ok((stream, peer)) => match Held::take(&per_client, peer.ip(), opts.max_connections_per_client) {
                    Some(held) => (stream, held),
                    // Over this client's share: close at once.
                    None => continue,
                },
                Err(_) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let (stream, held) = stream;
        while conns.try_join_next().is_some() {}
        let _ = stream.set_nodelay(true);
        conns.spawn(connection(
            stream,
            acceptor.clone(),
            builder.clone(),
            router.clone(),
            timeouts,
            rx.clone(),
            (permit, held),
        ));
    }

    // Refuse new connections at once; the receivers in each connection see the shutdown.
    drop(listener);
    let drain = async { while conns.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, drain).await;
    conns.shutdown().await;
}

async fn connection(
    stream: TcpStream,
    acceptor: Option<TlsAcceptor>,
    builder: Arc<Builder<TokioExecutor>>,
    router: axum::Router,
    t: Timeouts,
    mut rx: watch::Receiver<bool>,
    _held: (OwnedSemaphorePermit, Held),
) {
    match acceptor {
        None => serve_io(stream, &builder, router, t, rx).await,
        Some(acceptor) => {
            let handshake = tokio::time::timeout(t.handshake, acceptor.accept(stream));
            let tls = tokio::select! {
                _ = shutdown_requested(&mut rx) => return,
                r = handshake => match r {
                    Ok(Ok(tls)) => tls,
                    _ => return,
                },
            };
            serve_io(tls, &builder, router, t, rx).await
        }
    }
}

async fn serve_io<T>(
    io: T,
    builder: &Builder<TokioExecutor>,
    router: axum::Router,
    t: Timeouts,
    mut rx: watch::Receiver<bool>,
) where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        inner: io,
        activity: activity.clone(),
    });
    let conn = builder.serve_connection(io, TowerToHyperService::new(router));
    tokio::pin!(conn);

    let mut shutting_down = false;
    let mut closing_idle = false;
    loop {
        let deadline = if closing_idle {
            activity.last() + IDLE_CLOSE_GRACE
        } else if activity.bytes_read() < PREFACE_LEN {
            // Until the protocol is known no header timer runs (the HTTP/2 preface is still
            // possible), so the header timeout applies here as well.
            activity.start + t.header.min(t.idle)
        } else {
            activity.last() + t.idle
        };
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = shutdown_requested(&mut rx), if !shutting_down => {
                shutting_down = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = tokio::time::sleep_until(deadline) => {
                if Instant::now() < deadline {
                    continue;
                }
                if closing_idle || activity.bytes_read() < PREFACE_LEN {
                    return;
                }
                // Recheck: traffic may have moved the deadline while we slept.
                if activity.last() + t.idle > Instant::now() {
                    continue;
                }
                closing_idle = true;
                activity.touch();
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Length of the HTTP/2 client preface; fewer bytes than this may still be undecided.
const PREFACE_LEN: u64 = 24;

/// When a connection last moved a byte, and how many it has read.
struct Activity {
    start: Instant,
    /// Milliseconds after `start` of the last read or write.
    last_ms: AtomicU64,
    read: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            read: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let ms = self.start.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }

    fn bytes_read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }
}

/// An I/O stream that records its traffic in an [`Activity`].
struct Watched<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before);
        if n > 0 {
            self.activity.read.fetch_add(n as u64, Ordering::Relaxed);
            self.activity.touch();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
