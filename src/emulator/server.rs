//! The emulator's listener: plain HTTP or HTTPS with a throwaway self-signed certificate,
//! HTTP/1.1 and HTTP/2 on one port, bounded in every way a hostile client could exploit.
//!
//! * a client that never finishes its request headers is closed after `header_timeout`
//!   (this also bounds how long an idle HTTP/1 keep-alive connection is kept);
//! * a client that never finishes its TLS handshake is closed after `handshake_timeout`;
//! * a connection with no bytes moving either way for `idle_timeout`, and no request being
//!   answered, is closed;
//! * at most `max_connections` connections are served at once; one client address holds
//!   at most `max_connections_per_client`, and its further connections are closed on
//!   arrival. When every slot is taken, a newcomer whose address serves at least two fewer
//!   connections than the busiest address takes the place of that address's oldest
//!   connection, which is closed (`clients::Clients::displace`); other newcomers wait, up
//!   to [`MAX_WAITING`] of them (more are closed), and then in the kernel's backlog;
//! * a request body must arrive within the emulator's body deadline (`Emulator::
//!   with_body_deadline`), else it is cut with 408;
//! * a failing connection is dropped and never disturbs the accept loop or other clients.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

use super::clients::{Clients, Held};

/// Connections accepted while every slot is taken that may wait for one; more are closed.
const MAX_WAITING: usize = 64;

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
    let clients = Clients::default();
    // Accepted while every slot was taken, waiting for one (oldest first).
    let mut waiting: VecDeque<(TcpStream, Held)> = VecDeque::new();

    loop {
        while conns.try_join_next().is_some() {}
        let full = limit.available_permits() == 0;
        let accept_rx = rx.clone();
        let (stream, held, permit) = tokio::select! {
            biased;
            _ = shutdown_requested(&mut rx) => break,
            p = limit.clone().acquire_owned() => {
                let Ok(permit) = p else { break };
                match waiting.pop_front() {
                    Some((stream, held)) => (stream, held, permit),
                    None => match accept(&listener, &clients, &opts, accept_rx.clone()).await {
                        Accepted::Conn(stream, held) => (stream, held, permit),
                        Accepted::Refused => continue,
                        Accepted::Shutdown => break,
                    },
                }
            }
            // Every slot is taken: a newcomer from a lighter client takes the place of
            // a connection of the busiest one; others wait their turn, a bounded few.
            a = accept(&listener, &clients, &opts, accept_rx.clone()), if full => match a {
                Accepted::Conn(stream, held) => match clients.displace(&held) {
                    Some(permit) => (stream, held, permit),
                    None => {
                        if waiting.len() < MAX_WAITING {
                            waiting.push_back((stream, held));
                        }
                        continue;
                    }
                },
                Accepted::Refused => continue,
                Accepted::Shutdown => break,
            },
        };
        held.serve(permit);
        let _ = stream.set_nodelay(true);
        conns.spawn(connection(
            stream,
            acceptor.clone(),
            builder.clone(),
            router.clone(),
            timeouts,
            rx.clone(),
            held,
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
    held: Held,
) {
    // Told to give way to a lighter client when every slot is taken (`Clients::displace`).
    let shed = held.shed.clone();
    let served = async move {
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
    };
    tokio::select! {
        _ = served => {}
        _ = shed.notified() => {}
    }
    drop(held);
}

/// What one accept gave.
enum Accepted {
    Conn(TcpStream, Held),
    /// Over its client's share (closed at once), or an accept error (after a pause).
    Refused,
    Shutdown,
}

async fn accept(
    listener: &TcpListener,
    clients: &Clients,
    opts: &ServerOptions,
    mut rx: watch::Receiver<bool>,
) -> Accepted {
    tokio::select! {
        biased;
        _ = shutdown_requested(&mut rx) => Accepted::Shutdown,
        r = listener.accept() => match r {
            Ok((stream, peer)) => match clients.take(peer.ip(), opts.max_connections_per_client) {
                Some(held) => Accepted::Conn(stream, held),
                // Over this client's share: close at once.
                None => Accepted::Refused,
            },
            Err(_) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(50)).await;
                Accepted::Refused
            }
        },
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
    // A request being answered keeps its connection from counting as idle, however long
    // it waits (a large upload waiting its turn reads nothing meanwhile).
    let svc = {
        let activity = activity.clone();
        hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let router = router.clone();
            let answering = Answering::new(&activity);
            async move {
                let r = tower::ServiceExt::oneshot(router, req).await;
                drop(answering);
                r
            }
        })
    };
    let conn = builder.serve_connection(io, svc);
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
                if activity.answering.load(Ordering::Relaxed) > 0 {
                    activity.touch();
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

/// When a connection last moved a byte, how many it has read, and how many of its requests
/// are being answered.
struct Activity {
    start: Instant,
    /// Milliseconds after `start` of the last read or write.
    last_ms: AtomicU64,
    read: AtomicU64,
    answering: AtomicU64,
}

/// One request being answered on a connection, from its call until its answer's head.
struct Answering(Arc<Activity>);

impl Answering {
    fn new(a: &Arc<Activity>) -> Self {
        a.answering.fetch_add(1, Ordering::Relaxed);
        Answering(a.clone())
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.answering.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

impl Activity {
    fn new() -> Self {
        Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            read: AtomicU64::new(0),
            answering: AtomicU64::new(0),
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
