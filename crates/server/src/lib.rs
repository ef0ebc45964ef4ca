//! quire-server: the sync server that a person's devices meet at.
//!
//! # Layout
//! - [`config`]: command-line and environment settings.
//! - [`routes`]: the HTTP API under `/v1`.
//! - [`run`]: serve a bound listener until a shutdown signal, finishing in-flight requests.
//!
//! `run` takes the listener rather than an address so tests bind port 0 and learn the port.

pub mod config;
pub mod routes;

use std::future::Future;

use tokio::net::TcpListener;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("server failed: {0}")]
    Serve(std::io::Error),
}

/// Serves the API on `listener` until `shutdown` completes, then lets in-flight requests finish.
pub async fn run(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    axum::serve(listener, routes::router())
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(Error::Serve)
}
