use quire_client::store::{NoteEdit, NoteSummary};
use quire_core::{Note, NoteFields, NoteId};
use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;

#[tauri::command]
pub async fn list_notes(state: State<'_, AppState>) -> Result<Vec<NoteSummary>, CommandError> {
    Ok(state.store().await?.list_notes().await?)
}

#[tauri::command]
pub async fn get_note(state: State<'_, AppState>, id: NoteId) -> Result<Note, CommandError> {
    Ok(state.store().await?.note(id).await?)
}

#[tauri::command]
pub async fn create_note(
    state: State<'_, AppState>,
    title: String,
    body: String,
) -> Result<Note, CommandError> {
    let device = state.device().await?;
    let note = device.store.create_note(NoteFields { title, body }).await?;
    device.changed_locally();
    Ok(note)
}

#[tauri::command]
pub async fn update_note(
    state: State<'_, AppState>,
    id: NoteId,
    title: Option<String>,
    body: Option<String>,
) -> Result<Note, CommandError> {
    let device = state.device().await?;
    let note = device
        .store
        .update_note(id, NoteEdit { title, body })
        .await?;
    device.changed_locally();
    Ok(note)
}

#[tauri::command]
pub async fn delete_note(state: State<'_, AppState>, id: NoteId) -> Result<(), CommandError> {
    let device = state.device().await?;
    device.store.delete_note(id).await?;
    device.changed_locally();
    Ok(())
}
