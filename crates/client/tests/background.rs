//! The background sync task against a real store and a real server over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{device, serve, server, Device};
use quire_client::credentials::FileStore;
use quire_client::service::{self, ServiceConfig, StoreTarget, SyncHandle, SyncState};
use quire_core::backoff::Backoff;
use quire_core::NoteFields;

/// Starts the task on the device's store, with short waits so the test runs in seconds.
fn start(device: Device) -> (SyncHandle, Arc<quire_client::Store>, tempfile::TempDir) {
    let Device {
        dir,
        store,
        secrets,
    } = device;
    let store = Arc::new(store);
    let secrets: Arc<FileStore> = Arc::new(secrets);
    let target = StoreTarget {
        store: Arc::clone(&store),
        secrets,
    };
    let config = ServiceConfig {
        debounce: Duration::from_millis(50),
        debounce_max: Duration::from_millis(200),
        backoff: Backoff::new(Duration::from_millis(50), Duration::from_millis(400)),
        ..ServiceConfig::default()
    };
    let (handle, _task) = service::spawn(target, config);
    (handle, store, dir)
}

/// Waits (up to 20 s) for the status to satisfy `done`.
async fn wait_for(handle: &SyncHandle, what: &str, done: impl Fn(&service::SyncStatus) -> bool) {
    let mut watch = handle.watch();
    let waited = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if done(&watch.borrow_and_update()) {
                return;
            }
            watch.changed().await.unwrap();
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "timed out waiting for {what}: {:?}",
        handle.status()
    );
}

#[tokio::test]
async fn a_server_that_goes_down_is_retried_and_the_queue_drains_when_it_is_back() {
    let server = server().await;
    let (a, b) = (device().await, device().await);
    a.register(&server, "owner").await;
    b.login(&server, "owner").await;
    let addr = server.url.trim_start_matches("http://").to_owned();

    let (handle, store, _dir) = start(a);
    wait_for(&handle, "the first round", |s| {
        s.state == SyncState::Idle && s.last_sync_at.is_some()
    })
    .await;

    // The server goes away; notes written meanwhile wait in the queue.
    let data = server.stop().await;
    for i in 0..5 {
        store
            .create_note(NoteFields::new(format!("offline {i}"), "kept\n"))
            .await
            .unwrap();
        handle.local_change();
    }
    wait_for(&handle, "offline", |s| {
        s.state == SyncState::Offline && s.pending == 5
    })
    .await;
    let status = handle.status();
    assert!(status.next_attempt_at.is_some());
    assert_eq!(status.error.unwrap().code, quire_client::ErrorCode::Offline);

    // Back on the same address. Nobody writes or clicks: the backoff's retry drains it.
    let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
    let _server = serve(data, listener).await;
    wait_for(&handle, "the queue to drain", |s| {
        s.state == SyncState::Idle && s.pending == 0
    })
    .await;

    let pulled = b.sync().await;
    assert_eq!(pulled.pulled, 5);
}

#[tokio::test]
async fn a_local_change_goes_out_soon_without_a_click() {
    let server = server().await;
    let (a, b) = (device().await, device().await);
    a.register(&server, "owner").await;
    b.login(&server, "owner").await;
    let (handle, store, _dir) = start(a);
    wait_for(&handle, "the first round", |s| s.last_sync_at.is_some()).await;

    store
        .create_note(NoteFields::new("typed", "in the app\n"))
        .await
        .unwrap();
    handle.local_change();
    wait_for(&handle, "the change to go", |s| {
        s.state == SyncState::Idle
            && s.pending == 0
            && s.last_report.as_ref().is_some_and(|r| r.pushed == 1)
    })
    .await;
    assert_eq!(b.sync().await.pulled, 1);
}
