//! Tauri commands, grouped as the window's views are. Each is one call on the
//! [`quire_client::Device`]; a failure crosses IPC as a [`crate::error::CommandError`].
//! Handlers are registered by their defining module's path (`notes::list_notes`), because
//! `generate_handler!` needs the hidden items `#[tauri::command]` puts beside each function.

pub mod attention;
pub mod conflicts;
pub mod notes;
pub mod settings;
pub mod sync;

/// What a command answers: its value, or the error the window shows.
pub type Answer<T> = Result<T, crate::error::CommandError>;
