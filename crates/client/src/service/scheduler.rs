//! The task's loop: wait for the earliest timer or a command, run a round when one is due.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use quire_core::backoff::{jittered_interval, Backoff};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::{broadcast, mpsc, watch};
use tokio::time::Instant;

use super::status::{StatusError, SyncState, SyncStatus};
use super::target::SyncTarget;
use super::{Command, ServiceConfig};
use crate::engine::{Notice, NoticeKind};
use crate::{clock, Error};

/// The timers that can wake the loop. None: not armed.
#[derive(Debug, Default)]
struct Timers {
    periodic: Option<Instant>,
    /// After a failure, the backoff's choice.
    retry: Option<Instant>,
    /// After local changes, when the typing stopped.
    debounce: Option<Instant>,
    /// The first change the debounce is holding back.
    first_change: Option<Instant>,
    /// While offline, when to look at the network again.
    network: Option<Instant>,
}

impl Timers {
    fn earliest(&self) -> Option<Instant> {
        [self.periodic, self.retry, self.debounce, self.network]
            .into_iter()
            .flatten()
            .min()
    }

    fn clear(&mut self) {
        *self = Self::default();
    }
}

pub(super) struct Scheduler<T> {
    target: T,
    config: ServiceConfig,
    inbox: mpsc::UnboundedReceiver<Command>,
    status: watch::Sender<SyncStatus>,
    notices: broadcast::Sender<Notice>,
    wakeups: Arc<AtomicU64>,
    rng: StdRng,
    backoff: Backoff,
    timers: Timers,
    paused: bool,
    /// A round is due as soon as the loop comes round.
    due: bool,
    network: Option<u64>,
}

impl<T: SyncTarget> Scheduler<T> {
    pub(super) fn new(
        target: T,
        config: ServiceConfig,
        inbox: mpsc::UnboundedReceiver<Command>,
        status: watch::Sender<SyncStatus>,
        notices: broadcast::Sender<Notice>,
        wakeups: Arc<AtomicU64>,
    ) -> Self {
        let rng = match config.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        Self {
            target,
            backoff: config.backoff.clone(),
            config,
            inbox,
            status,
            notices,
            wakeups,
            rng,
            timers: Timers::default(),
            paused: false,
            due: false,
            network: None,
        }
    }

    pub(super) async fn run(mut self) {
        self.paused = self.target.paused().await;
        // A round at start: whatever was written while the app was closed goes out.
        self.due = !self.paused;
        self.publish(|s| {
            s.state = if self.paused {
                SyncState::Paused
            } else {
                SyncState::Idle
            }
        })
        .await;
        loop {
            if self.due {
                self.due = false;
                self.round().await;
                continue;
            }
            let wake = self.timers.earliest();
            tokio::select! {
                command = self.inbox.recv() => match command {
                    Some(command) => self.handle(command).await,
                    None => break,
                },
                () = sleep_until(wake) => {
                    self.wakeups.fetch_add(1, Ordering::Relaxed);
                    self.on_timer();
                }
            }
        }
        tracing::debug!("sync task stopped");
    }

    async fn handle(&mut self, command: Command) {
        tracing::debug!(?command, "sync trigger");
        match command {
            // Explicit: runs even while paused or backing off (the person asked).
            Command::SyncNow => self.due = true,
            Command::LocalChange => {
                self.publish(|_| {}).await;
                // While paused, signed out or backing off, the change waits for those to end.
                let state = self.status.borrow().state;
                if !self.paused && self.timers.retry.is_none() && state != SyncState::SignInNeeded {
                    let now = Instant::now();
                    let first = *self.timers.first_change.get_or_insert(now);
                    self.timers.debounce =
                        Some((now + self.config.debounce).min(first + self.config.debounce_max));
                }
            }
            Command::Pause => {
                self.paused = true;
                self.timers.clear();
                self.target.remember_paused(true).await;
                tracing::info!("sync paused");
                self.publish(|s| {
                    s.state = SyncState::Paused;
                    s.next_attempt_at = None;
                })
                .await;
            }
            Command::Resume => {
                self.paused = false;
                self.target.remember_paused(false).await;
                tracing::info!("sync resumed");
                self.due = true;
            }
            Command::AccountChanged => {
                self.backoff.succeeded();
                self.timers.clear();
                self.due = !self.paused;
            }
            Command::NetworkChanged => {
                if self.timers.retry.is_some() {
                    self.due = true;
                }
            }
        }
    }

    fn on_timer(&mut self) {
        let now = Instant::now();
        let fired = |timer: &mut Option<Instant>| timer.is_some_and(|at| at <= now);
        if fired(&mut self.timers.network) {
            let seen = self.target.network_fingerprint();
            if seen != self.network {
                tracing::info!("the network changed; trying the server again");
                self.network = seen;
                self.due = true;
            }
            self.timers.network = Some(now + self.config.network_check);
        }
        for timer in [
            &mut self.timers.periodic,
            &mut self.timers.retry,
            &mut self.timers.debounce,
        ] {
            if timer.is_some_and(|at| at <= now) {
                *timer = None;
                self.due = true;
            }
        }
    }

    async fn round(&mut self) {
        self.timers.clear();
        if !self.target.signed_in().await {
            self.publish(|s| {
                s.state = SyncState::LocalOnly;
                s.error = None;
                s.next_attempt_at = None;
            })
            .await;
            return;
        }
        let previous = self.status.borrow().state;
        self.publish(|s| s.state = SyncState::Syncing).await;
        let result = self.target.run_round().await;
        match result {
            Ok(report) => {
                self.backoff.succeeded();
                for notice in report.notices() {
                    self.notify(notice);
                }
                self.timers.periodic = Some(self.next_periodic().await);
                let paused = self.paused;
                self.publish(|s| {
                    s.state = if paused {
                        SyncState::Paused
                    } else {
                        SyncState::Idle
                    };
                    s.error = None;
                    s.next_attempt_at = None;
                    s.last_report = Some(report);
                })
                .await;
            }
            Err(err) => self.failed(&err, previous).await,
        }
        // Triggers that came during the round fold into at most one more.
        while let Ok(command) = self.inbox.try_recv() {
            self.handle(command).await;
        }
    }

    async fn failed(&mut self, err: &Error, previous: SyncState) {
        let error = Some(StatusError {
            code: err.code(),
            message: err.to_string(),
        });
        if matches!(err, Error::SignInNeeded(_) | Error::NotSignedIn) {
            tracing::warn!("sync needs a new sign-in: {err}");
            if previous != SyncState::SignInNeeded {
                self.notify(Notice {
                    kind: NoticeKind::SignIn,
                    text: "Sign in again to keep syncing; your changes are kept until then"
                        .to_owned(),
                });
            }
            let state = if self.paused {
                SyncState::Paused
            } else {
                SyncState::SignInNeeded
            };
            self.publish(|s| {
                s.state = state;
                s.error = error;
                s.next_attempt_at = None;
            })
            .await;
            return;
        }
        let wait = self.backoff.failed(err.retry_after(), self.rng.random());
        let offline = matches!(err, Error::ServerUnreachable { .. });
        tracing::warn!(
            failures = self.backoff.failures(),
            retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            "sync round failed: {err}"
        );
        if !err.is_transient() && previous != SyncState::Error {
            self.notify(Notice {
                kind: NoticeKind::Failing,
                text: format!("Sync is failing: {err}"),
            });
        }
        let now = Instant::now();
        if self.paused {
            self.publish(|s| {
                s.state = SyncState::Paused;
                s.error = error;
            })
            .await;
            return;
        }
        self.timers.retry = Some(now + wait);
        if offline {
            self.network = self.target.network_fingerprint();
            self.timers.network = Some(now + self.config.network_check);
        }
        let next_attempt_at = clock::now().0.saturating_add(millis(wait));
        self.publish(|s| {
            s.state = if offline {
                SyncState::Offline
            } else {
                SyncState::Error
            };
            s.error = error;
            s.next_attempt_at = Some(next_attempt_at);
        })
        .await;
    }

    async fn next_periodic(&mut self) -> Instant {
        let interval = self.target.interval().await;
        Instant::now() + jittered_interval(interval, self.rng.random())
    }

    fn notify(&self, notice: Notice) {
        tracing::info!(kind = ?notice.kind, "{}", notice.text);
        // Nobody listening (the CLI, tests) is fine.
        let _ = self.notices.send(notice);
    }

    /// Applies `change`, refreshes the counts from the store, and tells the watchers.
    async fn publish(&self, change: impl FnOnce(&mut SyncStatus)) {
        let counts = self.target.status().await;
        self.status.send_modify(|status| {
            change(status);
            match &counts {
                Ok(counts) => {
                    status.pending = counts.pending_ops;
                    status.conflicts = counts.open_conflicts;
                    status.needs_attention = counts.needs_attention;
                    status.last_sync_at = counts.last_sync_at;
                    status.last_verified_at = counts.last_verified_at;
                }
                Err(err) => tracing::warn!("cannot read the store's counts: {err}"),
            }
        });
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
