//! A loopback TCP proxy in front of the server: it counts the bytes crossing it (the honest
//! "bytes on the wire" figure, headers included) and can refuse connections, cut them
//! mid-request or mid-response, slow them down, or swallow what they carry.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
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

/// What the proxy does to the next connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Pass,
    /// Accept, then close at once: a server that is not there.
    Refuse,
    /// Forward this many bytes of the request, then cut the connection.
    CutRequestAfter(u64),
    /// Forward this many bytes of the response, then cut the connection.
    CutResponseAfter(u64),
    /// Forward everything, each read held back this many milliseconds: a slow link.
    Delay(u64),
    /// Accept and read the request, but never pass it on or answer: packets dropped on
    /// the way out. The connection stays open until the client gives up.
    DropRequest,
    /// Pass the request to the server, then drop every byte of its answer: the server has
    /// done the work and the client never hears of it.
    DropResponse,
}

/// How one direction of a connection is treated.
#[derive(Clone, Copy)]
enum Flow {
    Forward,
    CutAfter(u64),
    Slow(Duration),
    Swallow,
}

pub struct Proxy {
    pub url: String,
    pub counts: Arc<Counts>,
    fault: Arc<Mutex<Fault>>,
}

impl Proxy {
    pub fn set(&self, fault: Fault) {
        *self.fault.lock().unwrap() = fault;
    }
}

/// A proxy that passes everything and counts it.
pub async fn counting_proxy(target: &str) -> Proxy {
    fault_proxy(target).await
}

/// A proxy to `target` (an http://host:port URL) that applies the fault set at the time each
/// connection opens (none until `set`).
pub async fn fault_proxy(target: &str) -> Proxy {
    let target = target
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let counts = Arc::new(Counts::default());
    let fault = Arc::new(Mutex::new(Fault::Pass));
    let (shared_counts, shared_fault) = (Arc::clone(&counts), Arc::clone(&fault));
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let fault = *shared_fault.lock().unwrap();
            let (target, counts) = (target.clone(), Arc::clone(&shared_counts));
            tokio::spawn(async move {
                let (up, down) = match fault {
                    Fault::Refuse => return,
                    Fault::DropRequest => {
                        let (mut client_read, _client_write) = client.into_split();
                        swallow(&mut client_read).await;
                        return;
                    }
                    Fault::CutRequestAfter(n) => (Flow::CutAfter(n), Flow::Forward),
                    Fault::CutResponseAfter(n) => (Flow::Forward, Flow::CutAfter(n)),
                    Fault::Delay(ms) => {
                        let slow = Flow::Slow(Duration::from_millis(ms));
                        (slow, slow)
                    }
                    Fault::DropResponse => (Flow::Forward, Flow::Swallow),
                    Fault::Pass => (Flow::Forward, Flow::Forward),
                };
                let Ok(server) = TcpStream::connect(&target).await else {
                    return;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                // The first side to be cut ends the whole connection.
                tokio::select! {
                    () = pump(client_read, server_write, &counts.up, up) => {}
                    () = pump(server_read, client_write, &counts.down, down) => {}
                }
            });
        }
    });
    Proxy { url, counts, fault }
}

/// Reads and forgets everything until the other end closes.
async fn swallow(from: &mut OwnedReadHalf) {
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(1..) = from.read(&mut buf).await {}
}

/// Copies one direction, counting what it forwards; returns when cut.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, counter: &AtomicU64, flow: Flow) {
    if let Flow::Swallow = flow {
        swallow(&mut from).await;
        std::future::pending::<()>().await;
    }
    let mut buf = vec![0u8; 16 * 1024];
    let mut sent = 0u64;
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Flow::Slow(delay) = flow {
            tokio::time::sleep(delay).await;
        }
        let allowed = match flow {
            Flow::CutAfter(limit) => usize::try_from(limit.saturating_sub(sent))
                .unwrap_or(usize::MAX)
                .min(n),
            Flow::Forward | Flow::Slow(_) | Flow::Swallow => n,
        };
        if allowed > 0 && to.write_all(&buf[..allowed]).await.is_err() {
            break;
        }
        counter.fetch_add(allowed as u64, Ordering::SeqCst);
        sent += allowed as u64;
        if allowed < n {
            // Cut: the caller drops both halves.
            return;
        }
    }
    let _ = to.shutdown().await;
    // This direction is done; the connection lasts until the other one is too.
    std::future::pending::<()>().await;
}
