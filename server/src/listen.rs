//! The accept loop: every TCP connection, plain or TLS, passes through here before it
//! reaches the router, so no client can hold the server's sockets for long without
//! sending it anything.
//!
//! What it bounds (each limit has a default here, a key in the configuration file under
//! `[limits]`, see [`crate::settings`], and a metric at `/metrics`):
//!
//! | limit | default | what happens |
//! | --- | --- | --- |
//! | [`MAX_CONNECTIONS`] | 4,096 | open connections in all (HTTP, TLS, and upgraded sync WebSockets); beyond it a new connection is closed at once |
//! | [`MAX_CONNECTIONS_PER_ADDRESS`] | 256 | open connections from one client IP address; beyond it the same |
//! | [`HEADER_TIMEOUT`] | 10 s | the TLS handshake, then a request's headers (the first one of a fresh connection as well as the next one on a kept-alive connection): a connection that has not sent them in time is closed, so an idle keep-alive connection closes after this long too |
//! | [`REQUEST_TIMEOUT`] | 30 s | a request from its headers to its response, its body included; over it the answer is `408` and the connection closes. The sync WebSocket is not cut: it lives on after its upgrade answer, outside the request |
//! | [`SYNC_IDLE_TIMEOUT`] | 300 s | a sync WebSocket on which nothing arrives for this long is closed (`crate::sync`) |
//!
//! A connection counts against both connection limits until its socket closes, an
//! upgraded WebSocket included (the count travels with the socket). A refused plain
//! connection gets a fixed `503` written without reading its request, then is closed; a
//! refused TLS connection is just closed.
//!
//! Every request carries the client's address as
//! `axum::extract::ConnectInfo<std::net::SocketAddr>` in its extensions.
//!
//! Metrics: `fieldcase_connections_open` (gauge), `fieldcase_connections_total`,
//! `fieldcase_connections_refused_total{reason="total"|"per_address"}`,
//! `fieldcase_http_timeouts_total{kind="tls_handshake"|"header"|"request"}` and
//! `fieldcase_sync_idle_closed_total`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::response::IntoResponse;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

use crate::{AppState, Metrics, SHUTDOWN_GRACE};

/// Open connections in all, by default.
pub const MAX_CONNECTIONS: usize = 4096;
/// Open connections from one client IP address, by default. Behind a reverse proxy every
/// connection comes from the proxy's address: raise it to [`MAX_CONNECTIONS`] there.
pub const MAX_CONNECTIONS_PER_ADDRESS: usize = 256;
/// How long a client may take for the TLS handshake, and for a request's headers (also
/// how long a kept-alive connection may stay idle), by default.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request may take from its headers to its response, by default.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a sync WebSocket may stay without a message from its client, by default.
pub const SYNC_IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// The connection limits and timeouts of a server (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    pub header_timeout: Duration,
    pub request_timeout: Duration,
    pub sync_idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: MAX_CONNECTIONS,
            max_connections_per_address: MAX_CONNECTIONS_PER_ADDRESS,
            header_timeout: HEADER_TIMEOUT,
            request_timeout: REQUEST_TIMEOUT,
            sync_idle_timeout: SYNC_IDLE_TIMEOUT,
        }
    }
}

/// The accept loop's counters, part of [`Metrics`].
#[derive(Debug, Default)]
pub struct Counters {
    pub open: AtomicI64,
    pub accepted: AtomicU64,
    pub refused_total: AtomicU64,
    pub refused_per_address: AtomicU64,
    pub handshake_timeouts: AtomicU64,
    pub header_timeouts: AtomicU64,
    pub request_timeouts: AtomicU64,
    pub sync_idle_closed: AtomicU64,
}

impl Counters {
    /// Appends the Prometheus text of these counters to `out`.
    pub(crate) fn render(&self, out: &mut String) {
        let v = |c: &AtomicU64| c.load(Relaxed);
        out.push_str(&format!(
            "# HELP fieldcase_connections_open Open client connections (sync WebSockets included).\n\
             # TYPE fieldcase_connections_open gauge\n\
             fieldcase_connections_open {}\n\
             # HELP fieldcase_connections_total Client connections accepted.\n\
             # TYPE fieldcase_connections_total counter\n\
             fieldcase_connections_total {}\n\
             # HELP fieldcase_connections_refused_total Connections closed at once for a connection limit.\n\
             # TYPE fieldcase_connections_refused_total counter\n\
             fieldcase_connections_refused_total{{reason=\"total\"}} {}\n\
             fieldcase_connections_refused_total{{reason=\"per_address\"}} {}\n\
             # HELP fieldcase_http_timeouts_total Connections closed for a client too slow.\n\
             # TYPE fieldcase_http_timeouts_total counter\n\
             fieldcase_http_timeouts_total{{kind=\"tls_handshake\"}} {}\n\
             fieldcase_http_timeouts_total{{kind=\"header\"}} {}\n\
             fieldcase_http_timeouts_total{{kind=\"request\"}} {}\n\
             # HELP fieldcase_sync_idle_closed_total Sync connections closed for silence.\n\
             # TYPE fieldcase_sync_idle_closed_total counter\n\
             fieldcase_sync_idle_closed_total {}\n",
            self.open.load(Relaxed),
            v(&self.accepted),
            v(&self.refused_total),
            v(&self.refused_per_address),
            v(&self.handshake_timeouts),
            v(&self.header_timeouts),
            v(&self.request_timeouts),
            v(&self.sync_idle_closed),
        ));
    }
}

/// Warns when this process may open fewer files than `limits` lets connections take
/// (Linux: `/proc/self/limits`; raise it with `ulimit -n` or the service manager's
/// `LimitNOFILE=`). Past it, connections fail at accept instead of being refused cleanly.
pub fn warn_if_few_open_files(limits: &Limits) {
    let soft = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))?
                .split_whitespace()
                .nth(3)?
                .parse::<usize>()
                .ok()
        });
    // The database, the log and the listener take a few more.
    let needed = limits.max_connections.saturating_add(64);
    if let Some(soft) = soft.filter(|s| *s < needed) {
        tracing::warn!(
            open_files = soft,
            max_connections = limits.max_connections,
            "the open files limit is below max_connections: raise `ulimit -n` to {needed} or lower limits.max_connections"
        );
    }
}

/// Serves `router` (of `state`) on `listener` (over TLS when `tls` is given) until `signal`
/// completes, then stops as [`crate::serve`] describes.
pub(crate) async fn run(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    state: Arc<AppState>,
    router: axum::Router,
    signal: impl std::future::Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let gate = Arc::new(Gate::new(state.clone()));
    let (stop, stopping) = tokio::sync::watch::channel(false);
    // The retention of closed cases, every `retention.interval_minutes`, until the stop.
    let retention = tokio::spawn(crate::retention::task(state.clone(), stopping.clone()));
    let mut tasks = tokio::task::JoinSet::new();
    let mut signal = std::pin::pin!(signal);
    loop {
        tokio::select! {
            _ = &mut signal => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            accepted = listener.accept() => {
                let (stream, addr) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors, or a connection reset before it was
                        // accepted: wait a moment rather than spin.
                        tracing::debug!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let Some(admitted) = gate.admit(addr.ip()) else {
                    if tls.is_none() {
                        let _ = stream.try_write(REFUSED);
                    }
                    continue;
                };
                let _ = stream.set_nodelay(true);
                tasks.spawn(connection(
                    stream,
                    addr,
                    admitted,
                    tls.clone(),
                    router.clone(),
                    state.clone(),
                    stopping.clone(),
                ));
            }
        }
    }
    drop(listener);
    tracing::info!("stopping: finishing syncs under way");
    state.begin_shutdown();
    stop.send_replace(true);
    // Requests under way complete; idle connections close. All of it, sync connections
    // included, within one SHUTDOWN_GRACE.
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    let drained = tokio::time::timeout_at(deadline, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = tasks.len(),
            "stopping with HTTP connections still open"
        );
    }
    tasks.abort_all();
    // Upgraded WebSocket connections outlive their HTTP connection: wait for them.
    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
    state.connections_closed(left).await;
    // A pass under way finishes its current erasure; none starts after the stop.
    let _ = tokio::time::timeout(left.max(Duration::from_secs(1)), retention).await;
    tracing::info!("stopped");
    Ok(())
}

/// The whole answer to a connection over a limit.
const REFUSED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\
content-type: text/plain\r\ncontent-length: 20\r\n\r\ntoo many connections";

async fn connection(
    stream: TcpStream,
    addr: SocketAddr,
    admitted: Admitted,
    tls: Option<tokio_rustls::TlsAcceptor>,
    router: axum::Router,
    state: Arc<AppState>,
    stopping: tokio::sync::watch::Receiver<bool>,
) {
    let limits = state.config.limits;
    match tls {
        None => {
            let io = Counted {
                io: stream,
                _admitted: admitted,
            };
            http(io, addr, router, state, stopping).await;
        }
        Some(acceptor) => {
            match tokio::time::timeout(limits.header_timeout, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => {
                    let io = Counted {
                        io: stream,
                        _admitted: admitted,
                    };
                    http(io, addr, router, state, stopping).await;
                }
                Ok(Err(e)) => tracing::debug!(%addr, error = %e, "TLS handshake failed"),
                Err(_) => Metrics::inc(&state.metrics.listen.handshake_timeouts),
            }
        }
    }
}

/// HTTP/1.1 on one connection, with its upgrades (the sync WebSocket).
async fn http<I>(
    io: I,
    addr: SocketAddr,
    router: axum::Router,
    state: Arc<AppState>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limits = state.config.limits;
    let timeouts = state.clone();
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(addr));
        let router = router.clone();
        let state = timeouts.clone();
        async move {
            match tokio::time::timeout(limits.request_timeout, router.oneshot(req)).await {
                Ok(answer) => answer,
                Err(_) => {
                    Metrics::inc(&state.metrics.listen.request_timeouts);
                    tracing::debug!(%addr, "request timed out");
                    Ok::<_, Infallible>(
                        (
                            axum::http::StatusCode::REQUEST_TIMEOUT,
                            [(axum::http::header::CONNECTION, "close")],
                            "request timeout",
                        )
                            .into_response(),
                    )
                }
            }
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let conn = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let stop = async move {
        let _ = stopping.wait_for(|s| *s).await;
    };
    let served = tokio::select! {
        r = conn.as_mut() => r,
        () = stop => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = served {
        if e.is_timeout() {
            Metrics::inc(&state.metrics.listen.header_timeouts);
        }
        tracing::debug!(%addr, error = %e, "connection ended");
    }
}

/// Admits connections within the limits.
struct Gate {
    state: Arc<AppState>,
    total: Arc<Semaphore>,
    per_address: Mutex<HashMap<IpAddr, usize>>,
}

impl Gate {
    fn new(state: Arc<AppState>) -> Self {
        let total = state
            .config
            .limits
            .max_connections
            .min(Semaphore::MAX_PERMITS);
        Gate {
            state,
            total: Arc::new(Semaphore::new(total)),
            per_address: Mutex::new(HashMap::new()),
        }
    }

    /// A place for one more connection from `ip`, or `None` (counted) over a limit.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Admitted> {
        let m = &self.state.metrics.listen;
        let Ok(permit) = self.total.clone().try_acquire_owned() else {
            Metrics::inc(&m.refused_total);
            tracing::debug!(%ip, "connection refused: total limit");
            return None;
        };
        {
            let mut map = self.per_address.lock().unwrap_or_else(|p| p.into_inner());
            let n = map.entry(ip).or_insert(0);
            if *n >= self.state.config.limits.max_connections_per_address {
                drop(map);
                Metrics::inc(&m.refused_per_address);
                tracing::debug!(%ip, "connection refused: limit per address");
                return None;
            }
            *n += 1;
        }
        Metrics::inc(&m.accepted);
        m.open.fetch_add(1, Relaxed);
        Some(Admitted {
            gate: self.clone(),
            ip,
            _permit: permit,
        })
    }
}

/// One connection's place within the limits, given back when it is dropped.
struct Admitted {
    gate: Arc<Gate>,
    ip: IpAddr,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut map = self
            .gate
            .per_address
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
        drop(map);
        self.gate.state.metrics.listen.open.fetch_sub(1, Relaxed);
    }
}

/// A socket holding its connection's place: an upgraded WebSocket takes the socket, and
/// with it the place, until it closes.
struct Counted<I> {
    io: I,
    _admitted: Admitted,
}

impl<I: AsyncRead + Unpin> AsyncRead for Counted<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Counted<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;

    #[tokio::test]
    async fn every_request_carries_the_clients_address() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::SqliteDb::open(dir.path().join("s.sqlite")).unwrap();
        let state = AppState::new(Arc::new(db), crate::Config::default());
        let router = axum::Router::new().route(
            "/who",
            get(|ConnectInfo(addr): ConnectInfo<SocketAddr>| async move { addr.ip().to_string() }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let to = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(run(listener, None, state, router, async {
            let _ = stopped.await;
        }));
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.9:0".parse().unwrap()).unwrap();
        let mut s = socket.connect(to).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        s.write_all(b"GET /who HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("127.0.0.9"), "{answer}");
        stop.send(()).unwrap();
        served.await.unwrap().unwrap();
    }
}
