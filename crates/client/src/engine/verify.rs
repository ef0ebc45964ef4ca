//! The check after a round (issue 22): this device's digest of what it holds against the
//! server's, and where they differ, the repair of only what differs.
//!
//! Equal stores cost one request. Otherwise the device compares 64 ranges of buckets, then
//! the buckets of each range that differs, then the notes of each bucket that differs; it
//! takes each differing note from the server (`repair_from_server`) or, for a note the
//! server lacks, queues it to go again (`queue_again`), and compares again. Notes that wait
//! on something here (see `store::held`) are left alone and counted as waiting.

use std::collections::{HashMap, HashSet};

use quire_core::digest::{bucket_of, element, BucketDigests, DigestSummary, HeldNote, BUCKETS};
use quire_core::protocol::{AccountDigest, DigestNote};
use quire_core::NoteId;
use serde::Serialize;

use super::opened;
use crate::api::ApiClient;
use crate::credentials::Secret;
use crate::sealing::Sealing;
use crate::store::{HeldHere, Part, Repaired};
use crate::{Error, Result, Store};

/// Buckets per range in the first comparison: 64 ranges of 64.
const RANGE_WIDTH: u16 = 64;
/// Pages of one bucket's notes read at most (1,000 notes each): a server that never ends
/// a bucket does not keep the device listing forever.
const MAX_PAGES_PER_BUCKET: usize = 1_000;
/// Notes repaired at most by one check; the next check goes on with the rest.
const MAX_REPAIRS_PER_CHECK: usize = 5_000;

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CheckOutcome {
    /// This device holds exactly what the server holds.
    Equal,
    /// Some notes still differ: they wait on changes here, or on the next round.
    Differs,
    /// The server still holds notes in the clear from before the account's upgrade: no
    /// device holds those yet, so there is nothing to compare until they are sealed.
    NotSealed,
    /// The account changed on the server during the check; it runs again after a round.
    Moved,
}

/// What a check found and did, for `quire sync` and the status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Verification {
    pub outcome: CheckOutcome,
    /// Notes compared (those this device holds as the server should).
    #[ts(type = "number")]
    pub notes: u64,
    /// Notes whose copy here differed and was replaced by the server's.
    #[ts(type = "number")]
    pub repaired: u64,
    /// Of those, notes whose text here the server never had: kept, each as a new note.
    #[ts(type = "number")]
    pub kept_copies: u64,
    /// Notes the server lacked, queued here to go to it again.
    #[ts(type = "number")]
    pub sent_again: u64,
    /// Differing notes left alone because changes to them wait here (queued, in
    /// conflict, unreadable): the round that sends or settles them settles the check.
    #[ts(type = "number")]
    pub waiting: u64,
    /// Notes the server holds at an older version than this device (a server restored
    /// from a backup): not taken; the pull's own check of the cursor catches this up.
    #[ts(type = "number")]
    pub server_behind: u64,
    /// Requests the check made.
    #[ts(type = "number")]
    pub requests: u64,
    /// How long it took, repairs included (milliseconds).
    #[ts(type = "number")]
    pub duration_ms: u64,
}

impl Verification {
    fn new(outcome: CheckOutcome, notes: u64) -> Self {
        Self {
            outcome,
            notes,
            repaired: 0,
            kept_copies: 0,
            sent_again: 0,
            waiting: 0,
            server_behind: 0,
            requests: 0,
            duration_ms: 0,
        }
    }

    /// Adds what a later check in the same sync did.
    pub(super) fn then(mut self, later: Verification) -> Self {
        self.outcome = later.outcome;
        self.notes = later.notes;
        self.repaired += later.repaired;
        self.kept_copies += later.kept_copies;
        self.sent_again += later.sent_again;
        self.waiting = later.waiting;
        self.server_behind = later.server_behind;
        self.requests += later.requests;
        self.duration_ms += later.duration_ms;
        self
    }
}

fn same(mine: DigestSummary, notes: u64, digest: quire_core::digest::DigestValue) -> bool {
    mine.notes == notes && mine.digest == digest
}

/// What the bisection found to repair.
#[derive(Default)]
struct Differences {
    /// With the version the server listed: the copy fetched must be that one.
    take: Vec<(NoteId, quire_core::Version)>,
    send: Vec<NoteId>,
    waiting: HashSet<NoteId>,
    server_behind: u64,
}

/// Runs one check, with its repairs, and compares again after them.
pub(super) async fn check(
    store: &Store,
    remote: (&ApiClient, &Secret),
    sealing: &Sealing,
) -> Result<Verification> {
    let (api, token) = remote;
    let started = std::time::Instant::now();
    let requests_before = api.wire_bytes().requests;
    let macs = sealing.text_macs();
    let held = store.held_here(&macs).await?;
    let server = api.digest(token).await?;
    let mut verification = compare_whole(store, &held, &server).await?;
    if verification.outcome == CheckOutcome::Differs {
        match differences(store, remote, &held, &server).await? {
            None => verification.outcome = CheckOutcome::Moved,
            Some(found) => {
                repair(store, remote, sealing, &found, &mut verification).await?;
                // Again, whole: what the repairs left.
                let held = store.held_here(&macs).await?;
                let server = api.digest(token).await?;
                let again = compare_whole(store, &held, &server).await?;
                verification.outcome = again.outcome;
                verification.notes = again.notes;
            }
        }
    }
    verification.requests = api.wire_bytes().requests - requests_before;
    verification.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!(?verification, "checked this device against the server");
    Ok(verification)
}

async fn compare_whole(
    store: &Store,
    held: &HeldHere,
    server: &AccountDigest,
) -> Result<Verification> {
    let notes = held.notes();
    if server.in_the_clear > 0 {
        return Ok(Verification::new(CheckOutcome::NotSealed, notes));
    }
    if server.cursor != store.pull_cursor().await? {
        return Ok(Verification::new(CheckOutcome::Moved, notes));
    }
    let outcome = if same(held.digests.total().summary(), server.notes, server.digest) {
        CheckOutcome::Equal
    } else {
        CheckOutcome::Differs
    };
    Ok(Verification::new(outcome, notes))
}

/// Ranges, then buckets, then notes; `None` when the account moved meanwhile.
async fn differences(
    store: &Store,
    (api, token): (&ApiClient, &Secret),
    held: &HeldHere,
    server: &AccountDigest,
) -> Result<Option<Differences>> {
    let ranges = api.digest_ranges(token, 0, BUCKETS, RANGE_WIDTH).await?;
    if ranges.cursor != server.cursor {
        return Ok(None);
    }
    let mut buckets = Vec::new();
    for from in differing(&held.digests, &ranges.ranges, 0, BUCKETS, RANGE_WIDTH) {
        let to = from.saturating_add(RANGE_WIDTH).min(BUCKETS);
        let within = api.digest_ranges(token, from, to, 1).await?;
        if within.cursor != server.cursor {
            return Ok(None);
        }
        buckets.extend(differing(&held.digests, &within.ranges, from, to, 1));
    }
    let mut found = Differences::default();
    for bucket in buckets {
        let mut listed: Vec<DigestNote> = Vec::new();
        let mut after = None;
        for page_number in 0.. {
            if page_number == MAX_PAGES_PER_BUCKET {
                return Err(bad_listing(api, "a bucket that never ends"));
            }
            let page = api.bucket_notes(token, bucket, after).await?;
            if page.cursor != server.cursor {
                return Ok(None);
            }
            // In order, after the last one, and in this bucket: a listing that is not
            // stops the check (it would otherwise never end, or repair notes it has not
            // compared).
            for note in &page.notes {
                if after.is_some_and(|after| note.id <= after) || bucket_of(note.id) != bucket {
                    return Err(bad_listing(
                        api,
                        "notes out of order or in the wrong bucket",
                    ));
                }
                after = Some(note.id);
            }
            listed.extend(page.notes);
            if !page.more || after.is_none() {
                break;
            }
        }
        let mine = store.held_in_bucket(held, bucket).await?;
        compare_notes(&mine, &held.waiting, &listed, &mut found);
    }
    Ok(Some(found))
}

fn bad_listing(api: &ApiClient, what: &str) -> Error {
    Error::ServerProtocol {
        server: api.server_url().to_string(),
        detail: format!("the server's list of notes to compare has {what}"),
    }
}

/// The starts of the ranges of `width` in `from..to` whose digests differ.
fn differing(
    mine: &BucketDigests,
    theirs: &[quire_core::protocol::RangeDigest],
    from: u16,
    to: u16,
    width: u16,
) -> Vec<u16> {
    let theirs: HashMap<u16, _> = theirs.iter().map(|range| (range.from, range)).collect();
    (from..to)
        .step_by(usize::from(width))
        .filter(|start| {
            let mine = mine.range(*start, start.saturating_add(width)).summary();
            match theirs.get(start) {
                Some(range) => !same(mine, range.notes, range.digest),
                None => mine.notes != 0,
            }
        })
        .collect()
}

/// One bucket's notes: this device's counted ones (`mine`) against the server's.
fn compare_notes(
    mine: &HashMap<NoteId, Part>,
    waiting: &HashSet<NoteId>,
    listed: &[DigestNote],
    found: &mut Differences,
) {
    let mut seen = HashSet::with_capacity(listed.len());
    for theirs in listed {
        seen.insert(theirs.id);
        if waiting.contains(&theirs.id) {
            found.waiting.insert(theirs.id);
            continue;
        }
        let mine = mine.get(&theirs.id);
        if theirs.purged {
            // Deleted forever there, still here: it goes here too, but only on the sealed
            // purge (`opened::whole` checks it). This server answers 404 for such a note
            // (its proof comes only with a pull), so the note stays and the check says the
            // two still differ.
            if mine.is_some() {
                found.take.push((theirs.id, theirs.version));
            }
            continue;
        }
        // (The element leaves out the text of a note in the trash.)
        let their_element = element(&HeldNote {
            id: theirs.id,
            version: theirs.version,
            deleted: theirs.deleted,
            mac: theirs.mac,
        });
        match mine {
            Some(mine) if mine.element == their_element => {}
            Some(mine) if mine.version > theirs.version => found.server_behind += 1,
            _ => found.take.push((theirs.id, theirs.version)),
        }
    }
    for id in mine.keys() {
        if !seen.contains(id) {
            found.send.push(*id);
        }
    }
}

async fn repair(
    store: &Store,
    remote: (&ApiClient, &Secret),
    sealing: &Sealing,
    found: &Differences,
    verification: &mut Verification,
) -> Result<()> {
    verification.waiting = found.waiting.len() as u64;
    verification.server_behind = found.server_behind;
    for (id, listed) in found.take.iter().take(MAX_REPAIRS_PER_CHECK) {
        let note = match opened::whole(store, remote, sealing, *id).await {
            Ok(Some(note)) => note,
            // It did not open: kept apart, in "needs attention", like a pulled one.
            Ok(None) => {
                verification.waiting += 1;
                continue;
            }
            // Gone from the server meanwhile: the next check sees what is left.
            Err(Error::ServerRefused { status: 404, .. }) => continue,
            Err(err) => return Err(err),
        };
        // Changed since it was listed: the next check sees it as it is then.
        if note.version != *listed {
            continue;
        }
        match store.repair_from_server(&note).await? {
            Repaired::Taken { kept_copy } => {
                verification.repaired += 1;
                verification.kept_copies += u64::from(kept_copy);
            }
            Repaired::Older => verification.server_behind += 1,
            Repaired::Queued | Repaired::Waiting => verification.waiting += 1,
        }
    }
    for id in found.send.iter().take(MAX_REPAIRS_PER_CHECK) {
        match store.queue_again(*id).await? {
            Repaired::Queued => verification.sent_again += 1,
            Repaired::Taken { .. } | Repaired::Older | Repaired::Waiting => {
                verification.waiting += 1;
            }
        }
    }
    Ok(())
}
