//! Watching the vault folder (notify, debounced): a pass after each burst of file events,
//! looking at the files those events name; after a nudge (the store changed); and a full
//! pass at start and whenever events may have been lost. A folder that disappears or cannot
//! be watched is reported and tried again every few seconds; the watcher keeps going.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify_debouncer_full::notify::event::{AccessKind, AccessMode};
use notify_debouncer_full::notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{new_debouncer, DebounceEventResult};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{pass, Scope, VaultProgress, VaultReport};
use crate::{Result, Store};

/// Quiet time after file events before a pass: editors save in bursts (temp, rename, chmod).
const DEBOUNCE: Duration = Duration::from_millis(300);
/// How often a folder that cannot be watched is tried again.
const RETRY: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct VaultWatcher {
    nudge: mpsc::UnboundedSender<()>,
}

impl VaultWatcher {
    /// The notes changed (in the app, or by sync): write them out.
    pub fn nudge(&self) {
        let _ = self.nudge.send(());
    }
}

/// What a burst of events asks a pass to look at: the names of the files they touched, or
/// everything when the watcher lost track (an overflowed queue, an error, the folder
/// itself changed). None when nothing changed: opening and reading a file (as a pass
/// itself does) is an event too, and must not set off another pass.
fn scope_of(dir: &Path, result: DebounceEventResult) -> Option<Scope> {
    let Ok(events) = result else {
        return Some(Scope::Everything);
    };
    let mut names = std::collections::HashSet::new();
    for event in events {
        if event.need_rescan() {
            return Some(Scope::Everything);
        }
        if matches!(event.kind, EventKind::Access(kind)
            if kind != AccessKind::Close(AccessMode::Write))
        {
            continue;
        }
        for path in &event.paths {
            match path.file_name().and_then(|name| name.to_str()) {
                Some(name) if path.as_path() != dir => {
                    names.insert(name.to_owned());
                }
                _ => return Some(Scope::Everything),
            }
        }
    }
    (!names.is_empty()).then_some(Scope::Names(names))
}

/// Starts watching `dir`; every pass's outcome goes to `on_pass`, and a long pass's
/// progress to `on_progress`. Stops when every [`VaultWatcher`] is dropped.
pub fn spawn(
    store: Arc<Store>,
    dir: PathBuf,
    on_pass: impl Fn(&Result<VaultReport>) + Send + 'static,
    on_progress: impl Fn(VaultProgress) + Send + Sync + 'static,
) -> (VaultWatcher, JoinHandle<()>) {
    let (nudge, mut nudges) = mpsc::unbounded_channel::<()>();
    let task = tokio::spawn(async move {
        let (events_tx, mut events) = mpsc::unbounded_channel::<Scope>();
        let mut debouncer = None;
        let mut scope = Scope::Everything;
        loop {
            if debouncer.is_none() {
                let (tx, watched) = (events_tx.clone(), dir.clone());
                let made = new_debouncer(DEBOUNCE, None, move |result: DebounceEventResult| {
                    if let Some(scope) = scope_of(&watched, result) {
                        let _ = tx.send(scope);
                    }
                })
                .and_then(|mut d| d.watch(&dir, RecursiveMode::NonRecursive).map(|()| d));
                match made {
                    Ok(d) => debouncer = Some(d),
                    Err(err) => {
                        tracing::warn!(dir = %dir.display(), "cannot watch the vault folder: {err}");
                        // Nothing tells us what changes meanwhile.
                        scope = Scope::Everything;
                    }
                }
            }
            let result = pass(&store, &dir, &scope, &on_progress).await;
            if result.is_err() {
                // The folder may be gone; watch it again once it is back, and look at
                // everything then. Stopping a debouncer joins its thread, so that happens
                // off the async workers.
                if let Some(old) = debouncer.take() {
                    tokio::task::spawn_blocking(move || drop(old));
                }
            }
            on_pass(&result);
            let wait = if debouncer.is_some() {
                Duration::MAX
            } else {
                RETRY
            };
            scope = tokio::select! {
                nudge = nudges.recv() => match nudge {
                    Some(()) => Scope::store_changes(),
                    None => break,
                },
                Some(events) = events.recv() => events,
                () = tokio::time::sleep(wait.min(Duration::from_secs(86_400))) => Scope::Everything,
            };
            if debouncer.is_none() {
                scope = Scope::Everything;
            }
            // One pass for everything that came meanwhile.
            loop {
                if let Ok(more) = events.try_recv() {
                    scope = scope.merge(more);
                } else if nudges.try_recv().is_ok() {
                    scope = scope.merge(Scope::store_changes());
                } else {
                    break;
                }
            }
        }
        if let Some(old) = debouncer {
            tokio::task::spawn_blocking(move || drop(old));
        }
    });
    (VaultWatcher { nudge }, task)
}
