//! The accept loop in front of the router: a cap on open connections, a time limit on
//! sending a request's head, and a graceful stop.
//!
//! `axum::serve` has neither limit: a client that sent half a request line kept its
//! connection, a task and a file descriptor for as long as it liked, so a few hundred of them
//! used up the process's descriptors and health checks timed out; and a stop waited for them
//! for ever.
//!
//! - Slots: a connection holds one of `--max-connections` from accept to close (its TLS
//!   handshake included). With every slot taken the loop stops accepting, and new connections
//!   wait in the kernel's accept queue, which costs the process no descriptor. If none frees
//!   up within `--connection-wait-ms`, the waiting connections are answered 503 (a problem,
//!   with Retry-After) and closed, and so is every newcomer, until one does.
//! - Heads: HTTP/1.1 through hyper's own connection with a timer, so a request head must
//!   arrive within `--header-timeout-secs` of the connection opening or of its previous
//!   answer; a half-sent request and an idle keep-alive connection are both closed then.
//!   A TLS handshake gets as long again. (HTTP/2, which `axum::serve` also spoke, has no such
//!   timer in hyper, and hyper-util's protocol sniffing none either; Quire's clients speak
//!   HTTP/1.1, and TLS offers only that.)
//! - Answers: a connection whose client takes no byte of an answer for
//!   `--request-timeout-secs` is cut off, or a client that asked for a large answer and never
//!   read it would hold its slot, and the answer in memory, for ever.
//! - Stop: the listener closes, idle connections close at once, busy ones after the answer
//!   they are on; after [`SHUTDOWN_GRACE`](crate::SHUTDOWN_GRACE) whatever is left is dropped.

use std::future::Future;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::connect_info::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::Router;
use axum_server::accept::Accept;
use axum_server::tls_rustls::RustlsAcceptor;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use quire_core::protocol::{problem, Problem};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;
use tower::ServiceExt;

use crate::config::Limits;

/// What the accept loop needs to know, from [`Limits`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    max_connections: u32,
    connection_wait: Duration,
    header_timeout: Duration,
    stall_limit: Duration,
    grace: Duration,
}

impl Settings {
    pub(crate) fn new(limits: &Limits, grace: Duration) -> Self {
        Self {
            // Zero would serve nobody; the command line refuses it, a library caller may not.
            max_connections: limits.max_connections.max(1),
            connection_wait: Duration::from_millis(limits.connection_wait_ms),
            header_timeout: Duration::from_secs(limits.header_timeout_secs.max(1)),
            stall_limit: Duration::from_secs(limits.request_timeout_secs.max(1)),
            grace,
        }
    }
}

/// Where the server is in its life, as each connection task sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Serving,
    /// Finish the request in progress, if any, and close.
    Draining,
    /// Close now.
    Closing,
}

/// Serves `app` on `listener`, over TLS if given an acceptor, until `shutdown` completes and
/// the connections have finished (or [`Settings::grace`] has passed).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<RustlsAcceptor>,
    settings: Settings,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(settings.max_connections as usize));
    let (phase, _) = watch::channel(Phase::Serving);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(settings.header_timeout);
    let tls = tls.map(|acceptor| acceptor.handshake_timeout(settings.header_timeout));
    // Turned-away TLS clients are just closed: an answer would need a handshake first.
    let busy = tls.is_none().then(busy_answer);
    let mut turned_away = TurnedAway::default();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            biased;
            () = &mut shutdown => break,
            slot = take_slot(&slots, &listener, &settings, busy.as_deref(), &mut turned_away) => slot,
        };
        let Some(slot) = slot else { break };
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    pause_after_accept_error(&err).await;
                    continue;
                }
            },
        };
        let stream = StallLimit::new(stream, settings.stall_limit);
        let connection = Connection {
            http: http.clone(),
            app: app.clone(),
            peer,
            phase: phase.subscribe(),
            _slot: slot,
        };
        match &tls {
            None => tokio::spawn(connection.serve(stream)),
            Some(acceptor) => tokio::spawn(connection.serve_tls(acceptor.accept(stream, ()))),
        };
    }
    // Refuse new connections at once rather than leave them waiting in the queue.
    drop(listener);
    phase.send_replace(Phase::Draining);
    // Every slot back means every connection closed.
    let all_closed = slots.acquire_many(settings.max_connections);
    if tokio::time::timeout(settings.grace, all_closed)
        .await
        .is_err()
    {
        tracing::warn!(
            open = settings.max_connections as usize - slots.available_permits(),
            "closing the connections still open {} s after the stop",
            settings.grace.as_secs()
        );
        phase.send_replace(Phase::Closing);
    }
}

/// A free connection slot, waiting for one while every slot is taken (see the module's
/// notes). `None` only if the slots were closed, which nothing does.
async fn take_slot(
    slots: &Arc<Semaphore>,
    listener: &TcpListener,
    settings: &Settings,
    busy: Option<&[u8]>,
    turned_away: &mut TurnedAway,
) -> Option<OwnedSemaphorePermit> {
    if let Ok(slot) = Arc::clone(slots).try_acquire_owned() {
        return Some(slot);
    }
    let waited = tokio::time::timeout(settings.connection_wait, Arc::clone(slots).acquire_owned());
    if let Ok(slot) = waited.await {
        return slot.ok();
    }
    loop {
        tokio::select! {
            biased;
            slot = Arc::clone(slots).acquire_owned() => {
                turned_away.report(settings.max_connections);
                return slot.ok();
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    turn_away(stream, busy);
                    turned_away.count += 1;
                    turned_away.report(settings.max_connections);
                }
                Err(err) => pause_after_accept_error(&err).await,
            },
        }
    }
}

/// Answers a connection there is no slot for with `busy` (if any) and closes it, without
/// waiting for anything: what fits in the socket's empty send buffer goes.
fn turn_away(stream: TcpStream, busy: Option<&[u8]>) {
    let Some(busy) = busy else { return };
    // Plain non-blocking calls: tokio's `try_read` and `try_write` would wait for readiness the
    // runtime has not yet seen on a socket this new, and do nothing.
    let Ok(mut stream) = stream.into_std() else {
        return;
    };
    // Read what the client has sent: closing a socket with unread data sends a reset, which
    // can make the client drop the answer before reading it.
    let mut scratch = [0_u8; 4096];
    for _ in 0..16 {
        match stream.read(&mut scratch) {
            Ok(read) if read > 0 => {}
            _ => break,
        }
    }
    let _ = stream.write(busy);
}

/// The answer to a connection turned away: 503, a problem, Retry-After.
fn busy_answer() -> Vec<u8> {
    let status = StatusCode::SERVICE_UNAVAILABLE;
    let body = Problem {
        kind: problem::UNAVAILABLE.to_owned(),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail: Some("the server has as many connections open as it takes; retry shortly".into()),
    };
    let body = serde_json::to_vec(&body).unwrap_or_default();
    let mut answer = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/problem+json\r\nretry-after: 1\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    answer
}

/// Connections turned away: logged at the first, then at most once a minute, with the count
/// since the last time.
#[derive(Debug, Default)]
struct TurnedAway {
    count: u64,
    last_logged: Option<Instant>,
}

impl TurnedAway {
    const EVERY: Duration = Duration::from_secs(60);

    fn report(&mut self, max_connections: u32) {
        if self.count == 0
            || self
                .last_logged
                .is_some_and(|at| at.elapsed() < Self::EVERY)
        {
            return;
        }
        tracing::warn!(
            turned_away = self.count,
            "all {max_connections} connection slots were taken (--max-connections): turned \
             {} connections away",
            self.count
        );
        self.count = 0;
        self.last_logged = Some(Instant::now());
    }
}

/// A failed accept. The peer giving up before it was accepted needs nothing; anything else
/// (out of file descriptors, most likely) a pause, or the loop would spin on it.
async fn pause_after_accept_error(err: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        err.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!("cannot accept a connection: {err}");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// One accepted connection, holding its slot until it is dropped.
struct Connection {
    http: http1::Builder,
    app: Router,
    peer: SocketAddr,
    phase: watch::Receiver<Phase>,
    _slot: OwnedSemaphorePermit,
}

impl Connection {
    async fn serve_tls<I>(mut self, handshake: impl Future<Output = std::io::Result<(I, ())>>)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let shaken = tokio::select! {
            shaken = handshake => shaken,
            _ = next_phase(&mut self.phase) => return,
        };
        match shaken {
            Ok((stream, ())) => self.serve(stream).await,
            Err(err) => tracing::debug!(peer = %self.peer, "TLS handshake failed: {err}"),
        }
    }

    async fn serve<I>(mut self, stream: I)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let peer = self.peer;
        // What `into_make_service_with_connect_info` did: handlers and `client_addr` read the
        // peer's address from the request.
        let app = self
            .app
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection = self
            .http
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
        let mut connection = std::pin::pin!(connection);
        loop {
            tokio::select! {
                served = connection.as_mut() => {
                    if let Err(err) = served {
                        tracing::debug!(%peer, "connection closed: {err}");
                    }
                    return;
                }
                phase = next_phase(&mut self.phase) => match phase {
                    Phase::Serving => {}
                    Phase::Draining => connection.as_mut().graceful_shutdown(),
                    Phase::Closing => return,
                },
            }
        }
    }
}

/// The phase the server moves to next; the accept loop gone counts as closing.
async fn next_phase(phase: &mut watch::Receiver<Phase>) -> Phase {
    match phase.changed().await {
        Ok(()) => *phase.borrow_and_update(),
        Err(_) => Phase::Closing,
    }
}

/// A connection's socket that fails a write which could not go on for `limit`: the client
/// has stopped reading. Reads pass through; any progress of a write starts the clock again.
struct StallLimit<I> {
    io: I,
    limit: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<I> StallLimit<I> {
    fn new(io: I, limit: Duration) -> Self {
        Self {
            io,
            limit,
            stalled: None,
        }
    }

    /// After the socket answered a write with Pending: Pending still, or an error once the
    /// writes have been stuck for `limit`.
    fn stuck<T>(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<T>> {
        let limit = self.limit;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "the client took nothing of the answer for {} s",
                    limit.as_secs()
                ),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn moved<T>(&mut self, done: Poll<std::io::Result<T>>) -> Poll<std::io::Result<T>> {
        self.stalled = None;
        done
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for StallLimit<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for StallLimit<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match Pin::new(&mut self.io).poll_write(cx, buf) {
            Poll::Pending => self.stuck(cx),
            done => self.moved(done),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match Pin::new(&mut self.io).poll_write_vectored(cx, bufs) {
            Poll::Pending => self.stuck(cx),
            done => self.moved(done),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match Pin::new(&mut self.io).poll_flush(cx) {
            Poll::Pending => self.stuck(cx),
            done => self.moved(done),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match Pin::new(&mut self.io).poll_shutdown(cx) {
            Poll::Pending => self.stuck(cx),
            done => self.moved(done),
        }
    }
}
