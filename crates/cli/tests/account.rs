//! `quire account register|login|logout` against a real sync server.
// Test helpers, like tests, fail by panicking with the cause.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use common::{stderr, Device, LocalServer};
use serde_json::Value;

#[test]
fn a_device_signs_up_in_and_out() {
    let server = LocalServer::start();
    let device = Device::new();
    let url = server.url.as_str();

    let out = device.account(
        &["account", "register", "--server", url, "--user", "ada"],
        Some("long enough pw"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("created ada on {url} and signed in")
    );
    assert!(device
        .ok(&["status"])
        .contains(&format!("sync server {url}")));
    // The token went to the credentials store, never to the settings.
    let creds = std::fs::read_to_string(device.path().join("credentials.json")).unwrap();
    assert!(creds.contains("auth-token/"), "{creds}");

    let out = device.account(&["account", "logout"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("signed out of {url}")
    );
    let err = device.fails(&["account", "logout"]);
    assert!(err.contains("not signed in"), "{err}");
    assert!(device.ok(&["status"]).contains("(not signed in)"));

    let out = device.account(
        &[
            "--json", "account", "login", "--server", url, "--user", "ada",
        ],
        Some("long enough pw"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let signed_in: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(signed_in["username"], "ada");
}

#[test]
fn account_errors_are_one_clear_line() {
    let server = LocalServer::start();
    let device = Device::new();
    let url = server.url.as_str();
    assert!(device
        .account(
            &["account", "register", "--server", url, "--user", "bo"],
            Some("long enough pw")
        )
        .status
        .success());

    let other = Device::new();
    let cases: Vec<(Vec<&str>, Option<&str>, &str)> = vec![
        (
            vec!["account", "login", "--server", url, "--user", "bo"],
            Some("wrong password!"),
            "wrong username or password",
        ),
        (
            vec!["account", "register", "--server", url, "--user", "bo"],
            Some("long enough pw"),
            "that username is taken",
        ),
        (
            vec!["account", "register", "--server", url, "--user", "cy"],
            Some("short"),
            "at least 8 characters",
        ),
        (
            vec!["account", "login", "--server", url, "--user", "bo"],
            None,
            "set QUIRE_PASSWORD",
        ),
        (
            vec![
                "account",
                "login",
                "--server",
                "http://sync.example.com",
                "--user",
                "bo",
            ],
            Some("long enough pw"),
            "--insecure-http",
        ),
        (
            vec![
                "account",
                "login",
                "--server",
                "http://127.0.0.1:9",
                "--user",
                "bo",
            ],
            Some("long enough pw"),
            "cannot reach the sync server",
        ),
        (vec!["account", "logout"], None, "not signed in"),
    ];
    for (args, password, expected) in cases {
        let out = other.account(&args, password);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        let line = err
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_default();
        assert!(line.contains(expected), "{args:?}: {err}");
    }
    // None of it signed the other device in.
    assert!(other.ok(&["status"]).contains("local only"));
}
