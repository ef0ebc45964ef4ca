//! quire-app: the Tauri 2 shell around quire-client.
//!
//! # Layout
//! - [`commands`]: Tauri commands, each a few lines over quire-client.
//! - [`error`]: the one error type that crosses IPC as `{code, message}`.
//! - [`state`]: the device (store, secrets, background sync task), opened on first use.
//! - [`sync_events`]: the sync task's status to the window and tray, notices to the desktop.
//! - [`tray`]: the tray icon and its menu.
//! - [`notifications`]: desktop notifications.
//! - [`vault_bridge`]: the vault folder watcher, nudged by edits and sync rounds.
//! - [`logging`]: stderr and a rotating log file in the data dir.
//!
//! The shell owns the window, tray and notifications; everything a note or a sync does
//! lives in quire-client so the `quire` CLI behaves the same.

pub mod commands;
pub mod error;
pub mod logging;
pub mod notifications;
pub mod state;
pub mod sync_events;
pub mod tray;
pub mod vault_bridge;

use std::process::ExitCode;

use tauri::Manager;

/// Runs the desktop app; returns when the last window is closed.
pub fn main() -> ExitCode {
    // Answered before any window or display is touched, so packaging checks and scripts can
    // ask for the version on a machine without a desktop session.
    if std::env::args()
        .skip(1)
        .any(|arg| arg == "--version" || arg == "-V")
    {
        #[allow(clippy::print_stdout)]
        {
            println!("quire-app {}", env!("CARGO_PKG_VERSION"));
        }
        return ExitCode::SUCCESS;
    }

    let _log_guard = logging::init();

    let result = tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .setup(|app| {
            let handle = app.handle().clone();
            app.manage(state::AppState::new(handle.clone()));
            // Without a tray host the app still works; the window shows the status.
            if let Err(err) = tray::build(&handle) {
                tracing::warn!("no tray icon: {err}");
            }
            // Open the store and start syncing now, not when the window first asks.
            tauri::async_runtime::spawn(async move {
                let _ = handle.state::<state::AppState>().device().await;
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info::app_info,
            commands::notes::list_notes,
            commands::notes::get_note,
            commands::notes::create_note,
            commands::notes::update_note,
            commands::sync::sync_status,
            commands::sync::sync_now,
            commands::sync::pause_sync,
            commands::sync::resume_sync,
            commands::notes::delete_note,
            commands::conflicts::list_conflicts,
            commands::conflicts::get_conflict,
            commands::conflicts::resolve_conflict,
            commands::attention::list_attention,
            commands::attention::dismiss_attention,
            commands::attention::vault_problems,
            commands::settings::get_preferences,
            commands::settings::set_preference,
            commands::settings::sign_in,
            commands::settings::sign_out,
        ])
        .run(context());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("Quire could not start: {err}");
            ExitCode::FAILURE
        }
    }
}

// The generated context calls `std::process::exit` in a code path of Tauri's own (an
// unrecoverable asset error); our code never does.
#[allow(clippy::disallowed_methods)]
fn context() -> tauri::Context {
    tauri::generate_context!()
}
