//! Desktop notifications (freedesktop Notify on Linux, through tauri-plugin-notification):
//! only for what the person must act on or know, never for routine success.

use quire_client::service::{Notice, NoticeKind};
use tauri::AppHandle;
use tauri_plugin_notification::NotificationExt;

/// The notification's title for each kind of notice; the notice's text is the body.
pub fn title(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::Conflicts => "Quire: notes need your decision",
        NoticeKind::Revived => "Quire: a deleted note is back",
        NoticeKind::NeedsAttention => "Quire: changes need attention",
        NoticeKind::SignIn => "Quire: sign in to sync",
        NoticeKind::Failing => "Quire: sync is failing",
        NoticeKind::CaughtUp => "Quire: caught up after a restore",
        NoticeKind::InTray => "Quire is still running",
    }
}

pub fn show(app: &AppHandle, notice: &Notice) {
    let shown = app
        .notification()
        .builder()
        .title(title(notice.kind))
        .body(&notice.text)
        .show();
    // No notification service (some desktops, headless machines): the status line and the
    // tray still say it.
    if let Err(err) = shown {
        tracing::warn!("cannot show a desktop notification: {err}");
    }
}
