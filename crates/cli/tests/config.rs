//! `quire config get|set`.
// Test helpers, like tests, fail by panicking with the cause.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use common::{stderr, Device, LocalServer};

#[test]
fn config_values_are_checked_and_kept() {
    let device = Device::new();
    assert_eq!(
        device.ok(&["config", "get", "conflict-policy"]).trim(),
        "merge"
    );
    assert_eq!(
        device
            .ok(&["config", "set", "conflict-policy", "lww"])
            .trim(),
        "lww"
    );
    assert_eq!(
        device.ok(&["config", "get", "conflict-policy"]).trim(),
        "lww"
    );
    assert_eq!(
        device.json(&["config", "set", "server", "http://127.0.0.1:8787/"]),
        serde_json::json!({"key": "server", "value": "http://127.0.0.1:8787"})
    );
    assert!(device
        .ok(&["status"])
        .contains("sync server http://127.0.0.1:8787"));

    let err = device.fails(&["config", "set", "batch-size", "0"]);
    assert!(err.contains("not a valid batch-size"), "{err}");
    let err = device.fails(&["config", "get", "vault-dir"]);
    assert_eq!(err, "error: vault-dir is not set");
    let out = device.run(&["config", "get", "colour"], b"");
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown key is a usage error"
    );
}

#[test]
fn config_set_server_withdraws_the_plain_http_permission() {
    let server = LocalServer::start();
    // Reaches the local server but is not a loopback address, so plain HTTP to it needs
    // --insecure-http (Linux and macOS deliver connections to 0.0.0.0 to this machine).
    let elsewhere = server.url.replace("127.0.0.1", "0.0.0.0");
    let device = Device::new();
    let register = [
        "account", "register", "--server", &elsewhere, "--user", "hal",
    ];
    let out = device.account(&register, Some("long enough pw"));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("--insecure-http"), "{}", stderr(&out));
    let out = device.account(
        &[&register[..], &["--insecure-http"]].concat(),
        Some("long enough pw"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    device.ok(&["sync"]);

    // The same server, written differently, keeps the permission.
    device.ok(&["config", "set", "server", &format!("{elsewhere}/")]);
    device.ok(&["sync"]);

    // Another server withdraws it, also when the first one is set back afterwards.
    device.ok(&["config", "set", "server", &server.url]);
    device.ok(&["config", "set", "server", &elsewhere]);
    let err = device.fails(&["sync"]);
    assert!(
        err.contains("plain http://") && err.contains("--insecure-http"),
        "{err}"
    );

    // Signing in again with the flag gives it back.
    let login = ["account", "login", "--server", &elsewhere, "--user", "hal"];
    let out = device.account(
        &[&login[..], &["--insecure-http"]].concat(),
        Some("long enough pw"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    device.ok(&["sync"]);
}

#[test]
fn config_unset_brings_the_default_back_and_stops_the_vault_folder() {
    let device = Device::new();
    device.ok(&["config", "set", "conflict-policy", "lww"]);
    assert_eq!(
        device.json(&["config", "unset", "conflict-policy"]),
        serde_json::json!({"key": "conflict-policy", "value": "merge"})
    );
    assert_eq!(
        device.ok(&["config", "get", "conflict-policy"]).trim(),
        "merge"
    );

    let folder = device.path().join("Notes");
    std::fs::create_dir(&folder).unwrap();
    device.ok(&["config", "set", "vault-dir", folder.to_str().unwrap()]);
    device.ok_with_stdin(&["note", "add", "--title", "Kept"], b"mirrored");
    assert!(
        folder.join("Kept.md").exists(),
        "the folder follows while set"
    );

    assert_eq!(
        device.ok(&["config", "unset", "vault-dir"]).trim(),
        "vault-dir is not set"
    );
    assert_eq!(
        device.fails(&["config", "get", "vault-dir"]),
        "error: vault-dir is not set"
    );
    device.ok_with_stdin(&["note", "add", "--title", "Later"], b"stays in the app");
    assert!(
        !folder.join("Later.md").exists(),
        "an unset folder is left alone"
    );
    assert!(
        folder.join("Kept.md").exists(),
        "and nothing in it is removed"
    );
    // Unsetting what is not set is fine: the default applies either way.
    device.ok(&["config", "unset", "vault-dir"]);
}

#[test]
fn config_unset_server_waits_until_the_device_is_signed_out() {
    let server = LocalServer::start();
    let device = Device::new();
    let register = [
        "account",
        "register",
        "--server",
        &server.url,
        "--user",
        "una",
    ];
    let out = device.account(&register, Some("long enough pw"));
    assert!(out.status.success(), "{}", stderr(&out));

    // The token would be left without its server: it could not be revoked, and would go
    // to whichever server is set next.
    let err = device.fails(&["config", "unset", "server"]);
    assert!(err.contains("sign out first"), "{err}");
    assert!(device.ok(&["status"]).contains("as una"));

    device.ok(&["account", "logout"]);
    device.ok(&["config", "unset", "server"]);
    assert!(device.ok(&["status"]).contains("local only"));
}
