//! The window and the tray: with a tray host and `keep-in-tray` on, closing the window hides
//! it and sync goes on (told once, with where "Quit" is); without a host, closing quits. A
//! host that goes away while the window is hidden brings the window back. `--hidden` starts
//! in the tray when there is one.

use quire_client::engine::{Notice, NoticeKind};
use tauri::{AppHandle, CloseRequestApi, Manager, Window};

use crate::state::AppState;
use crate::tray_host::TrayHost;
use crate::{notifications, tray};

/// The window was asked to close (its close button, the window manager).
pub fn close_requested(window: &Window, api: &CloseRequestApi) {
    let app = window.app_handle();
    let host = app.state::<TrayHost>().present();
    let state = app.state::<AppState>();
    // A device that never opened (the window shows why) has no sync to keep going.
    let keep = state
        .opened()
        .is_some_and(|device| device.keeps_syncing_in_tray());
    if !(host && keep) {
        return;
    }
    api.prevent_close();
    let _ = window.hide();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let device = app.state::<AppState>();
        let Some(device) = device.opened() else {
            return;
        };
        if let Ok(true) = device.first_time_in_tray().await {
            let text = "Quire keeps syncing in the tray. To quit, choose Quit in its menu.";
            notifications::show(
                &app,
                &Notice {
                    kind: NoticeKind::InTray,
                    text: text.to_owned(),
                },
            );
        }
    });
}

/// The tray host came or went; a window hidden in a tray that is gone comes back.
pub fn host_changed(app: &AppHandle, present: bool) {
    let hidden = app
        .get_webview_window("main")
        .is_some_and(|window| !window.is_visible().unwrap_or(true));
    if !present && hidden {
        tracing::info!("the tray is gone: showing the window");
        tray::show_window(app);
    }
}

/// `--hidden` (start at login): stay in the tray when there is one, else show the window.
pub fn start_hidden_if_asked(app: &AppHandle) {
    let asked = std::env::args().skip(1).any(|arg| arg == "--hidden");
    if asked && app.state::<TrayHost>().present() {
        if let Some(window) = app.get_webview_window("main") {
            let _ = window.hide();
        }
    }
}
