//! The tray icon: its menu ("Sync now", "Pause sync"/"Resume sync", "Open Quire", "Quit"),
//! a tooltip with the state and pending count, and an icon per state.

use quire_client::service::{SyncState, SyncStatus};
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Emitter, Manager, Wry};

use crate::state::AppState;

const TRAY_ID: &str = "quire";
/// Tells the window which view to show; the payload is the view's name.
pub const NAVIGATE_EVENT: &str = "navigate";

/// What a tray menu item does. Item ids are these names, so the handler and the menu
/// cannot drift apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayAction {
    SyncNow,
    TogglePause,
    /// Opens the window on the conflict center.
    Conflicts,
    Open,
    Quit,
}

impl TrayAction {
    const ALL: [Self; 5] = [
        Self::SyncNow,
        Self::TogglePause,
        Self::Conflicts,
        Self::Open,
        Self::Quit,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Self::SyncNow => "sync-now",
            Self::TogglePause => "toggle-pause",
            Self::Conflicts => "conflicts",
            Self::Open => "open",
            Self::Quit => "quit",
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.id() == id)
    }
}

/// The pause item's label for a state: it offers the opposite.
pub fn pause_label(state: SyncState) -> &'static str {
    if state == SyncState::Paused {
        "Resume sync"
    } else {
        "Pause sync"
    }
}

fn icon_for(state: SyncState) -> &'static [u8] {
    match state {
        SyncState::Idle | SyncState::LocalOnly => include_bytes!("../icons/tray/idle.png"),
        SyncState::Syncing => include_bytes!("../icons/tray/syncing.png"),
        SyncState::Offline => include_bytes!("../icons/tray/offline.png"),
        SyncState::Paused => include_bytes!("../icons/tray/paused.png"),
        SyncState::SignInNeeded | SyncState::Error => include_bytes!("../icons/tray/error.png"),
    }
}

/// The items that change with the state: a status line at the top (Linux trays show no
/// tooltips, so the menu says it) and the pause item.
pub struct TrayMenu {
    status: MenuItem<Wry>,
    pause: MenuItem<Wry>,
}

pub fn build(app: &AppHandle) -> tauri::Result<()> {
    let item = |action: TrayAction, label: &str| {
        MenuItem::with_id(app, action.id(), label, true, None::<&str>)
    };
    let pause = item(TrayAction::TogglePause, pause_label(SyncState::Idle))?;
    let status = MenuItem::with_id(app, "status", "Quire", false, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &status,
            &PredefinedMenuItem::separator(app)?,
            &item(TrayAction::SyncNow, "Sync now")?,
            &pause,
            &PredefinedMenuItem::separator(app)?,
            &item(TrayAction::Conflicts, "Show conflicts")?,
            &item(TrayAction::Open, "Open Quire")?,
            &item(TrayAction::Quit, "Quit")?,
        ],
    )?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(Image::from_bytes(icon_for(SyncState::Idle))?)
        .tooltip("Quire")
        .menu(&menu)
        .on_menu_event(|app, event| {
            if let Some(action) = TrayAction::from_id(event.id().as_ref()) {
                perform(app, action);
            }
        })
        .build(app)?;
    app.manage(TrayMenu { status, pause });
    Ok(())
}

/// Does what a tray item says; "Sync now" and pause are the same calls the window makes.
pub fn perform(app: &AppHandle, action: TrayAction) {
    tracing::info!(?action, "tray");
    match action {
        TrayAction::SyncNow | TrayAction::TogglePause => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                // A device that cannot be opened was logged where the error was made.
                if let Ok(device) = app.state::<AppState>().device().await {
                    match action {
                        TrayAction::SyncNow => device.sync_now(),
                        _ => device.toggle_pause(),
                    }
                }
            });
        }
        TrayAction::Open => drop(show_window(app)),
        TrayAction::Conflicts => {
            show_window(app);
            if let Err(err) = app.emit(NAVIGATE_EVENT, "conflicts") {
                tracing::warn!("cannot open the conflict center: {err}");
            }
        }
        TrayAction::Quit => app.exit(0),
    }
}

/// Brings the window up and to the front; whether there was one (an exiting app has none).
pub fn show_window(app: &AppHandle) -> bool {
    let Some(window) = app.get_webview_window("main") else {
        return false;
    };
    let _ = window.unminimize();
    let _ = window.show();
    let _ = window.set_focus();
    true
}

/// Shows a status in the tray: icon, tooltip, and the pause item's label.
pub fn show_status(app: &AppHandle, status: &SyncStatus) {
    let Some(tray): Option<TrayIcon> = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let summary = status.summary();
    let _ = tray.set_tooltip(Some(format!("Quire: {summary}")));
    if let Ok(icon) = Image::from_bytes(icon_for(status.state)) {
        let _ = tray.set_icon(Some(icon));
    }
    if let Some(menu) = app.try_state::<TrayMenu>() {
        let _ = menu.status.set_text(summary);
        let _ = menu.pause.set_text(pause_label(status.state));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_menu_item_id_maps_back_to_its_action() {
        for action in TrayAction::ALL {
            assert_eq!(TrayAction::from_id(action.id()), Some(action));
        }
        assert_eq!(TrayAction::from_id("something else"), None);
    }

    #[test]
    fn the_pause_item_offers_the_opposite_of_the_state() {
        assert_eq!(pause_label(SyncState::Paused), "Resume sync");
        for state in [
            SyncState::Idle,
            SyncState::Offline,
            SyncState::Syncing,
            SyncState::Error,
        ] {
            assert_eq!(pause_label(state), "Pause sync");
        }
    }

    #[test]
    fn every_state_has_an_icon_that_decodes() {
        for state in [
            SyncState::LocalOnly,
            SyncState::Idle,
            SyncState::Syncing,
            SyncState::Offline,
            SyncState::Paused,
            SyncState::SignInNeeded,
            SyncState::Error,
        ] {
            let icon = Image::from_bytes(icon_for(state)).unwrap();
            assert_eq!((icon.width(), icon.height()), (32, 32));
        }
    }
}
