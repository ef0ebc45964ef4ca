//! What a device runs in the app: the background sync task and the vault folder watcher,
//! wired to each other (a round that brought notes writes them out; edits taken in from the
//! folder sync soon) and to the device's events.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use super::DeviceEvent;
use crate::credentials::SecretStore;
use crate::engine::{Notice, NoticeKind};
use crate::service::{self, ServiceConfig, StoreTarget, SyncHandle};
use crate::store::INDEX_CHUNK;
use crate::vault::{self, watch::VaultWatcher, VaultProblem, VaultReport};
use crate::{Result, Store};

pub(super) struct Background {
    pub(super) sync: SyncHandle,
    pub(super) vault: VaultMirror,
}

impl Background {
    pub(super) async fn start(
        store: &Arc<Store>,
        secrets: &Arc<dyn SecretStore>,
        events: &broadcast::Sender<DeviceEvent>,
        config: ServiceConfig,
    ) -> Self {
        let target = StoreTarget {
            store: Arc::clone(store),
            secrets: Arc::clone(secrets),
        };
        let (sync, _task) = service::spawn(target, config);
        let vault = VaultMirror {
            watcher: Arc::new(Mutex::new(None)),
            generation: Arc::new(AtomicU64::new(0)),
            problems: Arc::new(Mutex::new(Vec::new())),
            sync: sync.clone(),
            events: events.clone(),
        };
        // Listening before anything runs, so no notice from the start is missed.
        follow_rounds(&sync, &vault, store);
        forward_notices(&sync, events);
        vault.start(store).await;
        Self { sync, vault }
    }
}

/// After every round the vault folder follows, and the notes the round brought new are
/// indexed for search, a chunk per transaction (until then a search indexes them itself
/// before it answers).
fn follow_rounds(sync: &SyncHandle, vault: &VaultMirror, store: &Arc<Store>) {
    let mut status = sync.watch();
    // Weak: these stop when the device goes, not when the sync task does.
    let watcher = Arc::downgrade(&vault.watcher);
    let store = Arc::downgrade(store);
    tokio::spawn(async move {
        let mut last_sync_at = status.borrow_and_update().last_sync_at;
        while status.changed().await.is_ok() {
            let now = status.borrow_and_update().last_sync_at;
            if now == last_sync_at {
                continue;
            }
            last_sync_at = now;
            let (Some(watcher), Some(store)) = (watcher.upgrade(), store.upgrade()) else {
                return;
            };
            nudge(&watcher);
            index_for_search(&store).await;
        }
    });
}

async fn index_for_search(store: &Store) {
    loop {
        match store.index_pending(INDEX_CHUNK).await {
            Ok(0) => return,
            Ok(_) => {}
            Err(err) => {
                tracing::warn!("cannot index pulled notes for search: {err}");
                return;
            }
        }
    }
}

/// The sync task's notices become the device's events.
fn forward_notices(sync: &SyncHandle, events: &broadcast::Sender<DeviceEvent>) {
    let mut notices = sync.notices();
    let events = events.clone();
    tokio::spawn(async move {
        loop {
            match notices.recv().await {
                // Nobody listening is fine: the status line says it too.
                Ok(notice) => drop(events.send(DeviceEvent::Notice(notice))),
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "notices came faster than they could be passed on");
                }
                Err(RecvError::Closed) => return,
            }
        }
    });
}

fn nudge(watcher: &Mutex<Option<VaultWatcher>>) {
    if let Some(watcher) = watcher
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
    {
        watcher.nudge();
    }
}

/// The vault folder watcher of a running device: started on the folder set (at start, and
/// again when the setting changes), nudged after local edits and sync rounds. What it takes
/// in syncs; what it cannot take in is kept for "Needs attention" and told once.
pub(super) struct VaultMirror {
    watcher: Arc<Mutex<Option<VaultWatcher>>>,
    /// Which watcher is the current one: a pass of an older one (on the folder before a
    /// change, still finishing) tells nothing.
    generation: Arc<AtomicU64>,
    problems: Arc<Mutex<Vec<VaultProblem>>>,
    sync: SyncHandle,
    events: broadcast::Sender<DeviceEvent>,
}

impl VaultMirror {
    /// Starts (or restarts) the watcher on the folder set for this device; stops it when
    /// none is.
    pub(super) async fn start(&self, store: &Arc<Store>) {
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        // The problems were the old folder's.
        self.problems
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        let dir = vault::vault_dir(store).await.unwrap_or_else(|err| {
            tracing::warn!("cannot read the vault setting: {err}");
            None
        });
        let watcher = dir.map(|dir| {
            tracing::info!(dir = %dir.display(), "watching the vault folder");
            let (sync, events, problems, current) = (
                self.sync.clone(),
                self.events.clone(),
                Arc::clone(&self.problems),
                Arc::clone(&self.generation),
            );
            let (progress_events, progress_current) = (events.clone(), Arc::clone(&current));
            let on_progress = move |progress| {
                if progress_current.load(Ordering::SeqCst) == generation {
                    let _ = progress_events.send(DeviceEvent::VaultProgress(progress));
                }
            };
            let (watcher, _task) = vault::watch::spawn(
                Arc::clone(store),
                dir,
                move |pass| {
                    if current.load(Ordering::SeqCst) == generation {
                        on_pass(&sync, &events, &problems, pass);
                    }
                },
                on_progress,
            );
            watcher
        });
        // Dropping the old watcher stops it.
        *self.watcher.lock().unwrap_or_else(PoisonError::into_inner) = watcher;
    }

    /// The notes changed here: write them to the folder.
    pub(super) fn nudge(&self) {
        nudge(&self.watcher);
    }

    pub(super) fn problems(&self) -> Vec<VaultProblem> {
        self.problems
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn on_pass(
    sync: &SyncHandle,
    events: &broadcast::Sender<DeviceEvent>,
    problems: &Mutex<Vec<VaultProblem>>,
    pass: &Result<VaultReport>,
) {
    let now: Vec<VaultProblem> = match pass {
        Ok(report) => {
            if report.took_changes() {
                sync.local_change();
                let _ = events.send(DeviceEvent::NotesChanged);
            }
            report.problems.clone()
        }
        Err(err) => vec![VaultProblem {
            file: String::new(),
            reason: err.to_string(),
        }],
    };
    let mut known = problems.lock().unwrap_or_else(PoisonError::into_inner);
    // Told once per new set of problems, not on every pass.
    if now != *known && !now.is_empty() {
        let text = match now.as_slice() {
            [one] if one.file.is_empty() => one.reason.clone(),
            [one] => format!("{}: {}", one.file, one.reason),
            many => format!(
                "{} files in the vault folder could not be taken in",
                many.len()
            ),
        };
        let notice = Notice {
            kind: NoticeKind::NeedsAttention,
            text,
        };
        let _ = events.send(DeviceEvent::Notice(notice));
    }
    *known = now;
}
