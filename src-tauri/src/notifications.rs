//! Desktop notifications (the freedesktop Notifications service on the session bus): only
//! for what the person must act on or know. A notice that needs the person ("notes to
//! decide", "sign in again", "changes refused", "files the vault could not take in") carries
//! a default action, and the conflicts one a "Resolve" button, when the server can show
//! actions: either opens the window on that view. One live notification per kind, replaced
//! in place when it says something new, closed when its cause is gone.
//!
//! Everything goes over libdbus with a timeout on every call, from threads of their own:
//! one sends (a server that never answers holds it for at most [`CALL_TIMEOUT`] per
//! notification, never the async runtime or the GUI thread), one listens for the answers of
//! every notification (woken only by them; a server that crashes just stops sending).

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use dbus::arg::PropMap;
use dbus::blocking::Connection;
use dbus::message::MatchRule;
use quire_client::engine::{Notice, NoticeKind};
use quire_client::service::{SyncState, SyncStatus};
use tauri::{AppHandle, Emitter, Manager};

use crate::tray::{self, NAVIGATE_EVENT};

const SERVICE: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";
const CALL_TIMEOUT: Duration = Duration::from_secs(2);

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
        NoticeKind::Repaired => "Quire: notes repaired after a check",
    }
}

/// The view a notice leads to when clicked, for notices that need the person.
pub fn view_for(kind: NoticeKind) -> Option<&'static str> {
    match kind {
        NoticeKind::Conflicts => Some("conflicts"),
        NoticeKind::NeedsAttention => Some("attention"),
        NoticeKind::SignIn | NoticeKind::Failing => Some("settings"),
        NoticeKind::Revived | NoticeKind::CaughtUp | NoticeKind::InTray | NoticeKind::Repaired => {
            None
        }
    }
}

/// The buttons: `(action key, label)` pairs; "default" is a click on the notification.
fn actions_for(kind: NoticeKind) -> Vec<&'static str> {
    match (kind, view_for(kind)) {
        (NoticeKind::Conflicts, _) => vec!["default", "Open", "resolve", "Resolve"],
        (_, Some(_)) => vec!["default", "Open"],
        (_, None) => Vec::new(),
    }
}

enum Request {
    Show(Notice),
    Close(NoticeKind),
}

/// The live notifications, by kind and by the id the server gave them.
#[derive(Default)]
struct Live {
    by_kind: HashMap<NoticeKind, u32>,
}

/// The app's notifier; managed state, cheap to use from any thread.
pub struct Notifier {
    requests: Mutex<mpsc::Sender<Request>>,
}

impl Notifier {
    /// Starts the sending and listening threads.
    pub fn start(app: &AppHandle) -> Self {
        let (requests, inbox) = mpsc::channel();
        let live = Arc::new(Mutex::new(Live::default()));
        let sender_live = Arc::clone(&live);
        let spawned = std::thread::Builder::new()
            .name("notifications".to_owned())
            .spawn(move || send_all(&inbox, &sender_live));
        if let Err(err) = spawned {
            tracing::warn!("no desktop notifications: {err}");
        }
        let app = app.clone();
        let listened = std::thread::Builder::new()
            .name("notification-answers".to_owned())
            .spawn(move || {
                if let Err(err) = listen(&app, &live) {
                    tracing::info!("notification answers cannot be heard: {err}");
                }
            });
        if let Err(err) = listened {
            tracing::warn!("notification clicks will do nothing: {err}");
        }
        Self {
            requests: Mutex::new(requests),
        }
    }

    fn request(&self, request: Request) {
        // The sending thread only ends with the process.
        let _ = self
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(request);
    }

    pub fn show(&self, notice: &Notice) {
        self.request(Request::Show(notice.clone()));
    }

    /// Closes the notifications whose cause the status shows is gone.
    pub fn settle(&self, status: &SyncStatus) {
        if status.conflicts == 0 {
            self.request(Request::Close(NoticeKind::Conflicts));
        }
        if status.needs_attention == 0 {
            self.request(Request::Close(NoticeKind::NeedsAttention));
        }
        if status.state != SyncState::SignInNeeded {
            self.request(Request::Close(NoticeKind::SignIn));
        }
        if status.state == SyncState::Idle {
            self.request(Request::Close(NoticeKind::Failing));
        }
    }
}

/// Shows a notice through the app's notifier.
pub fn show(app: &AppHandle, notice: &Notice) {
    app.state::<Notifier>().show(notice);
}

fn send_all(inbox: &mpsc::Receiver<Request>, live: &Mutex<Live>) {
    let conn = match Connection::new_session() {
        Ok(conn) => conn,
        Err(err) => {
            // No session bus (a headless machine): the status line and the tray say it all.
            tracing::warn!("no desktop notifications: {err}");
            return;
        }
    };
    let server = conn.with_proxy(SERVICE, PATH, CALL_TIMEOUT);
    while let Ok(request) = inbox.recv() {
        match request {
            Request::Show(notice) => {
                let replaces = live_id(live, notice.kind).unwrap_or(0);
                // No answer about actions (no server, or one that does not say) is none.
                let capabilities: Vec<String> = server
                    .method_call(SERVICE, "GetCapabilities", ())
                    .map(|(caps,): (Vec<String>,)| caps)
                    .unwrap_or_default();
                let actions = if capabilities.iter().any(|c| c == "actions") {
                    actions_for(notice.kind)
                } else {
                    Vec::new()
                };
                let hints = PropMap::new();
                let sent: Result<(u32,), _> = server.method_call(
                    SERVICE,
                    "Notify",
                    (
                        "Quire",
                        replaces,
                        "",
                        title(notice.kind),
                        notice.text.as_str(),
                        actions,
                        hints,
                        -1_i32,
                    ),
                );
                match sent {
                    Ok((id,)) => {
                        live.lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .by_kind
                            .insert(notice.kind, id);
                    }
                    Err(err) => tracing::warn!("cannot show a desktop notification: {err}"),
                }
            }
            Request::Close(kind) => {
                let id = live
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .by_kind
                    .remove(&kind);
                if let Some(id) = id {
                    let closed: Result<(), _> =
                        server.method_call(SERVICE, "CloseNotification", (id,));
                    if let Err(err) = closed {
                        tracing::info!("cannot close a notification: {err}");
                    }
                }
            }
        }
    }
}

fn live_id(live: &Mutex<Live>, kind: NoticeKind) -> Option<u32> {
    live.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .by_kind
        .get(&kind)
        .copied()
}

/// Hears which notification was clicked (or closed) and opens its view.
fn listen(app: &AppHandle, live: &Mutex<Live>) -> Result<(), dbus::Error> {
    let conn = Connection::new_session()?;
    let (clicked, clicks) = mpsc::channel::<(u32, String)>();
    conn.add_match(
        MatchRule::new_signal(SERVICE, "ActionInvoked").with_path(PATH),
        move |(id, action): (u32, String), _, _| {
            let _ = clicked.send((id, action));
            true
        },
    )?;
    let (closed, closes) = mpsc::channel::<u32>();
    conn.add_match(
        MatchRule::new_signal(SERVICE, "NotificationClosed").with_path(PATH),
        move |(id, _reason): (u32, u32), _, _| {
            let _ = closed.send(id);
            true
        },
    )?;
    loop {
        conn.process(Duration::from_secs(3600))?;
        let mut live = live.lock().unwrap_or_else(PoisonError::into_inner);
        while let Ok(id) = closes.try_recv() {
            live.by_kind.retain(|_, live_id| *live_id != id);
        }
        while let Ok((id, action)) = clicks.try_recv() {
            let kind = live
                .by_kind
                .iter()
                .find(|(_, l)| **l == id)
                .map(|(k, _)| *k);
            if let Some(view) = kind.and_then(view_for) {
                tracing::info!(view, action, "a notification was clicked");
                tray::show_window(app);
                if let Err(err) = app.emit(NAVIGATE_EVENT, view) {
                    tracing::warn!("cannot open {view}: {err}");
                }
            }
        }
    }
}
