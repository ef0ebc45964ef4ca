//! The server's peak memory under the floods a stranger who registers can send, for `make
//! bench`: the release `quire-server` (`QUIRE_SERVER_BIN`) runs as its own process with its
//! default limits on a SQLite file, and its peak resident memory (VmHWM) is read after
//! each flood. Target: it stays under 512 MB (before the limits: 3.8 GB).
//!
//! - Response amplification: conflict answers on large notes (1,000 stale ops on one
//!   1 MiB note per push, 8 pushes at once).
//! - History amplification: last-write-wins deletes and updates on a stale base of a
//!   1 MiB note.
//! - Registration: 150 sign-ups at once from 150 addresses (through a trusted proxy),
//!   each an argon2 hash of 19 MiB.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::time::Duration;

use quire_core::protocol::{PushOp, PushRequest};
use quire_core::{DeviceId, NoteId, OpId, OpKind, TextHash, Version};
use support::Row;
use uuid::Uuid;

const TARGET_BYTES: u64 = 512 * 1024 * 1024;
/// An auth secret, as a device sends it in place of the password.
const PASSWORD: &str = "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2";

/// A sign-up body: the keys are of the right shape, and the server cannot tell them from
/// real ones.
fn new_account(name: &str) -> serde_json::Value {
    serde_json::json!({
        "username": name,
        "password": PASSWORD,
        "keys": {
            "account_id": Uuid::now_v7(),
            "salt": "11".repeat(16),
            "kdf": {"memory_kib": 65536, "iterations": 3, "parallelism": 1},
            "wrapped_key": "22".repeat(73),
            "recovery_auth": "44".repeat(32),
            "recovery_wrapped_key": "33".repeat(73),
        },
    })
}

/// Peak resident memory of a process so far, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// An account whose notes are stored in the clear (made before end-to-end encryption, so
/// not one a stranger can make today, but the server still serves such accounts and their
/// plain pushes are the ones that can make it read and copy texts), signed in.
async fn account(http: &reqwest::Client, server: &support::ServerProcess, name: &str) -> String {
    let url = &server.url;
    let creds = serde_json::json!({"username": name, "password": PASSWORD});
    let response = http
        .post(format!("{url}/v1/accounts"))
        .json(&new_account(name))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let db = quire_server::Db::connect(&server.db_url()).await.unwrap();
    sqlx::query("UPDATE accounts SET key_scheme = 'legacy' WHERE username = $1")
        .bind(name)
        .execute(&db.pool)
        .await
        .unwrap();
    let session: serde_json::Value = http
        .post(format!("{url}/v1/sessions"))
        .json(&creds)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    session["token"].as_str().unwrap().to_owned()
}

fn op(note: NoteId, kind: OpKind, base: Option<(u64, &str, &str)>) -> PushOp {
    PushOp {
        op_id: OpId(Uuid::now_v7()),
        note_id: note,
        kind,
        title: None,
        body: None,
        patch: None,
        base_version: base.map(|(v, _, _)| Version(v)),
        base_hash: base.map(|(_, t, b)| TextHash::of(t, b)),
        device_id: DeviceId(Uuid::now_v7()),
        clock: 1,
        lww: false,
        sealed: None,
    }
}

async fn push(http: &reqwest::Client, url: &str, token: &str, ops: Vec<PushOp>) -> u16 {
    http.post(format!("{url}/v1/sync/push"))
        .bearer_auth(token)
        .json(&PushRequest { ops })
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

fn mib(bytes: u64) -> String {
    format!("{} MB", bytes / (1024 * 1024))
}

#[tokio::main]
async fn main() {
    // `cargo test --all-targets` runs this too; only `make bench` names a release server.
    let Ok(bin) = std::env::var("QUIRE_SERVER_BIN") else {
        support::report(
            "server_floods",
            &[Row {
                figure: "server peak RSS under floods".into(),
                measured: "not run: QUIRE_SERVER_BIN unset (run through make bench)".into(),
                target: "< 512 MB".into(),
                met: Some(false),
            }],
        );
        return;
    };
    let server = support::ServerProcess::start(&bin, &["--trusted-proxy", "127.0.0.1"]);
    let pid = server.child.id();
    let url = server.url.clone();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .unwrap();
    let at_start = peak_rss(pid);

    // Response amplification: each push of 1,000 stale ops on one 1 MiB note once answered
    // 1,000 copies of it.
    let token = account(&http, &server, "amplifier").await;
    let big = "x".repeat(1024 * 1024);
    let note = NoteId(Uuid::now_v7());
    let mut create = op(note, OpKind::Create, None);
    create.title = Some("Big".into());
    create.body = Some(big.clone());
    assert_eq!(push(&http, &url, &token, vec![create]).await, 200);
    let stale_push = || {
        let ops: Vec<PushOp> = (0..1000)
            .map(|_| {
                let mut stale = op(note, OpKind::Update, Some((0, "?", "?")));
                stale.title = Some("?".into());
                stale.body = Some("?".into());
                stale
            })
            .collect();
        push(&http, &url, &token, ops)
    };
    let statuses = futures_util::future::join_all((0..8).map(|_| stale_push())).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let after_amplification = peak_rss(pid);

    // History amplification: last-write-wins deletes and updates on a stale base.
    let mut ops: Vec<PushOp> = (0..200)
        .map(|_| {
            let mut delete = op(note, OpKind::Delete, Some((0, "?", "?")));
            delete.lww = true;
            delete
        })
        .collect();
    ops.extend((0..200).map(|n| {
        let mut update = op(note, OpKind::Update, Some((0, "?", "?")));
        update.lww = true;
        update.title = Some("Big".into());
        update.body = Some(format!("{n}"));
        update
    }));
    assert_eq!(push(&http, &url, &token, ops).await, 200);
    let after_history = peak_rss(pid);

    // Registration flood from 150 addresses at once.
    let signups = (0..150).map(|n| {
        let http = http.clone();
        let url = url.clone();
        async move {
            http.post(format!("{url}/v1/accounts"))
                .header(
                    "x-forwarded-for",
                    format!("10.9.{}.{}", n / 200, n % 200 + 1),
                )
                .json(&new_account(&format!("flood{n}")))
                .send()
                .await
                .map_or(0, |r| r.status().as_u16())
        }
    });
    let statuses = futures_util::future::join_all(signups).await;
    let created = statuses.iter().filter(|s| **s == 201).count();
    let busy = statuses.iter().filter(|s| **s == 503).count();
    let after_signups = peak_rss(pid);

    let rows = [
        ("server peak RSS at start", at_start),
        (
            "server peak RSS, conflict-answer flood (8 × 1,000 stale ops on a 1 MiB note)",
            after_amplification,
        ),
        (
            "server peak RSS, history flood (400 stale last-write-wins ops)",
            after_history,
        ),
        ("server peak RSS, 150 sign-ups at once", after_signups),
    ];
    let mut table: Vec<Row> = rows
        .iter()
        .map(|(figure, bytes)| Row {
            figure: (*figure).to_owned(),
            measured: mib(*bytes),
            target: "< 512 MB".to_owned(),
            met: Some(*bytes < TARGET_BYTES),
        })
        .collect();
    table.push(Row {
        figure: "sign-ups at once: created / busy (503, Retry-After)".to_owned(),
        measured: format!("{created} / {busy}"),
        target: "report".to_owned(),
        met: None,
    });
    support::report("server_floods", &table);
}
