//! The vault folder watcher inside the app: started when a folder is set (at launch or from
//! Settings), nudged after local edits and sync rounds; what it takes in syncs, what it
//! cannot take in is shown under "Needs attention" and as a notification.

use std::sync::{Arc, Mutex, PoisonError};

use quire_client::service::{Notice, NoticeKind, SyncHandle};
use quire_client::vault::{self, watch::VaultWatcher, VaultProblem, VaultReport};
use quire_client::Store;
use tauri::{AppHandle, Emitter};

use crate::notifications;

/// Tells the window that notes changed outside it (from the vault folder).
pub const NOTES_CHANGED_EVENT: &str = "notes-changed";

#[derive(Default)]
pub struct VaultState {
    watcher: Mutex<Option<VaultWatcher>>,
    problems: Arc<Mutex<Vec<VaultProblem>>>,
}

impl VaultState {
    /// Starts (or restarts) the watcher on the folder set for this device; stops it when none is.
    pub async fn start(&self, app: &AppHandle, store: &Arc<Store>, sync: &SyncHandle) {
        let dir = match vault::vault_dir(store).await {
            Ok(dir) => dir,
            Err(err) => {
                tracing::warn!("cannot read the vault setting: {err}");
                None
            }
        };
        let watcher = dir.map(|dir| {
            tracing::info!(dir = %dir.display(), "watching the vault folder");
            let (app, sync, problems) = (app.clone(), sync.clone(), Arc::clone(&self.problems));
            let (watcher, _task) = vault::watch::spawn(Arc::clone(store), dir, move |pass| {
                on_pass(&app, &sync, &problems, pass);
            });
            watcher
        });
        // Dropping the old watcher stops it.
        *self.watcher.lock().unwrap_or_else(PoisonError::into_inner) = watcher;
    }

    /// The notes changed here: write them to the folder.
    pub fn nudge(&self) {
        if let Some(watcher) = self
            .watcher
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            watcher.nudge();
        }
    }

    pub fn problems(&self) -> Vec<VaultProblem> {
        self.problems
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn on_pass(
    app: &AppHandle,
    sync: &SyncHandle,
    problems: &Mutex<Vec<VaultProblem>>,
    pass: &quire_client::Result<VaultReport>,
) {
    let now: Vec<VaultProblem> = match pass {
        Ok(report) => {
            if report.took_changes() {
                sync.local_change();
                let _ = app.emit(NOTES_CHANGED_EVENT, ());
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
        notifications::show(
            app,
            &Notice {
                kind: NoticeKind::NeedsAttention,
                text,
            },
        );
    }
    *known = now;
}
