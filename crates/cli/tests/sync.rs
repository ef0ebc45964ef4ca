//! `quire sync` between devices through a real sync server, also when the client or the
//! server is killed mid-round.
// Test helpers, like tests, fail by panicking with the cause.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::process::{Command, Stdio};

use common::{fill_store, stderr, tally, Device, LocalServer};

#[test]
fn quire_sync_carries_notes_between_two_devices() {
    let server = LocalServer::start();
    let url = server.url.as_str();
    let (laptop, phone) = (Device::new(), Device::new());
    assert!(laptop
        .account(
            &["account", "register", "--server", url, "--user", "eve"],
            Some("long enough pw")
        )
        .status
        .success());
    assert!(phone
        .account(
            &["account", "login", "--server", url, "--user", "eve"],
            Some("long enough pw")
        )
        .status
        .success());

    let id = laptop.ok_with_stdin(&["note", "add", "--title", "Shared"], b"from the laptop\n");
    let report = laptop.json(&["sync"]);
    assert_eq!(report["pushed"], 1);
    assert_eq!(report["pending"], 0);
    assert!(report["bytesSent"].as_u64().unwrap() > 0, "{report}");
    assert!(report["bytesReceived"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(laptop.json(&["queue"]), serde_json::json!([]));

    let text = phone.ok(&["sync"]);
    assert!(text.starts_with("pushed 0, pulled 1, merged 0 ("), "{text}");
    let note = phone.json(&["note", "show", id.trim()]);
    assert_eq!(note["body"], "from the laptop\n");
    assert!(phone.json(&["status"])["lastSyncAt"].is_number());

    // Signed out, sync says how to sign in.
    let stranger = Device::new();
    let err = stranger.fails(&["sync"]);
    assert!(err.contains("not signed in"), "{err}");
}

#[test]
// A plain test thread waits for the child process: no async runtime is blocked.
#[allow(clippy::disallowed_methods)]
fn a_sync_killed_mid_round_loses_and_duplicates_nothing() {
    let server = LocalServer::start();
    let url = server.url.as_str();
    let (laptop, phone) = (Device::new(), Device::new());
    for (device, verb) in [(&laptop, "register"), (&phone, "login")] {
        let out = device.account(
            &["account", verb, "--server", url, "--user", "kill"],
            Some("long enough pw"),
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    fill_store(laptop.path(), 1500);
    laptop.ok(&["config", "set", "batch-size", "20"]);

    // `quire sync` killed with SIGKILL at several points of its round.
    let mut killed = 0;
    for delay_ms in [60, 150, 300, 600] {
        let mut child = laptop
            .cmd(&["sync"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();
    }
    assert!(killed >= 1, "a kill landed mid-round: {killed}");

    let report = laptop.json(&["sync"]);
    assert_eq!(report["pending"], 0, "{report}");
    phone.json(&["sync"]);
    let (lost, duplicated, wrong_version) = tally(phone.path(), 1500);
    println!(
        "kill -9 of quire sync: {killed} kills mid-round, {lost} lost, {duplicated} duplicated, \
         {wrong_version} applied more than once"
    );
    assert_eq!((lost, duplicated, wrong_version), (0, 0, 0));
}

/// Not a test: the sync server as a process of its own, so a test can `kill -9` it. Runs
/// when QUIRE_TEST_SERVER_DB and QUIRE_TEST_SERVER_ADDR are set.
#[test]
#[ignore = "helper process for a_server_killed_mid_push_loses_and_duplicates_nothing"]
fn server_process() {
    let (Ok(db), Ok(addr)) = (
        std::env::var("QUIRE_TEST_SERVER_DB"),
        std::env::var("QUIRE_TEST_SERVER_ADDR"),
    ) else {
        return;
    };
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async move {
            let db = quire_server::Db::connect(&db).await.unwrap();
            let state = quire_server::AppState::new(
                db,
                quire_server::Limits::default(),
                std::time::Duration::from_secs(600),
            );
            let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
            let _running = quire_server::spawn(listener, state).unwrap();
            std::future::pending::<()>().await;
        });
}

#[test]
// A plain test thread waits for child processes (no async runtime is blocked); each server
// process is killed and waited for below.
#[allow(clippy::disallowed_methods, clippy::zombie_processes)]
fn a_server_killed_mid_push_loses_and_duplicates_nothing() {
    let data = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", data.path().join("server.db").display());
    let addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().to_string()
    };
    let url = format!("http://{addr}");
    let start_server = || {
        let child = Command::new(std::env::current_exe().unwrap())
            .args(["--ignored", "--exact", "server_process", "--nocapture"])
            .env("QUIRE_TEST_SERVER_DB", &db)
            .env("QUIRE_TEST_SERVER_ADDR", &addr)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..200 {
            if std::net::TcpStream::connect(&addr).is_ok() {
                return child;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        panic!("the server process did not come up");
    };
    let mut server = start_server();

    let (laptop, phone) = (Device::new(), Device::new());
    for (device, verb) in [(&laptop, "register"), (&phone, "login")] {
        let out = device.account(
            &["account", verb, "--server", &url, "--user", "crash"],
            Some("long enough pw"),
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    fill_store(laptop.path(), 1500);
    laptop.ok(&["config", "set", "batch-size", "20"]);

    let mut kills = 0;
    for delay_ms in [100, 250] {
        let sync = laptop
            .cmd(&["sync"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        server.kill().unwrap(); // SIGKILL, mid-batch
        server.wait().unwrap();
        let out = sync.wait_with_output().unwrap();
        if !out.status.success() {
            kills += 1;
            assert!(
                stderr(&out).contains("cannot reach the sync server"),
                "{}",
                stderr(&out)
            );
        }
        server = start_server();
    }
    assert!(kills >= 1, "the server died under a running round");

    let report = laptop.json(&["sync"]);
    assert_eq!(report["pending"], 0, "{report}");
    phone.json(&["sync"]);
    let (lost, duplicated, wrong_version) = tally(phone.path(), 1500);
    println!(
        "kill -9 of the server: {kills} rounds cut, {lost} lost, {duplicated} duplicated, \
         {wrong_version} applied more than once"
    );
    assert_eq!((lost, duplicated, wrong_version), (0, 0, 0));
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn history_restore_and_purge_from_the_command_line() {
    let server = LocalServer::start();
    let url = server.url.as_str();
    let (laptop, phone) = (Device::new(), Device::new());
    for (device, verb) in [(&laptop, "register"), (&phone, "login")] {
        let out = device.account(
            &["account", verb, "--server", url, "--user", "ivy"],
            Some("long enough pw"),
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let id = laptop.ok_with_stdin(&["note", "add", "--title", "Draft"], b"first words\n");
    let id = id.trim();
    laptop.ok(&["sync"]);
    let text = laptop.path().join("second.md");
    std::fs::write(&text, "second words\n").unwrap();
    laptop.ok(&["note", "edit", id, "--file", text.to_str().unwrap()]);
    laptop.ok(&["sync"]);
    phone.ok(&["sync"]);

    let history = phone.json(&["note", "history", id]);
    let versions: Vec<u64> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, [2, 1]);
    assert_eq!(history[0]["thisDevice"], false);
    let lines = phone.ok(&["note", "history", id]);
    assert_eq!(lines.lines().count(), 2, "{lines}");
    assert!(lines.lines().all(|l| l.contains("device ")), "{lines}");

    let restored = phone.ok(&["note", "restore", id, "--version", "1"]);
    assert!(restored.contains("to version 1"), "{restored}");
    assert_eq!(phone.json(&["note", "show", id])["body"], "first words\n");
    phone.ok(&["sync"]);
    laptop.ok(&["sync"]);
    assert_eq!(laptop.json(&["note", "show", id])["body"], "first words\n");
    let err = laptop.fails(&["note", "restore", id, "--version", "99"]);
    assert!(err.contains("no longer kept"), "{err}");

    // Delete forever: only from the trash, then gone on both devices.
    let err = laptop.fails(&["note", "purge", id]);
    assert!(err.contains("not in the trash"), "{err}");
    laptop.ok(&["note", "delete", id]);
    laptop.ok(&["note", "purge", id]);
    assert_eq!(laptop.json(&["note", "trash"]), serde_json::json!([]));
    assert_eq!(laptop.json(&["sync"])["purged"], 1);
    assert_eq!(phone.json(&["sync"])["purged"], 1);
    let err = phone.fails(&["note", "show", id]);
    assert!(err.contains("no note has the id"), "{err}");
    let err = phone.fails(&["note", "history", id]);
    assert!(err.contains("no note has the id"), "{err}");
}

/// `quire sync --dry-run` tells what a round would do and does none of it; `--verify`
/// checks this device against the server even when nothing changed; `status` says when
/// they were last found equal.
#[test]
fn dry_run_changes_nothing_and_verify_checks_even_a_quiet_round() {
    let server = LocalServer::start();
    let url = server.url.as_str();
    let (laptop, phone) = (Device::new(), Device::new());
    let register = &["account", "register", "--server", url, "--user", "ida"];
    assert!(laptop
        .account(register, Some("long enough pw"))
        .status
        .success());
    let login = &["account", "login", "--server", url, "--user", "ida"];
    assert!(phone
        .account(login, Some("long enough pw"))
        .status
        .success());
    let first = laptop.ok_with_stdin(&["note", "add", "--title", "First"], b"one\n");
    laptop.ok_with_stdin(&["note", "add", "--title", "Second"], b"two two\n");
    laptop.ok_with_stdin(
        &["note", "edit", first.trim(), "--title", "First, edited"],
        b"",
    );

    let preview = laptop.json(&["sync", "--dry-run"]);
    assert_eq!(
        preview["ops"], 2,
        "the edit folded into the unsent create: {preview}"
    );
    assert_eq!(preview["notes"].as_array().unwrap().len(), 2);
    assert_eq!(preview["notes"][0]["title"], "First, edited");
    assert_eq!(preview["notes"][0]["ops"][0]["kind"], "create");
    assert_eq!(preview["notes"][0]["ops"][0]["textBytes"], 17);
    assert_eq!(
        (preview["toPull"].as_u64(), preview["moreToPull"].as_bool()),
        (Some(0), Some(false))
    );
    let text = laptop.ok(&["sync", "--dry-run"]);
    assert!(
        text.contains("would send 2 changes to 2 notes (31 bytes of text"),
        "{text}"
    );
    assert!(
        text.ends_with("nothing was sent or changed (dry run)\n"),
        "{text}"
    );
    assert_eq!(
        laptop.json(&["queue"]).as_array().unwrap().len(),
        2,
        "still queued"
    );
    assert!(
        laptop.json(&["status"])["lastSyncAt"].is_null(),
        "no round ran"
    );

    let report = laptop.json(&["sync"]);
    assert_eq!(report["pushed"], 2);
    assert_eq!(
        report["verification"]["outcome"], "equal",
        "a round that pushed checks: {report}"
    );
    // The phone has not pulled: the server has both notes for it.
    let preview = phone.json(&["sync", "--dry-run"]);
    assert_eq!(
        (preview["ops"].as_u64(), preview["toPull"].as_u64()),
        (Some(0), Some(2))
    );
    assert!(phone.json(&["status"])["lastVerifiedAt"].is_null());
    assert!(phone
        .ok(&["status"])
        .contains("last verified equal to the server: never"));
    phone.ok(&["sync"]);

    // A quiet round checks when asked, in one request.
    let quiet = laptop.json(&["sync", "--verify"]);
    assert_eq!(quiet["pushed"], 0);
    assert_eq!(quiet["verification"]["requests"], 1, "{quiet}");
    let text = laptop.ok(&["sync", "--verify"]);
    assert!(
        text.contains(
            "checked: this device holds exactly what the server holds (2 notes, 1 requests, "
        ),
        "{text}"
    );
    assert!(laptop.json(&["status"])["lastVerifiedAt"].is_number());
    assert!(!phone
        .ok(&["status"])
        .contains("verified equal to the server: never"));

    let refused = laptop
        .cmd(&["sync", "--verify", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "a usage error");
}
