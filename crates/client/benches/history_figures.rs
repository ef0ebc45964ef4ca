//! History figures for `make bench` (issue 20), in process, release build, against a real
//! server (in process, SQLite on disk) over loopback HTTP:
//! - what 1,000 one-line edits of a 1 MB note cost the server in history: the bytes of the
//!   note's sealed entries in its database, read from the database itself (target ≤ 2 MB:
//!   history is deltas, not copies);
//! - listing the versions of a note that has 1,000 of them, through the library as the app
//!   does (median and worst of 30; target ≤ 50 ms).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::time::Instant;

use quire_client::history;
use quire_client::store::NoteEdit;
use quire_core::NoteFields;
use support::{Device, Row};

const EDITS: usize = 1_000;
const LISTINGS: usize = 30;

/// Lines of made-up prose (words drawn from a few hundred, as in a person's notes) adding up
/// to at least `bytes`: text that compresses about as well as real notes do, not better.
fn prose_lines(bytes: usize) -> Vec<String> {
    const WORDS: &str = "the of and to in is was that for it with as on be at by this had not are but from \
        or have an they which one you were her all she there would their we him been has when who will \
        more no if out so said what up its about into than them can only other new some could time these \
        two may then do first any my now such like our over man me even most made after also did many \
        before must through back years where much your way well down should because each just those \
        people how too little state good very make world still own see men work long get here between \
        both life being under never day same another know while last might us great old year off come \
        since against go came right used take three meeting garden recipe budget travel invoice draft";
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(seed >> 33).unwrap_or(0)
    };
    let mut lines = Vec::new();
    let mut total = 0;
    while total < bytes {
        let count = 8 + next() % 8;
        let line: Vec<&str> = (0..count).map(|_| words[next() % words.len()]).collect();
        let line = format!("{}\n", line.join(" "));
        total += line.len();
        lines.push(line);
    }
    lines
}

#[allow(clippy::cast_precision_loss)]
async fn figures() -> Vec<Row> {
    let server_dir = support::disk_dir("quire-bench-server-");
    let db_url = format!("sqlite://{}", server_dir.path().join("s.db").display());
    let server = support::start_server(&db_url).await;
    let device = Device::new().await;
    device.sign_in(&server.url(), "historian", true).await;

    let mut lines = prose_lines(1_000_000);
    let note = device
        .store
        .create_note(NoteFields::new("Big", lines.concat()))
        .await
        .unwrap();
    let text_bytes = lines.concat().len();
    device.sync().await;
    let started = Instant::now();
    for edit in 0..EDITS {
        // A different line each time, as a person editing through a long note would.
        let at = (edit * 13) % lines.len();
        lines[at] = format!("changed in edit {edit}: {}", lines[at]);
        device
            .store
            .update_note(note.id, NoteEdit::body(lines.concat()))
            .await
            .unwrap();
        let round = device.sync().await;
        assert_eq!(round.pushed, 1, "edit {edit}");
    }
    let edit_secs = started.elapsed().as_secs_f64();

    let reader = quire_server::Db::connect(&db_url).await.unwrap();
    let (entries, data_bytes, snapshots): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), CAST(sum(length(data)) AS BIGINT),
                sum(CASE WHEN form = 'snapshot' THEN 1 ELSE 0 END)
         FROM note_entries WHERE note_id = $1",
    )
    .bind(note.id.to_string())
    .fetch_one(&reader.pool)
    .await
    .unwrap();
    reader.pool.close().await;
    assert_eq!(entries, (EDITS + 1) as i64, "every version is kept");

    let mut times = Vec::with_capacity(LISTINGS);
    for _ in 0..LISTINGS {
        let started = Instant::now();
        let versions = history::versions(&device.store, &device.secrets, note.id)
            .await
            .unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(versions.len(), EDITS + 1);
    }
    times.sort_by(f64::total_cmp);
    let median = times[LISTINGS / 2];
    let worst = times[LISTINGS - 1];
    server.stop().await.unwrap();

    let mb = |bytes: i64| bytes as f64 / 1_000_000.0;
    vec![
        Row {
            figure: format!(
                "server history of {EDITS} one-line edits of a {:.1} MB note (sealed entries in its database)",
                text_bytes as f64 / 1_000_000.0
            ),
            measured: format!(
                "{:.2} MB in {entries} entries ({snapshots} whole, the rest changes; {:.1} s to make)",
                mb(data_bytes),
                edit_secs
            ),
            target: "≤ 2 MB".into(),
            met: Some(data_bytes <= 2_000_000),
        },
        Row {
            figure: format!("list the versions of a note with {} of them (library, over HTTP)", EDITS + 1),
            measured: format!("{median:.1} ms median, {worst:.1} ms worst of {LISTINGS}"),
            target: "≤ 50 ms".into(),
            met: Some(median <= 50.0),
        },
    ]
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let rows = runtime.block_on(figures());
    support::report("history", &rows);
}
