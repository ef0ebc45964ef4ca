//! The "needs attention" list: changes the server refused with its reasons, and files in
//! the vault folder that could not be taken in.

use quire_client::store::{SetAside, UnreadableNote};
use quire_client::vault::VaultProblem;
use quire_core::OpId;
use tauri::State;

use super::Answer;
use crate::state::AppState;

#[tauri::command]
pub async fn list_attention(state: State<'_, AppState>) -> Answer<Vec<SetAside>> {
    Ok(state.device().await?.attention().await?)
}

#[tauri::command]
pub async fn dismiss_attention(state: State<'_, AppState>, op_id: OpId) -> Answer<()> {
    Ok(state.device().await?.dismiss_attention(op_id).await?)
}

/// Notes the server sent that failed their encryption check: kept apart, fetched again at
/// every sync.
#[tauri::command]
pub async fn list_unreadable(state: State<'_, AppState>) -> Answer<Vec<UnreadableNote>> {
    Ok(state.device().await?.unreadable_notes().await?)
}

/// Files in the vault folder that the last pass could not take in, and why.
#[tauri::command]
pub async fn vault_problems(state: State<'_, AppState>) -> Answer<Vec<VaultProblem>> {
    Ok(state.device().await?.vault_problems())
}
