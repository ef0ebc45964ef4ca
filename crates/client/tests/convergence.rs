//! Convergence: three devices of one account make random offline creates, edits and deletes
//! and sync in random order; after everyone syncs (and settles the conflicts it was shown),
//! every device equals the server. Under merge, every edit made is in the final text, or in
//! a conflict someone was shown, or its note was deleted by someone who had seen it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, HashSet};

use common::{device, server, Device};
use proptest::prelude::*;
use quire_client::engine::{CheckOutcome, CheckWhen};
use quire_client::store::{NoteEdit, Resolution};
use quire_core::settings::SettingKey;
use quire_core::{NoteFields, NoteId};

#[derive(Debug, Clone)]
enum Action {
    Create {
        device: usize,
    },
    /// Adds a line with a unique marker at `at` (modulo the note's line count).
    Edit {
        device: usize,
        note: usize,
        at: usize,
    },
    Delete {
        device: usize,
        note: usize,
    },
    Sync {
        device: usize,
    },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        2 => (0..3usize).prop_map(|device| Action::Create { device }),
        5 => (0..3usize, 0..8usize, 0..6usize).prop_map(|(device, note, at)| Action::Edit { device, note, at }),
        1 => (0..3usize, 0..8usize).prop_map(|(device, note)| Action::Delete { device, note }),
        3 => (0..3usize).prop_map(|device| Action::Sync { device }),
    ]
}

/// The notes a device shows: id → (title, body), deleted ones left out.
async fn visible(device: &Device) -> BTreeMap<NoteId, (String, String)> {
    let mut notes = BTreeMap::new();
    for summary in device.store.list_notes().await.unwrap() {
        let note = device.store.note(summary.id).await.unwrap();
        notes.insert(note.id, (note.title, note.body));
    }
    notes
}

async fn run(actions: Vec<Action>, policy: &str) {
    let server = server().await;
    let devices = [device().await, device().await, device().await];
    devices[0].register(&server, "many").await;
    for d in &devices[1..] {
        d.login(&server, "many").await;
    }
    for d in &devices {
        d.store
            .set_setting(SettingKey::ConflictPolicy, policy)
            .await
            .unwrap();
    }
    let mut created: Vec<NoteId> = Vec::new();
    // marker → note, for every edit made.
    let mut markers: Vec<(String, NoteId)> = Vec::new();
    // Notes some device deleted (a marker in such a note may rightly be gone).
    let mut deleted: HashSet<NoteId> = HashSet::new();
    for (step, action) in actions.into_iter().enumerate() {
        match action {
            Action::Create { device } => {
                let note = devices[device]
                    .store
                    .create_note(NoteFields::new(format!("note {step}"), "base line\n"))
                    .await
                    .unwrap();
                created.push(note.id);
            }
            Action::Edit { device, note, at } => {
                let Some(&id) = created.get(note % created.len().max(1)) else {
                    continue;
                };
                let Ok(current) = devices[device].store.note(id).await else {
                    continue;
                };
                if current.deleted {
                    continue;
                }
                let marker = format!("edit {step} on device {device}");
                let mut lines: Vec<&str> = current.body.lines().collect();
                let at = at % (lines.len() + 1);
                lines.insert(at, &marker);
                let body = lines.join("\n") + "\n";
                let edit = NoteEdit::body(body);
                if devices[device].store.update_note(id, edit).await.is_ok() {
                    markers.push((marker, id));
                }
            }
            Action::Delete { device, note } => {
                let Some(&id) = created.get(note % created.len().max(1)) else {
                    continue;
                };
                if devices[device].store.delete_note(id).await.is_ok() {
                    deleted.insert(id);
                }
            }
            Action::Sync { device } => {
                devices[device].sync().await;
            }
        }
    }

    // Everyone syncs; conflicts shown are remembered, then settled (each device keeps its
    // own text), until no device has any left.
    let mut shown: Vec<String> = Vec::new();
    for _ in 0..6 {
        for d in &devices {
            d.sync().await;
        }
        let mut open = 0;
        for d in &devices {
            for conflict in d.store.conflicts().await.unwrap() {
                open += 1;
                shown.push(conflict.mine.body.clone());
                shown.push(conflict.theirs.body.clone());
                d.store
                    .resolve_conflict(conflict.note_id, Resolution::Mine)
                    .await
                    .unwrap();
            }
        }
        if open == 0 {
            break;
        }
    }
    for d in &devices {
        d.sync().await;
    }
    for (n, d) in devices.iter().enumerate() {
        let queue = d.store.pending_ops(100).await.unwrap();
        let attention = d.store.attention().await.unwrap();
        assert!(
            queue.is_empty(),
            "device {n}: queue not drained: {queue:#?}; set aside: {attention:?}; last round: {:?}",
            d.sync().await
        );
        assert!(
            d.store.conflicts().await.unwrap().is_empty(),
            "conflicts settled"
        );
    }

    let first = visible(&devices[0]).await;
    for d in &devices[1..] {
        assert_eq!(visible(d).await, first, "devices differ");
    }
    // Each device proves it holds what the server holds, by its digest, with nothing to
    // repair: the protocol converged on its own.
    for (n, d) in devices.iter().enumerate() {
        let report = d.sync_checked(CheckWhen::Always).await;
        let check = report.verification.expect("a check ran");
        assert_eq!(check.outcome, CheckOutcome::Equal, "device {n}: {check:?}");
        assert_eq!(
            (check.repaired, check.sent_again, check.requests),
            (0, 0, 1),
            "device {n}: {check:?}"
        );
    }
    if policy == "merge" {
        for (marker, id) in &markers {
            let in_text = first
                .get(id)
                .is_some_and(|(_, body)| body.contains(marker.as_str()));
            let in_conflict = shown.iter().any(|text| text.contains(marker.as_str()));
            assert!(
                in_text || in_conflict || deleted.contains(id),
                "{marker} is lost (note {id}); final: {:?}",
                first.get(id)
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn devices_converge_under_merge(actions in prop::collection::vec(action(), 5..40)) {
        tokio::runtime::Runtime::new().unwrap().block_on(run(actions, "merge"));
    }

    #[test]
    fn devices_converge_under_last_write_wins(actions in prop::collection::vec(action(), 5..40)) {
        tokio::runtime::Runtime::new().unwrap().block_on(run(actions, "lww"));
    }
}
