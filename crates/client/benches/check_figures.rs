//! Verification figures for `make bench` (issue 22), in process, release build: a device
//! holding 100,000 notes of about 1 KB (an end-to-end account, a real server on SQLite on
//! disk over loopback HTTP) checks itself against the server.
//! - the check of 100,000 equal notes: one request, and the sums of the parts the store
//!   keeps (`digest_parts`, made as notes are pushed and pulled). Target ≤ 200 ms.
//!   Reported beside it: a check that makes every note's part again from the store (as
//!   after this version is installed over a store from before it): every text read and
//!   hashed.
//! - the same with 3 notes changed behind the store's back: found and repaired, in how
//!   many requests (target ≤ 60) and how long.
//! - the server counting 100,000 notes stored before digests existed, on the account's
//!   first ask (once per account, after the upgrade that brings digests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::time::Instant;

use quire_client::account;
use quire_client::engine::{sync_and_check, CheckOutcome, CheckWhen, Verification};
use support::{Device, Row};

const NOTES: usize = 100_000;
const RUNS: usize = 11;

async fn check(device: &Device) -> Verification {
    let (api, token) = account::session(&device.store, &device.secrets)
        .await
        .unwrap();
    let sealing = account::sealing(&device.store, &device.secrets)
        .await
        .unwrap();
    let report = sync_and_check(
        &device.store,
        &api,
        &token,
        sealing.as_ref(),
        CheckWhen::Always,
    )
    .await
    .unwrap();
    report.verification.unwrap()
}

#[allow(clippy::cast_precision_loss)]
async fn figures() -> Vec<Row> {
    let server_dir = support::disk_dir("quire-bench-server-");
    let db_url = format!("sqlite://{}", server_dir.path().join("s.db").display());
    let server = support::start_server(&db_url).await;
    let device = Device::new().await;
    device.sign_in(&server.url(), "checked", true).await;
    device.fill(NOTES).await;
    let pushed = device.sync().await;
    assert_eq!(pushed.pushed, NOTES as u64);

    let mut equal = Vec::new();
    for _ in 0..RUNS {
        let verification = check(&device).await;
        assert_eq!(
            verification.outcome,
            CheckOutcome::Equal,
            "{verification:?}"
        );
        assert_eq!(verification.requests, 1);
        equal.push(verification.duration_ms);
    }
    equal.sort_unstable();
    let median = equal[RUNS / 2];

    // Every part made again from the store.
    sqlx::query("DELETE FROM digest_parts")
        .execute(device.store.raw_pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO digest_stale (note_id, seq) SELECT id, random() FROM notes")
        .execute(device.store.raw_pool())
        .await
        .unwrap();
    let remade = check(&device).await;
    assert_eq!(remade.outcome, CheckOutcome::Equal, "{remade:?}");

    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM notes ORDER BY id")
        .fetch_all(device.store.raw_pool())
        .await
        .unwrap();
    for id in [&ids[7], &ids[50_000], &ids[99_990]] {
        sqlx::query(
            "UPDATE notes SET body = body || 'changed behind the store''s back' WHERE id = ?",
        )
        .bind(id)
        .execute(device.store.raw_pool())
        .await
        .unwrap();
    }
    let repaired = check(&device).await;
    assert_eq!(
        (repaired.outcome, repaired.repaired),
        (CheckOutcome::Equal, 3),
        "{repaired:?}"
    );

    // The server as it was before digests: nothing counted. The first ask counts it all.
    let db = quire_server::Db::connect(&db_url).await.unwrap();
    sqlx::query("UPDATE notes SET digest_part = NULL, digest_bucket = NULL")
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM note_digests")
        .execute(&db.pool)
        .await
        .unwrap();
    let started = Instant::now();
    let recounted = check(&device).await;
    let first_ask = started.elapsed().as_secs_f64();
    assert_eq!(recounted.outcome, CheckOutcome::Equal, "{recounted:?}");
    server.stop().await.unwrap();

    vec![
        Row {
            figure: format!("check of {NOTES} equal notes (one request), median of {RUNS}"),
            measured: format!("{median} ms (max {} ms)", equal[RUNS - 1]),
            target: "≤ 200 ms".into(),
            met: Some(median <= 200),
        },
        Row {
            figure: format!("check of {NOTES} notes whose parts are all made again from the store (every text read and hashed; once, after an upgrade)"),
            measured: format!("{} ms", remade.duration_ms),
            target: "report ms".into(),
            met: None,
        },
        Row {
            figure: format!("check of {NOTES} notes, 3 changed behind the store's back: found and repaired"),
            measured: format!("{} requests, {} ms", repaired.requests, repaired.duration_ms),
            target: "≤ 60 requests".into(),
            met: Some(repaired.requests <= 60),
        },
        Row {
            figure: format!("server: first digest of an account of {NOTES} notes stored before digests (once), with the check"),
            measured: format!("{first_ask:.2} s"),
            target: "report s".into(),
            met: None,
        },
    ]
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let rows = runtime.block_on(figures());
    support::report("check", &rows);
}
