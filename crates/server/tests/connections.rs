//! Connections on real loopback sockets: at most `--max-connections` open at once (the rest
//! wait, then are answered 503), request heads bounded by `--header-timeout-secs` (so
//! half-sent requests and idle keep-alive connections are closed), slow requests answered
//! 408 with a problem, answers never read cut off, and a stop that half-sent requests cannot
//! hold up.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{Backend, TestServer, PASSWORD};
use quire_server::Limits;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

const HALF_SENT: &[u8] = b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: appl";

/// Small limits, so the test runs in seconds.
fn small() -> Limits {
    Limits {
        max_connections: 50,
        connection_wait_ms: 200,
        header_timeout_secs: 1,
        ..Limits::default()
    }
}

fn addr(server: &TestServer) -> SocketAddr {
    server.base.trim_start_matches("http://").parse().unwrap()
}

/// How a connection ended, as its client saw it.
#[derive(Debug)]
struct Ending {
    /// What the server sent before it closed.
    received: Vec<u8>,
    /// Closed (EOF or reset) within the time given; false if still open then.
    closed: bool,
    /// When, counted from `start`.
    after: Duration,
}

/// Reads what the server sends until it closes the connection, or `within` passes.
async fn ending(mut stream: TcpStream, start: Instant, within: Duration) -> Ending {
    let mut received = Vec::new();
    let mut buf = [0_u8; 4096];
    let deadline = start + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => {
                return Ending {
                    received,
                    closed: true,
                    after: start.elapsed(),
                }
            }
            Ok(Ok(read)) => received.extend_from_slice(&buf[..read]),
            Err(_) => {
                return Ending {
                    received,
                    closed: false,
                    after: start.elapsed(),
                }
            }
        }
    }
}

fn is_busy_problem(received: &[u8]) -> bool {
    let text = String::from_utf8_lossy(received).to_ascii_lowercase();
    text.starts_with("http/1.1 503")
        && text.contains("content-type: application/problem+json")
        && text.contains("retry-after: 1")
        && text.contains("\"type\":\"https://quire.app/problems/unavailable\"")
}

/// A server whose listener queues every connection of the flood below (the usual backlog,
/// 128, would leave some retrying their SYN a second later, blurring the timing).
async fn start_with_deep_backlog(limits: Limits) -> (quire_server::Spawned, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("server.db").display());
    let db = quire_server::Db::connect(&url).await.unwrap();
    let state = quire_server::AppState::new(db, limits, Duration::from_secs(60));
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1024).unwrap();
    (quire_server::spawn(listener, state).unwrap(), dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_neither_hold_their_connections_nor_starve_the_server() {
    let limits = small();
    let (server, _dir) = start_with_deep_backlog(limits).await;
    let health_url = format!("{}/v1/health", server.url());
    let within = Duration::from_secs(limits.header_timeout_secs + 3);
    let start = Instant::now();
    let mut readers = tokio::task::JoinSet::new();
    for _ in 0..300 {
        let mut stream = TcpStream::connect(server.addr()).await.unwrap();
        stream.write_all(HALF_SENT).await.unwrap();
        readers.spawn(ending(stream, start, within));
    }
    let connected = start.elapsed();

    // With every slot taken, a real client waits a moment, then hears 503 at once rather
    // than hanging.
    let asked = Instant::now();
    let busy = reqwest::Client::new()
        .get(&health_url)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap();
    let busy_after = asked.elapsed();
    assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(busy.headers()["content-type"], "application/problem+json");
    assert_eq!(busy.headers()["retry-after"], "1");
    assert!(busy_after < Duration::from_secs(2), "{busy_after:?}");

    let endings = readers.join_all().await;
    let still_open = endings.iter().filter(|e| !e.closed).count();
    assert_eq!(
        still_open, 0,
        "half-sent requests still open {within:?} after they were sent"
    );
    // At most the cap were taken in: they get nothing and are closed by the header timeout;
    // the rest waited for a slot, briefly, and were answered 503.
    let header_timeout = Duration::from_secs(limits.header_timeout_secs);
    let (timed_out, answered): (Vec<&Ending>, Vec<&Ending>) =
        endings.iter().partition(|e| e.received.is_empty());
    assert!(
        timed_out.len() <= limits.max_connections as usize,
        "{} connections were taken in",
        timed_out.len()
    );
    for ending in &timed_out {
        assert!(
            ending.after >= header_timeout - Duration::from_millis(100),
            "closed before the header timeout: {ending:?}"
        );
    }
    for ending in &answered {
        assert!(is_busy_problem(&ending.received), "{ending:?}");
        assert!(ending.after < header_timeout, "{ending:?}");
    }

    // Once the slots are free again, the server answers at once.
    let asked = Instant::now();
    let health = reqwest::Client::new()
        .get(&health_url)
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    println!(
        "300 half-sent requests connected in {connected:?}; {} taken in and timed out, {} \
         turned away; a health check during the flood: 503 after {busy_after:?}, after it: 200 \
         after {:?}",
        timed_out.len(),
        answered.len(),
        asked.elapsed()
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_header_timeout() {
    let server = TestServer::start_with(Backend::Sqlite, small()).await;
    let mut stream = TcpStream::connect(addr(&server)).await.unwrap();
    stream
        .write_all(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0_u8; 4096];
    let read = stream.read(&mut buf).await.unwrap();
    let answer = String::from_utf8_lossy(&buf[..read]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.ends_with('}'),
        "the whole answer in one read: {answer}"
    );

    // The connection is kept alive for a next request, but not for ever.
    let answered = Instant::now();
    let end = ending(stream, answered, Duration::from_secs(3)).await;
    assert!(end.closed, "an idle connection was kept open: {end:?}");
    assert!(end.received.is_empty(), "{end:?}");
    assert!(end.after >= Duration::from_millis(900), "{end:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_request_slower_than_the_request_timeout_is_answered_408_with_a_problem() {
    let limits = Limits {
        request_timeout_secs: 1,
        ..Limits::default()
    };
    let server = TestServer::start_with(Backend::Sqlite, limits).await;
    let mut stream = TcpStream::connect(addr(&server)).await.unwrap();
    // The head in full, then part of the body, and nothing more.
    let body = common::new_account_json("slowpoke", PASSWORD).to_string();
    let head = format!(
        "POST /v1/accounts HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body.as_bytes()[..10]).await.unwrap();

    let sent = Instant::now();
    let end = ending(stream, sent, Duration::from_secs(5)).await;
    let answer = String::from_utf8_lossy(&end.received).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{end:?}");
    assert!(end.after >= Duration::from_millis(900), "{end:?}");
    let lower = answer.to_ascii_lowercase();
    assert!(
        lower.contains("content-type: application/problem+json"),
        "{answer}"
    );
    let json: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(json["type"], "https://quire.app/problems/request-timeout");
    assert_eq!(json["status"], 408);
    assert_eq!(server.count("accounts").await, 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_its_answer_loses_its_connection_after_the_request_timeout() {
    // One connection slot, and a second to wait for it.
    let limits = Limits {
        max_connections: 1,
        connection_wait_ms: 3000,
        request_timeout_secs: 1,
        ..Limits::default()
    };
    let server = TestServer::start_with(Backend::Sqlite, limits).await;
    // Clients that close their connection after each answer, leaving the slot free.
    let fresh = || {
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap()
    };
    let mut server = server;
    server.http = fresh();
    let token = server.account("hoarder").await;
    let note = common::new_note();
    // Larger than the kernel's socket buffers (4 MiB to send), so the answer cannot all go.
    let big = "x".repeat(7 * 1024 * 1024);
    server
        .push(&token, vec![common::create_op(note, "big", &big)])
        .await;

    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut hoarder = socket.connect(addr(&server)).await.unwrap();
    let request = format!(
        "GET /v1/notes/{note} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    hoarder.write_all(request.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The hoarder holds the only slot until its stalled answer is cut off.
    let asked = Instant::now();
    let health = fresh()
        .get(server.url("/health"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert_eq!(
        health.status(),
        StatusCode::OK,
        "after {:?}",
        asked.elapsed()
    );
    assert!(
        asked.elapsed() < Duration::from_millis(2500),
        "{:?}",
        asked.elapsed()
    );
    // What reached the hoarder is what the kernel had taken before the cut: not all of it.
    let end = ending(hoarder, Instant::now(), Duration::from_secs(10)).await;
    assert!(end.closed, "{:?}", end.after);
    assert!(end.received.len() < big.len(), "{}", end.received.len());
    server.stop().await;
}

#[tokio::test]
async fn a_stop_finishes_requests_in_flight_and_is_not_held_up_by_half_sent_ones() {
    let server = TestServer::start_with(Backend::Sqlite, small()).await;
    let addr = addr(&server);
    let mut half_sent = Vec::new();
    for _ in 0..20 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(HALF_SENT).await.unwrap();
        half_sent.push(stream);
    }
    // A sign-up in flight: its head and half its body are in when the stop comes.
    let body = common::new_account_json("inflight", PASSWORD).to_string();
    let head = format!(
        "POST /v1/accounts HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    let mut in_flight = TcpStream::connect(addr).await.unwrap();
    in_flight.write_all(head.as_bytes()).await.unwrap();
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    in_flight.write_all(first).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let asked = Instant::now();
    let stopping = tokio::spawn(server.stop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    in_flight.write_all(rest).await.unwrap();
    let end = ending(in_flight, asked, Duration::from_secs(5)).await;
    let answer = String::from_utf8_lossy(&end.received).into_owned();
    // Answered in full (the account was made), and the connection closed after it.
    assert!(answer.starts_with("HTTP/1.1 201"), "{end:?}");
    assert!(end.closed, "{end:?}");

    tokio::time::timeout(Duration::from_secs(5), stopping)
        .await
        .expect("the stop waited on half-sent requests")
        .unwrap();
    drop(half_sent);
}
