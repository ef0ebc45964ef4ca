//! Sync figures for `make bench`, in process: the bytes a one-line edit of a 1 MB note puts
//! on the wire (sealed: the account is end to end) and that a second device receives, and pushing 10,000 queued notes of about 1 KB and their first sync into a
//! fresh device through the library (reported beside `cli_figures`, whose rows time the same
//! through the release `quire` binary, process start included, and carry the targets). A
//! real server (in process, SQLite on disk) over loopback HTTP; release build.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[path = "../tests/common/proxy.rs"]
mod proxy;
mod support;

use std::time::Instant;

use quire_client::store::NoteEdit;
use quire_core::NoteFields;
use support::{Device, Row};

const NOTES: usize = 10_000;

/// Seconds the push of `count` queued notes took, and seconds a fresh device's first sync
/// of them took.
async fn push_then_first_sync(server: &str, user: &str, count: usize) -> (f64, f64) {
    let writer = Device::new().await;
    writer.sign_in(server, user, true).await;
    writer.fill(count).await;
    let started = Instant::now();
    let pushed = writer.sync().await;
    let push_secs = started.elapsed().as_secs_f64();
    assert_eq!(pushed.pushed, count as u64);
    assert_eq!(pushed.pending, 0);

    let reader = Device::new().await;
    reader.sign_in(server, user, false).await;
    let started = Instant::now();
    let pulled = reader.sync().await;
    let pull_secs = started.elapsed().as_secs_f64();
    assert_eq!(pulled.pulled, count as u64);
    assert_eq!(reader.store.list_notes().await.unwrap().len(), count);
    (push_secs, pull_secs)
}

/// What a one-line edit of a 1 MB note costs on the wire: bytes crossing a counting proxy
/// (headers included) and HTTP body bytes, for the editing device's round, and the bytes a
/// second device (its own proxy) receives in the round that brings the edit.
struct OneLineEdit {
    wire: (u64, u64),
    bodies: (u64, u64),
    second_received: u64,
    second_bodies: u64,
}

async fn one_line_edit(server: &str) -> OneLineEdit {
    let proxy = proxy::counting_proxy(server).await;
    let device = Device::new().await;
    device.sign_in(&proxy.url, "editor", true).await;
    let lines: Vec<String> = (0..13_000)
        .map(|i| format!("{i:05} a line of a long note, with some words in it to fill the width\n"))
        .collect();
    let big = device
        .store
        .create_note(NoteFields::new("Big", lines.concat()))
        .await
        .unwrap();
    device.sync().await;
    let second_proxy = proxy::counting_proxy(server).await;
    let second = Device::new().await;
    second.sign_in(&second_proxy.url, "editor", false).await;
    second.sync().await;
    let mut edited = lines;
    edited[6_500] = "06500 this line was changed\n".to_owned();
    let edit = NoteEdit::body(edited.concat());
    device.store.update_note(big.id, edit).await.unwrap();
    let before = proxy.counts.total();
    let round = device.sync().await;
    let after = proxy.counts.total();
    assert_eq!(round.pushed, 1);
    let second_before = second_proxy.counts.total();
    let second_round = second.sync().await;
    let second_after = second_proxy.counts.total();
    assert_eq!(second_round.pulled, 1);
    assert_eq!(
        second.store.note(big.id).await.unwrap().body,
        edited.concat(),
        "the second device has the edit"
    );
    OneLineEdit {
        wire: (after.0 - before.0, after.1 - before.1),
        bodies: (round.bytes_sent, round.bytes_received),
        second_received: second_after.1 - second_before.1,
        second_bodies: second_round.bytes_received,
    }
}

#[allow(clippy::cast_precision_loss)]
async fn figures() -> Vec<Row> {
    let server_dir = support::disk_dir("quire-bench-server-");
    let server = support::start_server(&format!(
        "sqlite://{}",
        server_dir.path().join("s.db").display()
    ))
    .await;
    let url = server.url();

    let (push_secs, pull_secs) = push_then_first_sync(&url, "ten-thousand", NOTES).await;
    let edit = one_line_edit(&url).await;
    let ((up, down), (sent, received)) = (edit.wire, edit.bodies);
    server.stop().await.unwrap();

    vec![
        Row {
            figure: format!("push {NOTES} queued notes, in process (library, no process start)"),
            measured: format!("{:.0} notes/s ({push_secs:.2} s)", NOTES as f64 / push_secs),
            target: "report notes/s".into(),
            met: None,
        },
        Row {
            figure: format!(
                "first sync of {NOTES} notes into a fresh device, in process (library, no process start)"
            ),
            measured: format!("{pull_secs:.2} s"),
            target: "report s".into(),
            met: None,
        },
        Row {
            figure: "bytes on the wire, one-line edit of a 1 MB note".into(),
            measured: format!(
                "{} B ({up} up + {down} down, headers included; bodies {sent} + {received} B)",
                up + down
            ),
            target: "≤ 4 KB".into(),
            met: Some(up + down <= 4_096),
        },
        Row {
            figure: "bytes a second device receives for that edit (sealed)".into(),
            measured: format!(
                "{} B (headers included; bodies {} B)",
                edit.second_received, edit.second_bodies
            ),
            target: "≤ 4 KB".into(),
            met: Some(edit.second_received <= 4_096),
        },
    ]
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let rows = runtime.block_on(figures());
    support::report("sync", &rows);
}
