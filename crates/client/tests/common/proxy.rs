//! A loopback TCP proxy that counts the bytes crossing it: the honest "bytes on the wire"
//! figure, headers included.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Default)]
pub struct Counts {
    /// Client to server.
    pub up: AtomicU64,
    /// Server to client.
    pub down: AtomicU64,
}

impl Counts {
    pub fn total(&self) -> (u64, u64) {
        (
            self.up.load(Ordering::SeqCst),
            self.down.load(Ordering::SeqCst),
        )
    }
}

pub struct CountingProxy {
    pub url: String,
    pub counts: Arc<Counts>,
}

/// Forwards every connection on a new loopback port to `target` (an http://host:port URL).
pub async fn counting_proxy(target: &str) -> CountingProxy {
    let target = target
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let counts = Arc::new(Counts::default());
    let shared = Arc::clone(&counts);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let target = target.clone();
            let counts = Arc::clone(&shared);
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(&target).await else {
                    return;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                let up = pump(client_read, server_write, Arc::clone(&counts), true);
                let down = pump(server_read, client_write, counts, false);
                tokio::join!(up, down);
            });
        }
    });
    CountingProxy { url, counts }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    counts: Arc<Counts>,
    up: bool,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let counter = if up { &counts.up } else { &counts.down };
        counter.fetch_add(n as u64, Ordering::SeqCst);
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// What the fault proxy does to the next connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Pass,
    /// Accept, then close at once: a server that is not there.
    Refuse,
    /// Forward this many bytes of the request, then cut the connection.
    CutRequestAfter(u64),
    /// Forward this many bytes of the response, then cut the connection.
    CutResponseAfter(u64),
}

pub struct FaultProxy {
    pub url: String,
    fault: Arc<std::sync::Mutex<Fault>>,
}

impl FaultProxy {
    pub fn set(&self, fault: Fault) {
        *self.fault.lock().unwrap() = fault;
    }
}

/// A loopback proxy to `target` that applies the fault set at the time each connection opens.
pub async fn fault_proxy(target: &str) -> FaultProxy {
    let target = target
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let fault = Arc::new(std::sync::Mutex::new(Fault::Pass));
    let shared = Arc::clone(&fault);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let fault = *shared.lock().unwrap();
            let target = target.clone();
            tokio::spawn(async move {
                if fault == Fault::Refuse {
                    return;
                }
                let Ok(server) = TcpStream::connect(&target).await else {
                    return;
                };
                let (up_limit, down_limit) = match fault {
                    Fault::CutRequestAfter(n) => (Some(n), None),
                    Fault::CutResponseAfter(n) => (None, Some(n)),
                    Fault::Pass | Fault::Refuse => (None, None),
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                // The first side to be cut ends the whole connection.
                tokio::select! {
                    () = pump_limited(client_read, server_write, up_limit) => {}
                    () = pump_limited(server_read, client_write, down_limit) => {}
                }
            });
        }
    });
    FaultProxy { url, fault }
}

async fn pump_limited(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    limit: Option<u64>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut sent = 0u64;
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let allowed = limit.map_or(n, |limit| {
            usize::try_from(limit.saturating_sub(sent))
                .unwrap_or(usize::MAX)
                .min(n)
        });
        if allowed > 0 && to.write_all(&buf[..allowed]).await.is_err() {
            break;
        }
        sent += allowed as u64;
        if allowed < n {
            // Cut: this side stops here; the caller drops both halves.
            return;
        }
    }
    let _ = to.shutdown().await;
    // Wait for the other direction to finish too (the select ends the connection on return).
    std::future::pending::<()>().await;
}
