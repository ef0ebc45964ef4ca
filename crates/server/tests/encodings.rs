//! Request `Content-Encoding`s, on SQLite and on PostgreSQL: names are read in any case,
//! and one the server cannot read is a 415 problem naming the ones it can.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;

use common::{create_op, new_note, Backend, TestServer};
use quire_core::protocol::{problem, PushRequest};
use reqwest::StatusCode;
use serde_json::Value;

on_both_backends!(
    encoding_names_are_read_in_any_case,
    an_unknown_encoding_is_a_415_problem
);

/// Encodes a body as its Content-Encoding says.
type Encode = fn(&[u8]) -> Vec<u8>;

fn push_body() -> Vec<u8> {
    serde_json::to_vec(&PushRequest {
        ops: vec![create_op(new_note(), "zipped", &"text ".repeat(100))],
    })
    .unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

async fn push_encoded(
    server: &TestServer,
    token: &str,
    encoding: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    server
        .http
        .post(server.url("/sync/push"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("content-encoding", encoding)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn encoding_names_are_read_in_any_case(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.account("eve").await;
    let cases: Vec<(&str, Encode)> = vec![
        ("GZIP", gzip),
        ("Gzip", gzip),
        (" gzip ", gzip),
        ("x-gzip", gzip),
        ("ZSTD", |b| zstd::encode_all(b, 3).unwrap()),
        ("Zstd", |b| zstd::encode_all(b, 3).unwrap()),
        ("Identity", <[u8]>::to_vec),
    ];
    for (encoding, encode) in cases {
        let response = push_encoded(&server, &token, encoding, encode(&push_body())).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{encoding}: {body}");
        let answer: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answer["results"][0]["status"], "applied", "{encoding}");
    }
    assert_eq!(server.pull_all(&token).await.len(), 7);
    server.stop().await;
}

async fn an_unknown_encoding_is_a_415_problem(backend: Backend) {
    let server = TestServer::start(backend).await;
    let token = server.account("eve").await;
    let body = push_body();
    for encoding in ["br", "compress", "gzip, zstd", "gzïp"] {
        let encoded = if encoding.starts_with("gzip") {
            gzip(&body)
        } else {
            body.clone()
        };
        let response = server
            .http
            .post(server.url("/sync/push"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .header(
                "content-encoding",
                reqwest::header::HeaderValue::from_bytes(encoding.as_bytes()).unwrap(),
            )
            .body(encoded)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{encoding}"
        );
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{encoding}"
        );
        let accepted = response.headers()["accept-encoding"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            accepted.contains("gzip") && accepted.contains("zstd"),
            "{accepted}"
        );
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["type"], problem::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(answer["status"], 415);
    }
    // Also before sign-in: the encoding is judged first.
    let response = server
        .http
        .post(server.url("/sessions"))
        .header("content-type", "application/json")
        .header("content-encoding", "br")
        .body(b"{}".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(server.count("notes").await, 0);
    server.stop().await;
}
