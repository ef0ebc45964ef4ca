//! quire-server: the sync server that a person's devices meet at.
//!
//! # Layout
//! - [`config`]: command-line and environment settings, including request limits.
//! - [`db`]: SQLite or PostgreSQL through one set of queries, with migrations per engine.
//! - `clock`: the server's time, in milliseconds since the Unix epoch.
//! - [`AppState`] (`state`): what every request handler can reach.
//! - [`accounts`]: register, log in, log out, and the bearer-token check.
//! - `passwords`: argon2id hashing, a bounded number at once (503 beyond the wait).
//! - `attempts`: login and registration attempts, counted before a password is checked,
//!   per address and per account name and address (429 beyond a limit).
//! - [`client_addr`]: the client's address, from X-Forwarded-For only via `--trusted-proxy`.
//! - [`prune`]: removes dead sessions, old attempts and old op answers in the background.
//! - [`sync`]: push (idempotent, one transaction per batch) and pull (cursor over the
//!   change log).
//! - `push_batch`: a push's reads and writes: loads what the ops touch, has
//!   `quire_core::push_judgement` judge them, writes the outcome (notes, history, answers).
//! - [`health`]: `GET /v1/health`.
//! - [`problem`]: every error as `application/problem+json`, and the problem answers
//!   several operations document alike in the OpenAPI document.
//! - [`openapi`]: the OpenAPI 3 document, generated from the handlers and protocol types.
//! - [`routes`]: the HTTP API under `/v1` and its middleware (compression, limits, timeouts).
//!
//!   Handlers (`health`, `accounts`, `sync`) know neither `routes` nor `openapi`; both of
//!   those list the handlers, and `routes` serves the `openapi` document.
//! - `connections`: the accept loop: a cap on open connections, time limits on request heads
//!   (closing idle connections too) and on answers the client does not read, TLS, and a
//!   graceful stop.
//! - [`run`]: serve a bound listener until a shutdown signal, finishing in-flight requests,
//!   with pruning running beside it; [`spawn`] does so on a task, for tests and the app's
//!   embedded server.
//!
//! `run` takes the listener rather than an address so tests bind port 0 and learn the port.
//! Instances keep no state of their own beyond the database (rate limits included), so
//! several can share one PostgreSQL; only the bound on concurrent password hashes is per
//! process, as the memory it protects is.

pub mod account_keys;
pub mod accounts;
mod attempts;
pub mod changes_count;
pub mod client_addr;
mod clock;
pub mod config;
mod connections;
pub mod db;
pub mod digest;
pub mod health;
pub mod history;
pub mod openapi;
mod passwords;
pub mod problem;
pub mod prune;
mod push_batch;
pub mod routes;
mod sealed_batch;
mod sealed_pull;
mod state;
pub mod sync;
pub mod unsealed;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

pub use client_addr::TrustedProxy;
pub use config::{Config, Limits};
pub use db::Db;
pub use quire_core::push_judgement::ROW_OVERHEAD;
pub use state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("server failed: {0}")]
    Serve(std::io::Error),
    #[error("no data directory for the server's database; pass --db")]
    NoDataDir,
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} is not a database URL this server knows; use sqlite://PATH or postgres://...")]
    DbUrl(String),
    #[error("cannot open the database {url}: {source}")]
    DbConnect { url: String, source: sqlx::Error },
    #[error("cannot bring the database schema up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0:?} is not an IP address or network (like 127.0.0.1 or 10.0.0.0/8)")]
    ProxyAddress(String),
    #[error("{text:?}: the prefix length is 0 to {bits}")]
    ProxyPrefix { text: String, bits: u8 },
    #[error("cannot use the TLS certificate {cert} and key {key}: {source}")]
    Tls {
        cert: PathBuf,
        key: PathBuf,
        source: std::io::Error,
    },
}

/// A PEM certificate chain and its private key, for serving HTTPS.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// How long in-flight requests may take to finish once a shutdown was asked for.
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves the API on `listener` until `shutdown` completes, then lets in-flight requests finish
/// (for up to 30 s). At most `limits.max_connections` connections are open at once, and each
/// must send a request's head within `limits.header_timeout_secs` (see `connections`).
/// Returns once the database is closed too: SQLite checkpoints and removes its WAL when the
/// last connection closes, and a pool closing late could remove the WAL of a database put in
/// this one's place (a restored backup) after the stop.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let _pruner = prune::spawn(state.db.clone(), state.limits);
    let pool = state.db.pool.clone();
    let settings = connections::Settings::new(&state.limits, SHUTDOWN_GRACE);
    connections::serve(listener, routes::router(state), None, settings, shutdown).await;
    // Stopped means let go of the database files too (see `run`).
    pool.close().await;
    Ok(())
}

/// Like [`run`], over TLS (rustls) with the given certificate and key.
pub async fn run_tls(
    listener: TcpListener,
    state: AppState,
    tls: &TlsFiles,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    // One crypto provider for the whole process, chosen here rather than by feature luck.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
        .await
        .map_err(|source| Error::Tls {
            cert: tls.cert.clone(),
            key: tls.key.clone(),
            source,
        })?;
    // Offer HTTP/1.1 alone: it is all the server speaks (see `connections`).
    let mut server_config = (*config.get_inner()).clone();
    server_config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.reload_from_config(Arc::new(server_config));
    let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(config);
    let _pruner = prune::spawn(state.db.clone(), state.limits);
    let pool = state.db.pool.clone();
    let settings = connections::Settings::new(&state.limits, SHUTDOWN_GRACE);
    let app = routes::router(state);
    connections::serve(listener, app, Some(acceptor), settings, shutdown).await;
    // Stopped means let go of the database files too (see `run`).
    pool.close().await;
    Ok(())
}

/// A server running on a spawned task: what tests use, and the app's embedded local server.
/// Dropping it asks it to stop; [`Spawned::stop`] also waits until it has.
pub struct Spawned {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), Error>>>,
}

impl Spawned {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets in-flight requests finish, and waits for the server to end.
    pub async fn stop(mut self) -> Result<(), Error> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task
                .await
                .map_err(|err| Error::Serve(std::io::Error::other(err)))?,
            None => Ok(()),
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serves the API on `listener` on a new task of the current tokio runtime.
pub fn spawn(listener: TcpListener, state: AppState) -> Result<Spawned, Error> {
    let addr = listener.local_addr().map_err(Error::Serve)?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(run(listener, state, async {
        let _ = stopped.await;
    }));
    Ok(Spawned {
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}
