//! HTTPS with --tls-cert/--tls-key (rustls): a real TLS handshake on loopback against a
//! self-signed certificate made for the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::time::Duration;

use quire_core::protocol::{Health, HealthStatus};
use quire_server::{AppState, Db, Limits, TlsFiles};

struct Certs {
    dir: tempfile::TempDir,
    cert_pem: String,
}

fn self_signed() -> Certs {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert_pem = certified.cert.pem();
    std::fs::write(dir.path().join("cert.pem"), &cert_pem).unwrap();
    std::fs::write(
        dir.path().join("key.pem"),
        certified.key_pair.serialize_pem(),
    )
    .unwrap();
    Certs { dir, cert_pem }
}

#[tokio::test]
async fn the_api_is_served_over_https_and_not_over_plain_http() {
    let certs = self_signed();
    let tls = TlsFiles {
        cert: certs.dir.path().join("cert.pem"),
        key: certs.dir.path().join("key.pem"),
    };
    let db = Db::connect(&format!(
        "sqlite://{}",
        certs.dir.path().join("s.db").display()
    ))
    .await
    .unwrap();
    let state = AppState::new(db, Limits::default(), Duration::from_secs(60));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        quire_server::run_tls(listener, state, &tls, async {
            let _ = stopped.await;
        })
        .await
    });

    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(certs.cert_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let url = format!("https://localhost:{port}/v1/health");
    let health: Health = client.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(health.status, HealthStatus::Ok);

    // A client that does not trust the certificate is refused by its own TLS check.
    assert!(reqwest::get(&url).await.is_err());
    // Plain HTTP on the TLS port gets no API answer.
    let plain = reqwest::get(format!("http://127.0.0.1:{port}/v1/health")).await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(40), server)
        .await
        .expect("the TLS server did not stop")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_tls_handshake_never_finished_is_cut_off_at_the_header_timeout() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let certs = self_signed();
    let tls = TlsFiles {
        cert: certs.dir.path().join("cert.pem"),
        key: certs.dir.path().join("key.pem"),
    };
    let db = Db::connect(&format!(
        "sqlite://{}",
        certs.dir.path().join("s.db").display()
    ))
    .await
    .unwrap();
    let limits = Limits {
        header_timeout_secs: 1,
        ..Limits::default()
    };
    let state = AppState::new(db, limits, Duration::from_secs(60));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        quire_server::run_tls(listener, state, &tls, async {
            let _ = stopped.await;
        })
        .await
    });

    // The first bytes of a ClientHello record, and nothing more.
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00])
        .await
        .unwrap();
    let mut buf = [0_u8; 64];
    let closed = tokio::time::timeout(Duration::from_secs(3), stream.read(&mut buf)).await;
    assert!(
        matches!(closed, Ok(Ok(0) | Err(_))),
        "a half-made TLS connection was kept open: {closed:?}"
    );

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the TLS server did not stop")
        .unwrap()
        .unwrap();
}

#[test]
fn bad_tls_settings_are_one_clear_error() {
    let bin = env!("CARGO_BIN_EXE_quire-server");
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("s.db").display());

    let half = Command::new(bin)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--db",
            &db,
            "--tls-cert",
            "/nonexistent.pem",
        ])
        .output()
        .unwrap();
    assert_eq!(half.status.code(), Some(2), "a certificate needs its key");
    assert!(String::from_utf8_lossy(&half.stderr).contains("--tls-key"));

    let missing = Command::new(bin)
        .args(["--listen", "127.0.0.1:0", "--db", &db])
        .args([
            "--tls-cert",
            "/nonexistent/cert.pem",
            "--tls-key",
            "/nonexistent/key.pem",
        ])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!missing.status.success());
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        err.contains("cannot use the TLS certificate /nonexistent/cert.pem"),
        "{err}"
    );
}
