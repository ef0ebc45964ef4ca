//! The Settings screen: preferences, and signing this device in and out of a sync server.

use quire_client::account::{self, AccountRequest};
use quire_client::preferences::{preferences, Preferences};
use quire_core::settings::SettingKey;
use tauri::State;

use crate::error::CommandError;
use crate::state::AppState;

#[tauri::command]
pub async fn get_preferences(state: State<'_, AppState>) -> Result<Preferences, CommandError> {
    let device = state.device().await?;
    Ok(preferences(&device.store, device.secrets.as_ref()).await?)
}

#[tauri::command]
pub async fn set_preference(
    state: State<'_, AppState>,
    key: SettingKey,
    value: String,
) -> Result<Preferences, CommandError> {
    let device = state.device().await?;
    device.store.set_setting(key, &value).await?;
    if key == SettingKey::VaultDir {
        state.restart_vault().await?;
    }
    Ok(preferences(&device.store, device.secrets.as_ref()).await?)
}

/// Signs in (creating the account first when asked); the password is used once and kept
/// nowhere. Sync starts right away.
#[tauri::command]
pub async fn sign_in(
    state: State<'_, AppState>,
    server: String,
    username: String,
    password: String,
    create_account: bool,
    insecure_http: bool,
) -> Result<Preferences, CommandError> {
    let device = state.device().await?;
    let request = AccountRequest {
        server: &server,
        username: &username,
        password,
        insecure_http,
    };
    let secrets = device.secrets.as_ref();
    if create_account {
        account::register(&device.store, secrets, request).await?;
    } else {
        account::login(&device.store, secrets, request).await?;
    }
    device.sync.account_changed();
    Ok(preferences(&device.store, secrets).await?)
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> Result<Preferences, CommandError> {
    let device = state.device().await?;
    account::logout(&device.store, device.secrets.as_ref()).await?;
    device.sync.account_changed();
    Ok(preferences(&device.store, device.secrets.as_ref()).await?)
}
