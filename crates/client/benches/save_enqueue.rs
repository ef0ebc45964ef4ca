//! Save + enqueue: how long a person waits for a note change to be durable (the note and
//! its op committed in one transaction, fsynced). Criterion gives the mean; a second pass
//! times every save to report p50 / p99 / max, which is what "never feels slow" is about.
//!
//! Runs on a real SQLCipher file on disk (not tmpfs), with the file credentials store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::Criterion;

mod support;
use quire_client::credentials::{FileStore, CREDENTIALS_FILE};
use quire_client::store::NoteEdit;
use quire_client::Store;
use quire_core::NoteFields;

const TIMED_SAVES: usize = 2_000;

fn open(runtime: &tokio::runtime::Runtime, dir: &Path) -> Store {
    runtime
        .block_on(Store::open(
            dir,
            &FileStore::new(dir.join(CREDENTIALS_FILE)),
        ))
        .unwrap()
}

/// An ordinary note's body, about 1 KB (16 lines of words).
fn body(i: usize) -> String {
    support::ordinary_body(i)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    support::check_ordinary_notes();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = support::disk_dir("quire-bench-");
    let store = open(&runtime, dir.path());

    let mut criterion = Criterion::default().configure_from_args().sample_size(30);
    let mut i = 0;
    criterion.bench_function("create note + enqueue (durable)", |b| {
        b.iter(|| {
            i += 1;
            runtime
                .block_on(store.create_note(NoteFields {
                    title: format!("bench {i}"),
                    body: body(i),
                }))
                .unwrap()
        });
    });
    let note = runtime
        .block_on(store.create_note(NoteFields {
            title: "edited".into(),
            body: body(0),
        }))
        .unwrap();
    criterion.bench_function("edit note + enqueue (durable)", |b| {
        b.iter(|| {
            i += 1;
            runtime
                .block_on(store.update_note(note.id, NoteEdit::body(body(i))))
                .unwrap()
        });
    });
    criterion.final_summary();

    // Percentiles over individually timed saves: half creates, half edits of one note
    // (edits of an unsent note fold into its op, as typing does).
    let mut timings = Vec::with_capacity(TIMED_SAVES);
    for n in 0..TIMED_SAVES {
        let started = Instant::now();
        if n % 2 == 0 {
            runtime
                .block_on(store.create_note(NoteFields {
                    title: format!("timed {n}"),
                    body: body(n),
                }))
                .unwrap();
        } else {
            runtime
                .block_on(store.update_note(note.id, NoteEdit::body(body(n))))
                .unwrap();
        }
        timings.push(started.elapsed());
    }
    timings.sort();
    let (p50, p99, max) = (
        percentile(&timings, 0.50),
        percentile(&timings, 0.99),
        timings[timings.len() - 1],
    );
    support::report(
        "save_enqueue",
        &[support::Row {
            figure: format!("save + enqueue (durable) p50 / p99, {TIMED_SAVES} saves"),
            measured: format!("{} / {} (max {})", ms(p50), ms(p99), ms(max)),
            target: "≤ 1 ms / ≤ 5 ms".into(),
            met: Some(p50 <= Duration::from_millis(1) && p99 <= Duration::from_millis(5)),
        }],
    );
    runtime.block_on(store.close());
}
