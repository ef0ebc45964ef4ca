//! Carries the background task's news out of the process: status changes to the window
//! (a typed event) and the tray, notices to desktop notifications.

use quire_client::service::{SyncHandle, SyncStatus};
use tauri::{AppHandle, Emitter, Manager};
use tokio::sync::broadcast::error::RecvError;

use crate::state::AppState;
use crate::{notifications, tray};

/// The event the window listens to; its payload is a [`SyncStatus`].
pub const SYNC_STATUS_EVENT: &str = "sync-status";

pub fn forward(app: &AppHandle, sync: &SyncHandle) {
    let mut status = sync.watch();
    let to_window = app.clone();
    tauri::async_runtime::spawn(async move {
        let mut last_sync_at = None;
        loop {
            let current: SyncStatus = status.borrow_and_update().clone();
            if current.last_sync_at != last_sync_at {
                // A round may have brought notes: the vault folder follows.
                last_sync_at = current.last_sync_at;
                if let Ok(device) = to_window.state::<AppState>().device().await {
                    device.vault.nudge();
                }
            }
            tray::show_status(&to_window, &current);
            if let Err(err) = to_window.emit(SYNC_STATUS_EVENT, &current) {
                tracing::warn!("cannot send the sync status to the window: {err}");
            }
            if status.changed().await.is_err() {
                return;
            }
        }
    });

    let mut notices = sync.notices();
    let to_desktop = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            match notices.recv().await {
                Ok(notice) => notifications::show(&to_desktop, &notice),
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "notices came faster than they could be shown");
                }
                Err(RecvError::Closed) => return,
            }
        }
    });
}
