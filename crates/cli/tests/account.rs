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
    let said = String::from_utf8(out.stdout).unwrap();
    assert!(
        said.starts_with(&format!("created ada on {url} and signed in\n")),
        "{said}"
    );
    assert!(
        said.contains("nobody"),
        "says what losing both means: {said}"
    );
    let recovery_key = recovery_key_in(&said);
    assert_eq!(device.ok(&["account", "recovery-key"]).trim(), recovery_key);
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

/// The recovery key as `account register` prints it: the indented line.
fn recovery_key_in(said: &str) -> String {
    said.lines()
        .find_map(|line| line.strip_prefix("    "))
        .unwrap_or_else(|| panic!("no recovery key in {said}"))
        .to_owned()
}

fn with_env(device: &Device, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = device.cmd(args);
    for var in ["QUIRE_PASSWORD", "QUIRE_NEW_PASSWORD", "QUIRE_RECOVERY_KEY"] {
        cmd.env_remove(var);
    }
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd.stdin(std::process::Stdio::null()).output().unwrap()
}

/// Two devices: a password change on one sends the other back to sign-in, with the new
/// password only; the recovery key then sets another from a third device.
#[test]
fn password_change_and_recovery_across_devices() {
    let server = LocalServer::start();
    let url = server.url.as_str();
    let (laptop, desktop, phone) = (Device::new(), Device::new(), Device::new());
    let out = laptop.account(
        &["account", "register", "--server", url, "--user", "ada"],
        Some("first password"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let recovery_key = recovery_key_in(&String::from_utf8(out.stdout).unwrap());
    let login = ["account", "login", "--server", url, "--user", "ada"];
    let out = desktop.account(&login, Some("first password"));
    assert!(out.status.success(), "{}", stderr(&out));
    let err = desktop.fails(&["account", "recovery-key"]);
    assert!(err.contains("does not hold"), "{err}");

    let out = with_env(
        &laptop,
        &["account", "password"],
        &[
            ("QUIRE_PASSWORD", "not the password"),
            ("QUIRE_NEW_PASSWORD", "second password"),
        ],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("current password is wrong"),
        "{}",
        stderr(&out)
    );
    let out = with_env(
        &laptop,
        &["account", "password"],
        &[
            ("QUIRE_PASSWORD", "first password"),
            ("QUIRE_NEW_PASSWORD", "second password"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    laptop.ok(&["sync"]);
    let err = desktop.fails(&["sync"]);
    assert!(err.contains("sign in again"), "{err}");
    assert!(!desktop
        .account(&login, Some("first password"))
        .status
        .success());
    let out = desktop.account(&login, Some("second password"));
    assert!(out.status.success(), "{}", stderr(&out));

    let out = with_env(
        &phone,
        &["account", "recover", "--server", url, "--user", "ada"],
        &[
            ("QUIRE_RECOVERY_KEY", &recovery_key),
            ("QUIRE_NEW_PASSWORD", "third password"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    phone.ok(&["sync"]);
    assert_eq!(phone.ok(&["account", "recovery-key"]).trim(), recovery_key);
    assert!(desktop.fails(&["sync"]).contains("sign in again"));
    assert!(laptop.fails(&["sync"]).contains("sign in again"));
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
