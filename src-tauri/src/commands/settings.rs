//! The Settings screen: preferences, and signing this device in and out of a sync server.

use std::future::Future;
use std::path::PathBuf;

use quire_client::account::AccountRequest;
use quire_client::preferences::Preferences;
use quire_client::Device;
use quire_core::settings::SettingKey;
use tauri::State;

use super::Answer;
use crate::state::AppState;

#[tauri::command]
pub async fn get_preferences(state: State<'_, AppState>) -> Answer<Preferences> {
    Ok(state.device().await?.preferences().await?)
}

#[tauri::command]
pub async fn set_preference(
    state: State<'_, AppState>,
    key: SettingKey,
    value: String,
) -> Answer<Preferences> {
    let device = state.device().await?;
    preferences_after(device, device.set_setting(key, &value)).await
}

/// Forgets a setting (its default applies again), such as the vault folder.
#[tauri::command]
pub async fn unset_preference(state: State<'_, AppState>, key: SettingKey) -> Answer<Preferences> {
    let device = state.device().await?;
    preferences_after(device, device.unset_setting(key)).await
}

/// Starts Quire in the tray when the person logs in (or stops doing so), on this data folder.
#[tauri::command]
pub async fn set_start_at_login(state: State<'_, AppState>, on: bool) -> Answer<Preferences> {
    let app = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("quire-app"));
    let device = state.device().await?;
    preferences_after(device, async { device.set_start_at_login(on, &app) }).await
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
    allow_legacy: bool,
) -> Answer<Preferences> {
    let request = AccountRequest {
        allow_legacy,
        ..AccountRequest::new(&server, &username, password, insecure_http)
    };
    let device = state.device().await?;
    preferences_after(device, device.sign_in(request, create_account)).await
}

/// Encrypts an account made before end-to-end encryption; its notes go again, sealed.
#[tauri::command]
pub async fn upgrade_account(state: State<'_, AppState>, password: String) -> Answer<Preferences> {
    let device = state.device().await?;
    preferences_after(device, device.upgrade_account(password)).await
}

/// Changes the account's password; the server ends every other device's session.
#[tauri::command]
pub async fn change_password(
    state: State<'_, AppState>,
    current: String,
    new: String,
) -> Answer<Preferences> {
    let device = state.device().await?;
    preferences_after(device, device.change_password(current, new)).await
}

/// The account's recovery key, shown on the device that holds it.
#[tauri::command]
pub async fn recovery_key(state: State<'_, AppState>) -> Answer<String> {
    Ok(state.device().await?.recovery_key().await?)
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> Answer<Preferences> {
    let device = state.device().await?;
    preferences_after(device, device.sign_out()).await
}

/// Every Settings change answers the preferences as they are after it.
async fn preferences_after<T>(
    device: &Device,
    change: impl Future<Output = quire_client::Result<T>>,
) -> Answer<Preferences> {
    change.await?;
    Ok(device.preferences().await?)
}
