//! quire-app: the Tauri 2 shell around quire-client.
//!
//! # Layout
//! - [`commands`]: Tauri commands, each a few lines over quire-client.
//! - [`error`]: the one error type that crosses IPC as `{code, message}`.
//! - [`state`]: the device's store, opened on first use.
//!
//! The shell owns the window, and later the tray and notifications; everything a note or a
//! sync does lives in quire-client so the `quire` CLI behaves the same.

pub mod commands;
pub mod error;
pub mod state;

use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

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

    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("QUIRE_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let result = tauri::Builder::default()
        .manage(state::AppState::default())
        .invoke_handler(tauri::generate_handler![
            commands::app_info::app_info,
            commands::notes::list_notes,
            commands::notes::get_note,
            commands::notes::create_note,
            commands::notes::update_note,
            commands::notes::store_status,
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
