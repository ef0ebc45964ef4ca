//! The "needs attention" list: changes the server refused, with its reasons.

use quire_client::store::SetAside;
use quire_client::vault::VaultProblem;
use quire_core::OpId;
use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;

#[tauri::command]
pub async fn list_attention(state: State<'_, AppState>) -> Result<Vec<SetAside>, CommandError> {
    Ok(state.store().await?.attention().await?)
}

#[tauri::command]
pub async fn dismiss_attention(
    state: State<'_, AppState>,
    op_id: OpId,
) -> Result<(), CommandError> {
    let device = state.device().await?;
    device.store.dismiss_attention(op_id).await?;
    // The counts in the status line changed.
    device.sync.local_change();
    Ok(())
}

/// Files in the vault folder that the last pass could not take in, and why.
#[tauri::command]
pub async fn vault_problems(state: State<'_, AppState>) -> Result<Vec<VaultProblem>, CommandError> {
    Ok(state.device().await?.vault.problems())
}
