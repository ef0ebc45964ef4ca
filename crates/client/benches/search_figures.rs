//! Search figures for `make bench` (issue 21), in process, release build, on a real
//! encrypted store on disk holding 100,000 notes of about 1 KB:
//! - a search as the app runs it (up to 100 hits with snippets), over 1,000 queries a person
//!   would type: a word they remember from a note (60 %), two words of one note (20 %), a
//!   word half typed (20 %). Targets: p50 ≤ 5 ms, p99 ≤ 20 ms.
//! - the worst case, reported: a word that is in every note, whole and half typed.
//! - indexing 100,000 notes a first sync brought in, as the app does after the round.
//!
//! Each note is 16 lines of common English words (`support::ordinary_body`) and a line of
//! three topic words, drawn from 5,000 made-up ones with Zipf's law as words in real notes
//! are: the commonest topic is in about a third of the notes, most are in a handful.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::time::Instant;

use quire_client::store::{INDEX_CHUNK, MAX_RESULTS};
use quire_core::NoteFields;
use support::{Device, Row};

const NOTES: usize = 100_000;
const TOPICS: usize = 5_000;
const TOPICS_PER_NOTE: usize = 3;
const QUERIES: usize = 1_000;
const WORST_RUNS: usize = 21;

/// A linear congruential generator: the same notes and queries every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from((self.0 >> 33) % n as u64).unwrap()
    }
}

/// Made-up topic word `k`: three syllables of twenty, so no two are alike and none is
/// English.
fn topic(k: usize) -> String {
    const SYLLABLES: [&str; 20] = [
        "ka", "lo", "mi", "ren", "tu", "sa", "vo", "pel", "di", "nor", "ha", "zu", "fen", "qui",
        "bar", "tos", "gle", "mun", "rix", "yad",
    ];
    [k / 400, (k / 20) % 20, k % 20]
        .iter()
        .map(|&s| SYLLABLES[s])
        .collect()
}

/// Draws topic ranks by Zipf's law (weight 1/rank).
struct Zipf(Vec<f64>);

impl Zipf {
    #[allow(clippy::cast_precision_loss)]
    fn new(n: usize) -> Self {
        let mut total = 0.0;
        Self(
            (1..=n)
                .map(|rank| {
                    total += 1.0 / rank as f64;
                    total
                })
                .collect(),
        )
    }

    #[allow(clippy::cast_precision_loss)]
    fn draw(&self, rng: &mut Lcg) -> usize {
        let total = self.0[self.0.len() - 1];
        let at = rng.below(1 << 30) as f64 / f64::from(1 << 30) * total;
        self.0.partition_point(|&c| c < at).min(self.0.len() - 1)
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let at = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[at]
}

async fn timed_search(device: &Device, query: &str) -> (f64, usize) {
    let started = Instant::now();
    let hits = device.store.search(query, MAX_RESULTS).await.unwrap();
    (started.elapsed().as_secs_f64() * 1000.0, hits.len())
}

#[allow(clippy::too_many_lines)]
async fn figures() -> Vec<Row> {
    let device = Device::new().await;
    let zipf = Zipf::new(TOPICS);
    let mut rng = Lcg(0x5EED);
    let mut topics_of = Vec::with_capacity(NOTES);
    for start in (0..NOTES).step_by(1_000) {
        let notes = (start..start + 1_000)
            .map(|i| {
                let words: Vec<String> = (0..TOPICS_PER_NOTE)
                    .map(|_| topic(zipf.draw(&mut rng)))
                    .collect();
                let body = format!("{}{}\n", support::ordinary_body(i), words.join(" "));
                topics_of.push(words);
                NoteFields::new(format!("Note {i}"), body)
            })
            .collect();
        device.store.create_notes(notes).await.unwrap();
    }

    // What the app does after a first sync of 100,000: the pull wrote them unindexed.
    let pool = device.store.raw_pool();
    sqlx::query("INSERT INTO notes_search (notes_search) VALUES ('delete-all')")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE notes SET search_indexed = 0")
        .execute(pool)
        .await
        .unwrap();
    let started = Instant::now();
    let mut indexed = 0;
    loop {
        let chunk = device.store.index_pending(INDEX_CHUNK).await.unwrap();
        if chunk == 0 {
            break;
        }
        indexed += chunk;
    }
    let index_secs = started.elapsed().as_secs_f64();
    assert_eq!(indexed, NOTES as u64);

    // Queries as a person types them, each from a note that has the words.
    let queries: Vec<String> = (0..QUERIES)
        .map(|q| {
            let words = &topics_of[rng.below(NOTES)];
            match q % 5 {
                0 => format!("{} {}", words[0], words[1]),
                1 => {
                    let word = &words[rng.below(TOPICS_PER_NOTE)];
                    let typed = 3 + rng.below(word.len() - 3);
                    word[..typed].to_owned()
                }
                _ => words[rng.below(TOPICS_PER_NOTE)].clone(),
            }
        })
        .collect();
    let mut times = Vec::with_capacity(QUERIES);
    for query in &queries {
        let (ms, hits) = timed_search(&device, query).await;
        assert!(hits > 0, "{query:?} found nothing");
        times.push(ms);
    }
    times.sort_by(f64::total_cmp);
    let (p50, p99, max) = (
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times[times.len() - 1],
    );

    // The worst: a word in every note.
    let mut worst = Vec::new();
    for query in ["the", "whi"] {
        let mut runs = Vec::with_capacity(WORST_RUNS);
        for _ in 0..WORST_RUNS {
            let (ms, hits) = timed_search(&device, query).await;
            assert_eq!(hits, MAX_RESULTS as usize, "{query:?}");
            runs.push(ms);
        }
        runs.sort_by(f64::total_cmp);
        worst.push(percentile(&runs, 0.5));
    }

    vec![
        Row {
            figure: format!(
                "search {NOTES} notes, {QUERIES} typed queries (up to {MAX_RESULTS} hits with snippets) p50 / p99"
            ),
            measured: format!("{p50:.2} ms / {p99:.2} ms (max {max:.2} ms)"),
            target: "≤ 5 ms / ≤ 20 ms".into(),
            met: Some(p50 <= 5.0 && p99 <= 20.0),
        },
        Row {
            figure: format!("search for a word in all {NOTES} notes, whole / half typed (median)"),
            measured: format!("{:.2} ms / {:.2} ms", worst[0], worst[1]),
            target: "report".into(),
            met: None,
        },
        Row {
            figure: format!("index {NOTES} notes a first sync brought, after the round"),
            measured: format!("{index_secs:.2} s"),
            target: "report".into(),
            met: None,
        },
    ]
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let rows = runtime.block_on(figures());
    support::report("search", &rows);
}
