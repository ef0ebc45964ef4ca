//! The conflict center: notes changed on two devices, shown side by side, and resolved.

use quire_client::store::{ConflictView, Resolution};
use quire_core::NoteId;
use tauri::State;

use super::Answer;
use crate::state::AppState;

/// Every open conflict, newest first, ready to show.
#[tauri::command]
pub async fn list_conflicts(state: State<'_, AppState>) -> Answer<Vec<ConflictView>> {
    let conflicts = state.device().await?.conflicts().await?;
    Ok(conflicts.iter().map(|c| c.view()).collect())
}

#[tauri::command]
pub async fn get_conflict(state: State<'_, AppState>, id: NoteId) -> Answer<ConflictView> {
    Ok(state.device().await?.conflict(id).await?.view())
}

/// Settles a conflict with the text the person put together; it syncs like any edit.
#[tauri::command]
pub async fn resolve_conflict(state: State<'_, AppState>, id: NoteId, body: String) -> Answer<()> {
    let device = state.device().await?;
    Ok(device.resolve_conflict(id, Resolution::Text(body)).await?)
}
