//! The note list and the editor.

use quire_client::history::{VersionComparison, VersionInfo};
use quire_client::store::{NoteEdit, NoteSummary, SearchHit};
use quire_core::{Note, NoteFields, NoteId, Version};
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

/// The notes that hold every word typed, best first, each with a snippet.
#[tauri::command]
pub async fn search_notes(state: State<'_, AppState>, query: String) -> Answer<Vec<SearchHit>> {
    Ok(state.device().await?.search(&query).await?)
}

/// Opens a link from a note's preview in the system browser.
#[tauri::command]
#[allow(clippy::needless_pass_by_value)] // Tauri hands command arguments over owned.
pub fn open_link(url: String) -> Answer<()> {
    crate::links::open_in_browser(&url)
}

/// Deleted notes, most recently deleted first.
#[tauri::command]
pub async fn list_trash(state: State<'_, AppState>) -> Answer<Vec<NoteSummary>> {
    Ok(state.device().await?.trash().await?)
}

/// Deletes a note in the trash forever (everywhere, with the next sync).
#[tauri::command]
pub async fn purge_note(state: State<'_, AppState>, id: NoteId) -> Answer<()> {
    Ok(state.device().await?.purge_note(id).await?)
}

/// The versions the server keeps of a note, newest first.
#[tauri::command]
pub async fn note_versions(state: State<'_, AppState>, id: NoteId) -> Answer<Vec<VersionInfo>> {
    Ok(state.device().await?.note_versions(id).await?)
}

/// A version beside the note's text now.
#[tauri::command]
pub async fn compare_version(
    state: State<'_, AppState>,
    id: NoteId,
    version: u64,
) -> Answer<VersionComparison> {
    Ok(state
        .device()
        .await?
        .compare_version(id, Version(version))
        .await?)
}

/// Gives a note the text of one of its versions back (an edit that syncs).
#[tauri::command]
pub async fn restore_version(state: State<'_, AppState>, id: NoteId, version: u64) -> Answer<Note> {
    Ok(state
        .device()
        .await?
        .restore_version(id, Version(version))
        .await?)
}
