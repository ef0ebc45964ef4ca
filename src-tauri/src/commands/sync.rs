//! Sync controls for the window; the tray makes the same calls.

use quire_client::service::SyncStatus;
use tauri::State;

use super::Answer;
use crate::state::AppState;

#[tauri::command]
pub async fn sync_status(state: State<'_, AppState>) -> Answer<SyncStatus> {
    Ok(state.device().await?.sync_status())
}

#[tauri::command]
pub async fn sync_now(state: State<'_, AppState>) -> Answer<()> {
    state.device().await?.sync_now();
    Ok(())
}

#[tauri::command]
pub async fn pause_sync(state: State<'_, AppState>) -> Answer<()> {
    state.device().await?.pause_sync();
    Ok(())
}

#[tauri::command]
pub async fn resume_sync(state: State<'_, AppState>) -> Answer<()> {
    state.device().await?.resume_sync();
    Ok(())
}
