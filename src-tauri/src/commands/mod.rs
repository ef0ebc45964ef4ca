//! Tauri commands. Each is a few lines: gather state, call quire-client, map the error.
//! Handlers are registered by their defining module's path (`notes::list_notes`), because
//! `generate_handler!` needs the hidden items `#[tauri::command]` puts beside each function.

pub mod app_info;
pub mod attention;
pub mod conflicts;
pub mod notes;
pub mod settings;
pub mod sync;
