//! quire-app: the Tauri 2 shell around quire-client.
//!
//! # Layout
//! - [`commands`]: Tauri commands, each one call on the [`quire_client::Device`].
//! - [`error`]: the one error type that crosses IPC as `{code, message}`; failures are
//!   logged there, once.
//! - [`state`]: the device, opened on first use and running in the background.
//! - [`forward`]: the device's status and events to the window, tray and desktop.
//! - [`tray`]: the tray icon and its menu.
//! - [`tray_host`]: whether a panel shows tray icons, watched on the session bus.
//! - [`window`]: closing to the tray, `--hidden`, and the window coming back.
//! - [`notifications`]: desktop notifications.
//! - [`single_instance`]: one app per data folder; a second launch shows the first.
//! - [`app_info`]: what the About box shows.
//! - [`logging`]: stderr and a rotating log file in the data dir.
//!
//! The shell owns the window, tray and notifications; everything a note or a sync does
//! lives in quire-client's `Device` so the `quire` CLI behaves the same.

pub mod app_info;
pub mod commands;
pub mod error;
pub mod forward;
pub mod links;
pub mod logging;
pub mod notifications;
pub mod single_instance;
pub mod state;
pub mod tray;
pub mod tray_host;
pub mod window;

/// Registers the commands once: for Tauri, and as the list of names the UI may invoke.
macro_rules! commands {
    ($($module:ident::$name:ident),* $(,)?) => {
        /// The name of every command the window may invoke (`ui/src/commands.ts` lists the
        /// same; a test compares them).
        pub const COMMAND_NAMES: &[&str] = &[$(stringify!($name)),*];

        fn invoke_handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$(commands::$module::$name),*]
        }
    };
}

commands![
    notes::app_info,
    notes::list_notes,
    notes::get_note,
    notes::create_note,
    notes::update_note,
    notes::delete_note,
    notes::restore_note,
    notes::search_notes,
    notes::open_link,
    notes::list_trash,
    notes::purge_note,
    notes::note_versions,
    notes::compare_version,
    notes::restore_version,
    sync::sync_status,
    sync::sync_now,
    sync::pause_sync,
    sync::resume_sync,
    conflicts::list_conflicts,
    conflicts::get_conflict,
    conflicts::resolve_conflict,
    attention::list_attention,
    attention::dismiss_attention,
    attention::list_unreadable,
    attention::vault_problems,
    settings::get_preferences,
    settings::set_preference,
    settings::unset_preference,
    settings::set_start_at_login,
    settings::sign_in,
    settings::change_password,
    settings::recovery_key,
    settings::upgrade_account,
    settings::sign_out,
];

/// Every event the app sends the window (`ui/src/commands.ts` lists the same).
pub const EVENT_NAMES: &[&str] = &[
    forward::SYNC_STATUS_EVENT,
    forward::NOTES_CHANGED_EVENT,
    forward::VAULT_PROGRESS_EVENT,
    tray::NAVIGATE_EVENT,
];

use std::process::ExitCode;

use quire_client::instance::Claim;
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
    let instance = match single_instance::claim() {
        Ok(Some(Claim::First(instance))) => Some(instance),
        Ok(Some(Claim::HandedOver)) => return ExitCode::SUCCESS,
        Ok(None) => None,
        Err(err) => {
            tracing::error!("Quire could not start: {err}");
            return ExitCode::FAILURE;
        }
    };

    let result = tauri::Builder::default()
        .plugin(links::navigation_guard())
        .setup(move |app| {
            let handle = app.handle().clone();
            app.manage(notifications::Notifier::start(&handle));
            if let Some(mut instance) = instance {
                let to_show = handle.clone();
                instance.on_show_request(move || tray::show_window(&to_show));
                app.manage(instance);
            }
            app.manage(state::AppState::new(handle.clone(), forward::forward));
            // Without a tray host the app still works; the window shows the status.
            if let Err(err) = tray::build(&handle) {
                tracing::warn!("no tray icon: {err}");
            }
            let to_window = handle.clone();
            app.manage(tray_host::watch(move |present| {
                window::host_changed(&to_window, present);
            }));
            window::start_hidden_if_asked(&handle);
            // Open the store and start syncing now, not when the window first asks.
            tauri::async_runtime::spawn(async move {
                let _ = handle.state::<state::AppState>().device().await;
            });
            Ok(())
        })
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                window::close_requested(window, api);
            }
        })
        .invoke_handler(invoke_handler())
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
