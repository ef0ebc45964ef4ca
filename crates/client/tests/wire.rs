//! What goes over the wire: patches instead of whole texts, compression, and batches split
//! when the server finds them too large.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod common;

use common::proxy::counting_proxy;
use common::{device, noise, server, server_with};
use quire_client::store::NoteEdit;
use quire_core::NoteFields;

#[tokio::test]
async fn a_one_line_edit_of_a_large_note_costs_a_few_kilobytes_on_the_wire() {
    let server = server().await;
    let proxy = counting_proxy(&server.url).await;
    let (a, b) = (device().await, device().await);
    // A talks to the server through the counting proxy; B directly.
    a.register(&common::Server::at(&proxy.url), "owner").await;
    b.login(&server, "owner").await;

    let lines: Vec<String> = (0..13_000)
        .map(|i| format!("{i:05} {}\n", noise(74)))
        .collect();
    let text = lines.concat();
    assert!(text.len() >= 1_000_000, "{}", text.len());
    let note = a
        .store
        .create_note(NoteFields::new("Big", &text))
        .await
        .unwrap();
    a.sync().await;
    b.sync().await;

    let mut edited = lines.clone();
    edited[6_500] = "06500 this line was changed on device A\n".to_owned();
    let edited = edited.concat();
    a.store
        .update_note(note.id, NoteEdit::body(edited.clone()))
        .await
        .unwrap();
    let (up_before, down_before) = proxy.counts.total();
    let report = a.sync().await;
    let (up, down) = proxy.counts.total();
    let (up, down) = (up - up_before, down - down_before);
    println!(
        "one-line edit of a {} byte note: {up} bytes up + {down} bytes down = {} bytes on the \
         wire (HTTP bodies: {} sent, {} received)",
        text.len(),
        up + down,
        report.bytes_sent,
        report.bytes_received
    );
    assert_eq!((report.pushed, report.pending), (1, 0));
    assert!(up + down <= 4096, "{} bytes on the wire", up + down);
    assert!(report.bytes_sent > 0 && report.bytes_sent <= up);
    assert!(report.bytes_received > 0 && report.bytes_received <= down);

    // The patch made the same text on the server: B gets exactly A's note.
    let report = b.sync().await;
    assert_eq!(report.pulled, 1);
    assert_eq!(b.store.note(note.id).await.unwrap().body, edited);
}

#[tokio::test]
async fn batches_the_server_finds_too_large_are_split_and_an_op_too_large_alone_is_set_aside() {
    let limits = quire_server::Limits {
        max_body_bytes: 48 * 1024,
        ..quire_server::Limits::default()
    };
    let server = server_with(limits).await;
    let (a, b) = (device().await, device().await);
    a.register(&server, "owner").await;
    b.login(&server, "owner").await;
    for i in 0..12 {
        a.store
            .create_note(NoteFields::new(format!("note {i}"), noise(8 * 1024)))
            .await
            .unwrap();
    }
    let too_big = a
        .store
        .create_note(NoteFields::new("too big", noise(60 * 1024)))
        .await
        .unwrap();

    let report = a.sync().await;
    assert_eq!(
        (report.pushed, report.set_aside, report.pending),
        (12, 1, 0)
    );
    let attention = a.store.attention().await.unwrap();
    assert_eq!(attention.len(), 1);
    assert!(
        attention[0]
            .reason
            .contains("larger than the server accepts"),
        "{attention:?}"
    );
    assert_eq!(attention[0].note_id, too_big.id);
    assert_eq!(
        attention[0].body.as_ref().map(String::len),
        Some(60 * 1024),
        "kept with its text"
    );
    a.store.dismiss_attention(attention[0].op_id).await.unwrap();
    assert!(a.store.attention().await.unwrap().is_empty());
    assert!(
        a.store.dismiss_attention(attention[0].op_id).await.is_err(),
        "a second dismiss says there is nothing to dismiss"
    );
    // Set aside, not lost: the note is still here with its text.
    assert_eq!(
        a.store.note(too_big.id).await.unwrap().body.len(),
        60 * 1024
    );

    assert_eq!(b.sync().await.pulled, 12);
}
