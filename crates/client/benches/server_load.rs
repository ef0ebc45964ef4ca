//! Server throughput for `make bench`: 50 clients, each its own account, push at once over
//! loopback HTTP (the real client API: JSON, zstd); each makes 100 ordinary notes (about
//! 1 KB) and then edits all of them in 19 more batches of 100. Applied ops per second of wall time, on SQLite (a file
//! on disk) and on PostgreSQL (`QUIRE_TEST_POSTGRES_URL`, an admin URL; the bench makes its
//! own database). Clients and server share this machine's cores.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::time::Instant;

use quire_client::api::ApiClient;
use quire_client::credentials::Secret;
use quire_core::crypto::chain::seal_op;
use quire_core::crypto::kdf::KdfParams;
use quire_core::crypto::DataKey;
use quire_core::protocol::{
    AccountKeys, Credentials, Hex, NewAccount, PushOp, PushRequest, PushResult, WRAPPED_KEY_BYTES,
};
use quire_core::settings::check_server_url;
use quire_core::{DeviceId, NoteFields, NoteId, OpId, OpKind, TextHash, Version};
use support::Row;
use uuid::Uuid;

const CLIENTS: usize = 50;
const NOTES_PER_CLIENT: usize = 100;
const BATCHES_PER_CLIENT: usize = 20;

/// The text of a client's note `n` at edit `round`: an ordinary note's body, about 1 KB,
/// different per note and per round.
fn text(n: usize, round: usize) -> String {
    support::ordinary_body(round * NOTES_PER_CLIENT + n)
}

/// The op as an end-to-end account's device sends it: sealed (the server cannot tell a
/// made-up account id in the seal from the real one, so one serves every client).
fn op(note: NoteId, n: usize, device: DeviceId, round: usize) -> PushOp {
    let title = format!("note {note}");
    let base = (round > 0).then(|| NoteFields::new(title.clone(), text(n, round - 1)));
    let mut op = PushOp {
        op_id: OpId(Uuid::now_v7()),
        note_id: note,
        kind: if round == 0 {
            OpKind::Create
        } else {
            OpKind::Update
        },
        base_hash: (round > 0).then(|| TextHash::of(&title, &text(n, round - 1))),
        title: Some(title),
        body: Some(text(n, round)),
        patch: None,
        base_version: (round > 0).then_some(Version(round as u64)),
        device_id: device,
        clock: round as u64,
        lww: false,
        sealed: None,
    };
    let key = DataKey::from_bytes([9; 32]);
    seal_op(&key, "bench", &mut op, base.as_ref(), rand::random()).unwrap();
    op
}

/// One client's whole run; returns how many ops the server applied.
async fn client(api: ApiClient, token: Secret) -> usize {
    let device = DeviceId(Uuid::now_v7());
    let notes: Vec<NoteId> = (0..NOTES_PER_CLIENT)
        .map(|_| NoteId(Uuid::now_v7()))
        .collect();
    let mut applied = 0;
    for round in 0..BATCHES_PER_CLIENT {
        let ops = notes
            .iter()
            .enumerate()
            .map(|(n, note)| op(*note, n, device, round))
            .collect();
        let response = api.push(&token, &PushRequest { ops }).await.unwrap();
        for result in &response.results {
            assert!(
                matches!(result, PushResult::Applied { .. }),
                "every op applies: {result:?}"
            );
        }
        applied += response.results.len();
    }
    applied
}

/// Applied ops per second with `CLIENTS` clients pushing at once to a server on `db_url`.
async fn throughput(db_url: &str) -> (f64, usize) {
    let server = support::start_server(db_url).await;
    let url = check_server_url(&server.url(), false).unwrap();
    let mut sessions = Vec::new();
    for i in 0..CLIENTS {
        let api = ApiClient::new(&url).unwrap();
        // The server load, not key derivation: keys of the right shape, made up.
        let auth = Hex([7; 32]);
        let credentials = Credentials {
            username: format!("load{i}"),
            password: auth.to_hex(),
        };
        api.register(&NewAccount {
            username: credentials.username.clone(),
            password: auth,
            keys: AccountKeys {
                account_id: Uuid::now_v7(),
                salt: Hex([1; 16]),
                kdf: KdfParams::DEFAULT,
                wrapped_key: Hex([2; WRAPPED_KEY_BYTES]),
                recovery_auth: Hex([3; 32]),
                recovery_wrapped_key: Hex([4; WRAPPED_KEY_BYTES]),
            },
        })
        .await
        .unwrap();
        let token = Secret::new(api.login(&credentials).await.unwrap().token);
        sessions.push((api, token));
    }
    let started = Instant::now();
    let tasks: Vec<_> = sessions
        .into_iter()
        .map(|(api, token)| tokio::spawn(client(api, token)))
        .collect();
    let mut applied = 0;
    for task in tasks {
        applied += task.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    server.stop().await.unwrap();
    #[allow(clippy::cast_precision_loss)]
    (applied as f64 / secs, applied)
}

async fn postgres_database(admin: &str) -> String {
    sqlx::any::install_default_drivers();
    let name = format!("quire_bench_{}", Uuid::now_v7().simple());
    let pool = sqlx::AnyPool::connect(admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let (base, _) = admin.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

async fn figures() -> Vec<Row> {
    let dir = support::disk_dir("quire-bench-load-");
    let sqlite = format!("sqlite://{}", dir.path().join("server.db").display());
    let (rate, applied) = throughput(&sqlite).await;
    let mut rows = vec![Row {
        figure: format!("server applied ops/s, {CLIENTS} concurrent clients, SQLite"),
        measured: format!("{rate:.0} ops/s ({applied} ops)"),
        target: "≥ 5,000".into(),
        met: Some(rate >= 5_000.0),
    }];
    let figure = format!("server applied ops/s, {CLIENTS} concurrent clients, PostgreSQL");
    match std::env::var("QUIRE_TEST_POSTGRES_URL") {
        Ok(admin) => {
            let (rate, applied) = throughput(&postgres_database(&admin).await).await;
            rows.push(Row {
                figure,
                measured: format!("{rate:.0} ops/s ({applied} ops)"),
                target: "report ops/s".into(),
                met: None,
            });
        }
        Err(_) => rows.push(Row {
            figure,
            measured: "not run: no PostgreSQL (run through make bench)".into(),
            target: "report ops/s".into(),
            met: Some(false),
        }),
    }
    rows
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let rows = runtime.block_on(figures());
    support::report("server", &rows);
}
