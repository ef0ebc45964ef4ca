//! Sync controls for the window; the tray calls the same [`quire_client::service`] handle.

use quire_client::service::SyncStatus;
use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;

#[tauri::command]
pub async fn sync_status(state: State<'_, AppState>) -> Result<SyncStatus, CommandError> {
    Ok(state.device().await?.sync.status())
}

#[tauri::command]
pub async fn sync_now(state: State<'_, AppState>) -> Result<(), CommandError> {
    state.device().await?.sync.sync_now();
    Ok(())
}

#[tauri::command]
pub async fn pause_sync(state: State<'_, AppState>) -> Result<(), CommandError> {
    state.device().await?.sync.pause();
    Ok(())
}

#[tauri::command]
pub async fn resume_sync(state: State<'_, AppState>) -> Result<(), CommandError> {
    state.device().await?.sync.resume();
    Ok(())
}
