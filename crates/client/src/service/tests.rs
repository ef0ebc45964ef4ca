//! The schedule on paused tokio time, with a scripted target standing in for store+server.
//! (The same task against the real store and server: tests/background.rs.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use quire_core::backoff::Backoff;
use quire_core::DeviceId;
use tokio::time::{sleep, Instant};

use super::*;
use crate::engine::SyncReport;
use crate::store::StoreStatus;
use crate::{Error, Result};

#[derive(Default)]
struct Script {
    results: Mutex<VecDeque<Result<SyncReport>>>,
    /// When each round started, from the test's start.
    rounds: Mutex<Vec<Duration>>,
    round_takes: Mutex<Duration>,
    signed_out: AtomicBool,
    paused: AtomicBool,
    network: AtomicU64,
    pending: AtomicU64,
}

#[derive(Clone)]
struct Fake {
    script: Arc<Script>,
    start: Instant,
}

impl SyncTarget for Fake {
    async fn run_round(&self) -> Result<SyncReport> {
        self.script
            .rounds
            .lock()
            .unwrap()
            .push(self.start.elapsed());
        let takes = *self.script.round_takes.lock().unwrap();
        sleep(takes).await;
        let next = self.script.results.lock().unwrap().pop_front();
        next.unwrap_or_else(|| {
            self.script.pending.store(0, Ordering::SeqCst);
            Ok(SyncReport::default())
        })
    }

    async fn status(&self) -> Result<StoreStatus> {
        Ok(StoreStatus {
            device_id: DeviceId(uuid::Uuid::nil()),
            notes: 0,
            pending_ops: self.script.pending.load(Ordering::SeqCst),
            open_conflicts: 0,
            needs_attention: 0,
            server: None,
            last_sync_at: None,
            last_verified_at: None,
        })
    }

    async fn signed_in(&self) -> bool {
        !self.script.signed_out.load(Ordering::SeqCst)
    }

    async fn interval(&self) -> Duration {
        Duration::from_secs(60)
    }

    async fn paused(&self) -> bool {
        self.script.paused.load(Ordering::SeqCst)
    }

    async fn remember_paused(&self, paused: bool) {
        self.script.paused.store(paused, Ordering::SeqCst);
    }

    fn network_fingerprint(&self) -> Option<u64> {
        Some(self.script.network.load(Ordering::SeqCst))
    }
}

fn offline() -> Error {
    Error::ServerUnreachable {
        server: "http://127.0.0.1:1".to_owned(),
        detail: "connection refused".to_owned(),
    }
}

fn busy(retry_after: Option<u64>) -> Error {
    Error::ServerBusy {
        server: "http://127.0.0.1:1".to_owned(),
        status: 503,
        detail: "overloaded".to_owned(),
        retry_after: retry_after.map(Duration::from_secs),
    }
}

struct Harness {
    script: Arc<Script>,
    handle: SyncHandle,
}

impl Harness {
    fn start(setup: impl FnOnce(&Script)) -> Self {
        let script = Arc::new(Script::default());
        setup(&script);
        let fake = Fake {
            script: Arc::clone(&script),
            start: Instant::now(),
        };
        let config = ServiceConfig {
            seed: Some(7),
            ..ServiceConfig::default()
        };
        let (handle, _task) = spawn(fake, config);
        Self { script, handle }
    }

    fn rounds(&self) -> Vec<u64> {
        self.script
            .rounds
            .lock()
            .unwrap()
            .iter()
            .map(Duration::as_secs)
            .collect()
    }

    fn fail_next(&self, errors: impl IntoIterator<Item = Error>) {
        self.script
            .results
            .lock()
            .unwrap()
            .extend(errors.into_iter().map(Err));
    }
}

async fn until(at_secs: u64, start: Instant) {
    tokio::time::sleep_until(start + Duration::from_secs(at_secs)).await;
}

#[tokio::test(start_paused = true)]
async fn rounds_run_at_start_and_then_every_interval_with_jitter() {
    let start = Instant::now();
    let h = Harness::start(|_| {});
    until(600, start).await;
    let rounds = h.rounds();
    assert_eq!(rounds[0], 0, "a round at start");
    let gaps: Vec<u64> = rounds.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.iter().all(|gap| (53..=66).contains(gap)), "{gaps:?}");
    assert!(
        gaps.iter().any(|gap| *gap != gaps[0]),
        "jitter varies the gaps: {gaps:?}"
    );
    assert!((9..=11).contains(&rounds.len()), "{rounds:?}");
    assert_eq!(h.handle.status().state, SyncState::Idle);
}

#[tokio::test(start_paused = true)]
async fn nothing_runs_or_wakes_while_paused_and_resume_syncs_at_once() {
    let start = Instant::now();
    let h = Harness::start(|_| {});
    until(1, start).await;
    h.handle.pause();
    until(2, start).await;
    assert_eq!(h.handle.status().state, SyncState::Paused);
    let wakeups = h.handle.timer_wakeups();
    h.handle.local_change();
    until(3600, start).await;
    assert_eq!(h.rounds(), [0], "no round in an hour of pause");
    assert_eq!(h.handle.timer_wakeups(), wakeups, "no timer woke the task");
    assert!(
        h.script.paused.load(Ordering::SeqCst),
        "the pause is remembered"
    );

    h.handle.resume();
    until(3601, start).await;
    assert_eq!(h.rounds(), [0, 3600]);
    assert_eq!(h.handle.status().state, SyncState::Idle);
}

#[tokio::test(start_paused = true)]
async fn a_pause_chosen_earlier_holds_from_the_start() {
    let start = Instant::now();
    let h = Harness::start(|s| s.paused.store(true, Ordering::SeqCst));
    until(600, start).await;
    assert!(h.rounds().is_empty());
    assert_eq!(h.handle.status().state, SyncState::Paused);
    // "Sync now" is the person asking: it runs once, and the pause stays.
    h.handle.sync_now();
    until(601, start).await;
    assert_eq!(h.rounds(), [600]);
    assert_eq!(h.handle.status().state, SyncState::Paused);
}

#[tokio::test(start_paused = true)]
async fn local_changes_sync_once_typing_stops_and_never_wait_more_than_the_maximum() {
    let start = Instant::now();
    let h = Harness::start(|_| {});
    until(5, start).await;
    for at in 5..10 {
        until(at, start).await;
        h.handle.local_change();
    }
    until(20, start).await;
    assert_eq!(h.rounds(), [0, 11], "one round, 2 s after the last change");

    // Changes every second for 30 s: rounds still happen, at most 10 s after the first.
    for at in 20..50 {
        until(at, start).await;
        h.handle.local_change();
    }
    until(55, start).await;
    let rounds = h.rounds();
    let during: Vec<u64> = rounds.iter().copied().filter(|at| *at >= 20).collect();
    assert_eq!(
        during.first(),
        Some(&30),
        "10 s after the first change: {rounds:?}"
    );
    assert!(during.len() >= 3, "{rounds:?}");
    assert!(during.windows(2).all(|w| w[1] - w[0] <= 11), "{rounds:?}");
}

#[tokio::test(start_paused = true)]
async fn triggers_during_a_round_make_exactly_one_more() {
    let start = Instant::now();
    let h = Harness::start(|s| *s.round_takes.lock().unwrap() = Duration::from_secs(5));
    until(1, start).await;
    for _ in 0..10 {
        h.handle.sync_now();
    }
    until(30, start).await;
    assert_eq!(h.rounds(), [0, 5], "the ten clicks made one more round");
}

#[tokio::test(start_paused = true)]
async fn failures_back_off_with_growing_jittered_waits_and_a_success_resets_them() {
    let start = Instant::now();
    let h = Harness::start(|s| s.network.store(1, Ordering::SeqCst));
    h.fail_next((0..6).map(|_| offline()));
    until(1, start).await;
    let status = h.handle.status();
    assert_eq!(status.state, SyncState::Offline);
    assert!(status.next_attempt_at.is_some());
    assert_eq!(
        status.error.as_ref().unwrap().code,
        crate::ErrorCode::Offline
    );

    until(3000, start).await;
    let rounds = h.rounds();
    // Six failures, then the seventh round works: retried with no new write or click.
    assert!(rounds.len() >= 8, "{rounds:?}");
    let mut ceiling = Backoff::default();
    for pair in rounds.windows(2).take(6) {
        let gap = pair[1] - pair[0];
        assert!(gap <= ceiling.ceiling().as_secs(), "{rounds:?}");
        ceiling.failed(None, 0.0);
    }
    assert_eq!(h.handle.status().state, SyncState::Idle);
    assert!(h.handle.status().error.is_none());

    // Reset: the next failure waits at most the first ceiling again.
    h.fail_next([offline()]);
    h.handle.sync_now();
    until(3002, start).await;
    let last_failure = *h.rounds().last().unwrap();
    until(3010, start).await;
    let retried = *h.rounds().last().unwrap();
    assert!(retried - last_failure <= 2, "{:?}", h.rounds());
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured() {
    let start = Instant::now();
    let h = Harness::start(|_| {});
    h.fail_next([busy(Some(120))]);
    until(119, start).await;
    assert_eq!(h.rounds(), [0]);
    assert_eq!(h.handle.status().state, SyncState::Error);
    until(121, start).await;
    assert_eq!(h.rounds(), [0, 120]);
}

#[tokio::test(start_paused = true)]
async fn a_network_change_while_offline_tries_at_once() {
    let start = Instant::now();
    let h = Harness::start(|s| s.network.store(1, Ordering::SeqCst));
    // Offline all along, so the backoff waits minutes.
    h.fail_next((0..40).map(|_| offline()));
    until(1500, start).await;
    let before = h.rounds().len();
    h.script.network.store(2, Ordering::SeqCst);
    until(1506, start).await;
    let rounds = h.rounds();
    assert!(
        rounds.len() > before,
        "tried within a network check: {rounds:?}"
    );
    assert!(rounds[before] <= 1505, "{rounds:?}");
}

#[tokio::test(start_paused = true)]
async fn a_lost_session_asks_once_for_sign_in_keeps_still_and_comes_back_after_it() {
    let start = Instant::now();
    let h = Harness::start(|s| s.pending.store(4, Ordering::SeqCst));
    let mut notices = h.handle.notices();
    h.fail_next([Error::SignInNeeded("the session expired".to_owned())]);
    until(1, start).await;
    let status = h.handle.status();
    assert_eq!((status.state, status.pending), (SyncState::SignInNeeded, 4));
    let notice = notices.try_recv().unwrap();
    assert_eq!(notice.kind, NoticeKind::SignIn);
    assert!(notice.text.contains("Sign in again"), "{}", notice.text);

    let wakeups = h.handle.timer_wakeups();
    until(7200, start).await;
    assert_eq!(h.rounds(), [0], "no retries without a session");
    assert_eq!(h.handle.timer_wakeups(), wakeups);
    assert!(notices.try_recv().is_err(), "told once");

    h.handle.account_changed();
    until(7201, start).await;
    assert_eq!(h.rounds(), [0, 7200]);
    assert_eq!(h.handle.status().state, SyncState::Idle);
    assert_eq!(h.handle.status().pending, 0);
}

#[tokio::test(start_paused = true)]
async fn without_a_server_nothing_runs_and_nothing_wakes() {
    let start = Instant::now();
    let h = Harness::start(|s| s.signed_out.store(true, Ordering::SeqCst));
    h.handle.local_change();
    until(3600, start).await;
    assert!(h.rounds().is_empty());
    assert_eq!(h.handle.status().state, SyncState::LocalOnly);
    assert!(
        h.handle.timer_wakeups() <= 1,
        "{}",
        h.handle.timer_wakeups()
    );
}

#[tokio::test(start_paused = true)]
async fn rounds_that_bring_conflicts_are_told_and_routine_ones_are_not() {
    let start = Instant::now();
    let h = Harness::start(|_| {});
    let mut notices = h.handle.notices();
    until(1, start).await;
    assert!(notices.try_recv().is_err(), "a routine round says nothing");
    h.script.results.lock().unwrap().push_back(Ok(SyncReport {
        conflicts: 2,
        ..SyncReport::default()
    }));
    h.handle.sync_now();
    until(2, start).await;
    let notice = notices.try_recv().unwrap();
    assert_eq!(notice.kind, NoticeKind::Conflicts);
    assert_eq!(
        notice.text,
        "2 notes need your decision: edited on two devices"
    );
    assert_eq!(h.handle.status().last_report.unwrap().conflicts, 2);
}
