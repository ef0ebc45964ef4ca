//! The server over real HTTP on loopback: in-process on port 0, and as the real binary.
// Test helpers, like tests, fail by panicking with the cause.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use quire_core::protocol::{Health, HealthStatus};
use tokio::net::TcpListener;

#[tokio::test]
async fn health_answers_over_http_and_shutdown_is_graceful() {
    let dir = tempfile::tempdir().unwrap();
    let db = quire_server::Db::connect(&format!("sqlite://{}", dir.path().join("s.db").display()))
        .await
        .unwrap();
    let state =
        quire_server::AppState::new(db, quire_server::Limits::default(), Duration::from_secs(60));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(quire_server::run(listener, state, async {
        let _ = stopped.await;
    }));

    let response = reqwest::get(format!("http://{addr}/v1/health"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let health: Health = response.json().await.unwrap();
    assert_eq!(health.status, HealthStatus::Ok);
    assert_eq!(health.version, env!("CARGO_PKG_VERSION"));

    let missing = reqwest::get(format!("http://{addr}/v1/nope"))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("server did not stop after the shutdown signal")
        .unwrap()
        .unwrap();
}

fn server_bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_quire-server"))
}

#[test]
fn version_and_help_are_answered() {
    let version = server_bin().arg("--version").output().unwrap();
    assert!(version.status.success());
    let text = String::from_utf8(version.stdout).unwrap();
    assert_eq!(
        text.trim(),
        format!("quire-server {}", env!("CARGO_PKG_VERSION"))
    );

    let help = server_bin().arg("--help").output().unwrap();
    assert!(help.status.success());
    let text = String::from_utf8(help.stdout).unwrap();
    assert!(text.contains("--listen"), "{text}");
    assert!(text.contains("QUIRE_SERVER_LISTEN"), "{text}");
}

#[test]
fn an_unusable_listen_address_is_one_clear_error() {
    let out = server_bin()
        .args(["--listen", "not-an-address"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("--listen"), "{err}");
}

#[test]
fn binary_serves_then_exits_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("server.db").display());
    let mut child = server_bin()
        .args(["--listen", "127.0.0.1:0", "--db", &db])
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let health: Health = runtime.block_on(async {
        reqwest::get(format!("{url}/v1/health"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(health.status, HealthStatus::Ok);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "server exited with {status} after SIGTERM"
    );
    assert!(
        dir.path().join("server.db").exists(),
        "the SQLite file is created if missing"
    );
}

#[test]
fn a_database_url_it_cannot_use_is_one_clear_error() {
    let out = server_bin()
        .args(["--listen", "127.0.0.1:0", "--db", "mysql://localhost/quire"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("use sqlite://PATH or postgres://"), "{err}");
}

#[test]
fn a_port_in_use_is_one_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("server.db").display());
    let out = server_bin()
        .args(["--listen", &addr, "--db", &db])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
}
