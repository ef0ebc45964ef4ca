//! The background sync task the desktop app runs: it decides *when* to run a round (the
//! engine decides what a round does) and tells the front end how it went.
//!
//! Triggers: a timer (the sync interval, with jitter), a local change (debounced), the
//! network coming back, "Sync now", resume. One round at a time: triggers during a round
//! make at most one more. While paused, signed out, or idle, only the interval timer (or
//! nothing) wakes it. Failures that may pass by themselves back off with full jitter.

mod scheduler;
mod status;
mod target;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use quire_core::backoff::Backoff;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

pub use crate::engine::{Notice, NoticeKind};
pub use status::{StatusError, SyncState, SyncStatus};
pub use target::{network_fingerprint, StoreTarget, SyncTarget};

#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Quiet time after a local change before a round starts.
    pub debounce: Duration,
    /// Longest a stream of changes can hold a round back.
    pub debounce_max: Duration,
    /// How often the network is looked at while offline.
    pub network_check: Duration,
    pub backoff: Backoff,
    /// Seed for the jitter; None: from the OS.
    pub seed: Option<u64>,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            debounce: Duration::from_secs(2),
            debounce_max: Duration::from_secs(10),
            network_check: Duration::from_secs(5),
            backoff: Backoff::default(),
            seed: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    SyncNow,
    LocalChange,
    Pause,
    Resume,
    /// A session began (or ended): look again at whether there is anything to sync.
    AccountChanged,
    NetworkChanged,
}

/// The front end's side of the task. Cheap to clone; the task stops when every handle is gone.
#[derive(Clone)]
pub struct SyncHandle {
    commands: mpsc::UnboundedSender<Command>,
    status: watch::Receiver<SyncStatus>,
    notices: broadcast::Sender<Notice>,
    wakeups: Arc<AtomicU64>,
}

impl SyncHandle {
    fn send(&self, command: Command) {
        // The task only ends when every handle is dropped, so this cannot fail while we exist.
        let _ = self.commands.send(command);
    }

    /// "Sync now" in the tray or the window: a round right away (after the running one).
    pub fn sync_now(&self) {
        self.send(Command::SyncNow);
    }

    /// A note changed here: sync soon, once the person pauses typing.
    pub fn local_change(&self) {
        self.send(Command::LocalChange);
    }

    pub fn pause(&self) {
        self.send(Command::Pause);
    }

    pub fn resume(&self) {
        self.send(Command::Resume);
    }

    pub fn account_changed(&self) {
        self.send(Command::AccountChanged);
    }

    /// The OS says the network changed (where it can say so); worth a try if offline.
    pub fn network_changed(&self) {
        self.send(Command::NetworkChanged);
    }

    pub fn status(&self) -> SyncStatus {
        self.status.borrow().clone()
    }

    /// Every status change, for the UI and the tray.
    pub fn watch(&self) -> watch::Receiver<SyncStatus> {
        self.status.clone()
    }

    /// Things to tell the person (notifications).
    pub fn notices(&self) -> broadcast::Receiver<Notice> {
        self.notices.subscribe()
    }

    /// Times the task woke on a timer; tests use it to show an idle task stays asleep.
    pub fn timer_wakeups(&self) -> u64 {
        self.wakeups.load(Ordering::Relaxed)
    }
}

/// Starts the task on the current tokio runtime.
pub fn spawn<T: SyncTarget>(target: T, config: ServiceConfig) -> (SyncHandle, JoinHandle<()>) {
    let (commands, inbox) = mpsc::unbounded_channel();
    let (status_tx, status) = watch::channel(SyncStatus::default());
    let (notices, _) = broadcast::channel(32);
    let wakeups = Arc::new(AtomicU64::new(0));
    let scheduler = scheduler::Scheduler::new(
        target,
        config,
        inbox,
        status_tx,
        notices.clone(),
        Arc::clone(&wakeups),
    );
    let task = tokio::spawn(scheduler.run());
    (
        SyncHandle {
            commands,
            status,
            notices,
            wakeups,
        },
        task,
    )
}
