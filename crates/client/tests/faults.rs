//! Sync through a loopback proxy that refuses connections, cuts them mid-request and
//! mid-response at many points, slows them down, or drops what they carry. After each fault and a clean round: every change is on the
//! server and on a second device exactly once, no op is left, versions are contiguous.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use std::collections::BTreeMap;

use common::proxy::{fault_proxy, Fault};
use common::{device, server, Device, Server};
use quire_client::store::NoteEdit;
use quire_core::{NoteFields, NoteId};

/// id → (title, body, deleted, version) as a device has it.
const FAULTY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

async fn state(device: &Device, ids: &[NoteId]) -> BTreeMap<NoteId, (String, String, bool, u64)> {
    let mut out = BTreeMap::new();
    for id in ids {
        let note = device.store.note(*id).await.unwrap();
        out.insert(
            *id,
            (
                note.title,
                note.body,
                note.deleted,
                note.version.map_or(0, |v| v.0),
            ),
        );
    }
    out
}

struct Outcome {
    /// Whether the faulty round failed (the fault hit something).
    failed: bool,
    lost: usize,
    duplicated: usize,
}

async fn scenario(fault: Fault) -> Outcome {
    let server = server().await;
    let proxy = fault_proxy(&server.url).await;
    let (a, b) = (device().await, device().await);
    a.register(&Server::at(&proxy.url), "faulty").await;
    b.login(&server, "faulty").await;

    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            a.store
                .create_note(NoteFields::new(format!("old {i}"), "v1\n"))
                .await
                .unwrap()
                .id,
        );
    }
    a.sync().await;
    // The round that meets the fault: edits, creates and a delete, in one batch.
    for id in &ids[..2] {
        let edit = NoteEdit::body("v1\nv2\n");
        a.store.update_note(*id, edit).await.unwrap();
    }
    a.store.delete_note(ids[2]).await.unwrap();
    for i in 0..3 {
        ids.push(
            a.store
                .create_note(NoteFields::new(format!("new {i}"), "fresh\n"))
                .await
                .unwrap()
                .id,
        );
    }
    proxy.set(fault);
    // Requests give up after 2 s here (60 s in the app), so dropped packets end the round.
    let failed = a.try_sync_within(FAULTY_TIMEOUT).await.is_err();
    proxy.set(Fault::Pass);
    let report = a.sync().await;
    assert_eq!(
        report.pending, 0,
        "{fault:?}: the queue drains once the network is back"
    );
    b.sync().await;

    let (on_a, on_b) = (state(&a, &ids).await, state(&b, &ids).await);
    // Each change applied exactly once: edited and deleted notes are at version 2, new at 1.
    let expected = |i: usize| if i < 3 { 2 } else { 1 };
    let mut outcome = Outcome {
        failed,
        lost: 0,
        duplicated: 0,
    };
    for (i, id) in ids.iter().enumerate() {
        let (got_a, got_b) = (&on_a[id], &on_b[id]);
        if got_a != got_b {
            outcome.lost += 1;
        }
        match got_b.3.cmp(&expected(i)) {
            std::cmp::Ordering::Less => outcome.lost += 1,
            std::cmp::Ordering::Greater => outcome.duplicated += 1,
            std::cmp::Ordering::Equal => {}
        }
    }
    assert_eq!(on_b[&ids[0]].1, "v1\nv2\n", "{fault:?}");
    assert!(on_b[&ids[2]].2, "{fault:?}: the delete arrived");
    outcome
}

#[tokio::test]
async fn no_change_is_lost_or_applied_twice_whatever_the_network_does() {
    let mut faults = vec![
        Fault::Refuse,
        Fault::DropRequest,
        Fault::DropResponse,
        // A slow link the round survives, and one slower than the requests wait.
        Fault::Delay(40),
        Fault::Delay(2_500),
    ];
    for bytes in [0, 1, 40, 120, 300, 700, 1500, 4000] {
        faults.push(Fault::CutRequestAfter(bytes));
        faults.push(Fault::CutResponseAfter(bytes));
    }
    let (mut failed, mut lost, mut duplicated) = (0, 0, 0);
    for fault in &faults {
        let outcome = scenario(*fault).await;
        println!(
            "{fault:?}: round {}, {} lost, {} duplicated",
            if outcome.failed {
                "broken"
            } else {
                "completed"
            },
            outcome.lost,
            outcome.duplicated
        );
        let must_break = matches!(
            fault,
            Fault::Refuse | Fault::DropRequest | Fault::DropResponse | Fault::Delay(2_500)
        );
        assert!(
            outcome.failed || !must_break,
            "{fault:?} cannot let a round complete"
        );
        assert!(
            !outcome.failed || *fault != Fault::Delay(40),
            "a slow link is not a broken one"
        );
        failed += usize::from(outcome.failed);
        lost += outcome.lost;
        duplicated += outcome.duplicated;
    }
    println!(
        "fault scenarios: {} run ({failed} broke their round), {lost} lost, {duplicated} duplicated",
        faults.len()
    );
    assert_eq!((lost, duplicated), (0, 0));
    // The late cut points can fall after a round's last byte; most must hit it.
    assert!(
        failed * 2 > faults.len(),
        "the faults hit the rounds: {failed}"
    );
}
