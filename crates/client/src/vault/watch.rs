//! Watching the vault folder (notify, debounced): a pass after each burst of file events,
//! after a nudge (the store changed), and at start. A folder that disappears or cannot be
//! watched is reported and tried again every few seconds; the watcher keeps going.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use notify_debouncer_full::notify::RecursiveMode;
use notify_debouncer_full::{new_debouncer, DebounceEventResult};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{sync_folder, VaultReport};
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

/// Starts watching `dir`; every pass's outcome goes to `on_pass`. Stops when every
/// [`VaultWatcher`] is dropped.
pub fn spawn(
    store: Arc<Store>,
    dir: PathBuf,
    on_pass: impl Fn(&Result<VaultReport>) + Send + 'static,
) -> (VaultWatcher, JoinHandle<()>) {
    let (nudge, mut nudges) = mpsc::unbounded_channel::<()>();
    let task = tokio::spawn(async move {
        let (events_tx, mut events) = mpsc::unbounded_channel::<()>();
        let mut debouncer = None;
        loop {
            if debouncer.is_none() {
                let tx = events_tx.clone();
                let made = new_debouncer(DEBOUNCE, None, move |result: DebounceEventResult| {
                    if result.is_ok() {
                        let _ = tx.send(());
                    }
                })
                .and_then(|mut d| d.watch(&dir, RecursiveMode::NonRecursive).map(|()| d));
                match made {
                    Ok(d) => debouncer = Some(d),
                    Err(err) => {
                        tracing::warn!(dir = %dir.display(), "cannot watch the vault folder: {err}");
                    }
                }
            }
            let result = sync_folder(&store, &dir).await;
            if result.is_err() {
                // The folder may be gone; watch it again once it is back. Stopping a
                // debouncer joins its thread, so that happens off the async workers.
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
            tokio::select! {
                nudge = nudges.recv() => if nudge.is_none() { break },
                Some(()) = events.recv() => {}
                () = tokio::time::sleep(wait.min(Duration::from_secs(86_400))) => {}
            }
            // One pass for everything that came meanwhile.
            while events.try_recv().is_ok() || nudges.try_recv().is_ok() {}
        }
        if let Some(old) = debouncer {
            tokio::task::spawn_blocking(move || drop(old));
        }
    });
    (VaultWatcher { nudge }, task)
}
