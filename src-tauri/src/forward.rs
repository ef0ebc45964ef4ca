//! Carries the device's news out of the process: its sync status to the window (a typed
//! event) and the tray, notices to desktop notifications, notes taken in from the vault
//! folder and a long vault pass's progress to the window.

use quire_client::{Device, DeviceEvent};
use tauri::{AppHandle, Emitter, Manager};
use tokio::sync::broadcast::error::RecvError;

use crate::notifications::{self, Notifier};
use crate::tray;

/// The event the window listens to for the sync status; its payload is a `SyncStatus`.
pub const SYNC_STATUS_EVENT: &str = "sync-status";
/// Tells the window that notes changed outside it (from the vault folder).
pub const NOTES_CHANGED_EVENT: &str = "notes-changed";
/// How far a long vault pass has come; its payload is a `VaultProgress`.
pub const VAULT_PROGRESS_EVENT: &str = "vault-progress";

pub fn forward(app: &AppHandle, device: &Device) {
    if let Some(mut status) = device.watch_status() {
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            loop {
                let current = status.borrow_and_update().clone();
                tray::show_status(&app, &current);
                app.state::<Notifier>().settle(&current);
                if let Err(err) = app.emit(SYNC_STATUS_EVENT, &current) {
                    tracing::warn!("cannot send the sync status to the window: {err}");
                }
                if status.changed().await.is_err() {
                    return;
                }
            }
        });
    }
    let mut events = device.events();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(DeviceEvent::Notice(notice)) => notifications::show(&app, &notice),
                Ok(DeviceEvent::NotesChanged) => drop(app.emit(NOTES_CHANGED_EVENT, ())),
                Ok(DeviceEvent::VaultProgress(progress)) => {
                    drop(app.emit(VAULT_PROGRESS_EVENT, progress));
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "device events came faster than they could be shown");
                }
                Err(RecvError::Closed) => return,
            }
        }
    });
}
