//! The note list and the editor.

use quire_client::store::{NoteEdit, NoteSummary};
use quire_core::{Note, NoteFields, NoteId};
use tauri::State;

use super::Answer;
use crate::app_info::AppInfo;
use crate::state::AppState;

#[tauri::command]
pub fn app_info() -> Answer<AppInfo> {
    Ok(AppInfo::gather()?)
}

#[tauri::command]
pub async fn list_notes(state: State<'_, AppState>) -> Answer<Vec<NoteSummary>> {
    Ok(state.device().await?.list_notes().await?)
}

#[tauri::command]
pub async fn get_note(state: State<'_, AppState>, id: NoteId) -> Answer<Note> {
    Ok(state.device().await?.note(id).await?)
}

#[tauri::command]
pub async fn create_note(state: State<'_, AppState>, title: String, body: String) -> Answer<Note> {
    let fields = NoteFields { title, body };
    Ok(state.device().await?.create_note(fields).await?)
}

#[tauri::command]
pub async fn update_note(
    state: State<'_, AppState>,
    id: NoteId,
    title: Option<String>,
    body: Option<String>,
) -> Answer<Note> {
    let edit = NoteEdit { title, body };
    Ok(state.device().await?.update_note(id, edit).await?)
}

#[tauri::command]
pub async fn delete_note(state: State<'_, AppState>, id: NoteId) -> Answer<()> {
    Ok(state.device().await?.delete_note(id).await?)
}

/// Brings a deleted note back (Undo, Trash).
#[tauri::command]
pub async fn restore_note(state: State<'_, AppState>, id: NoteId) -> Answer<Note> {
    Ok(state.device().await?.restore_note(id).await?)
}
