//! Whether a desktop panel shows tray icons: a StatusNotifierWatcher owns its name on the
//! session bus and says a host is registered. Watched on a thread of its own, woken only by
//! the watcher's signals and its name changing owner, never by a timer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use dbus::blocking::stdintf::org_freedesktop_dbus::Properties;
use dbus::blocking::Connection;
use dbus::message::{MatchRule, MessageType};

const WATCHER: &str = "org.kde.StatusNotifierWatcher";
const WATCHER_PATH: &str = "/StatusNotifierWatcher";
/// How long start-up waits for the first answer (a bus that hangs must not hold the app).
const FIRST_ANSWER: Duration = Duration::from_secs(2);

/// Whether a tray host is there now; cheap to ask from any thread.
#[derive(Clone, Default)]
pub struct TrayHost {
    present: Arc<AtomicBool>,
}

impl TrayHost {
    pub fn present(&self) -> bool {
        self.present.load(Ordering::Relaxed)
    }
}

/// Starts watching; `on_change` hears every change after the first answer.
pub fn watch(on_change: impl Fn(bool) + Send + 'static) -> TrayHost {
    let host = TrayHost::default();
    let present = Arc::clone(&host.present);
    let (first, first_answer) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("tray-host".to_owned())
        .spawn(move || {
            if let Err(err) = run(&present, &first, on_change) {
                tracing::info!("no tray host can be watched: {err}");
            }
        });
    if spawned.is_ok() {
        // Either an answer, or the bus is slow or gone: no host until it says otherwise.
        let _ = first_answer.recv_timeout(FIRST_ANSWER);
    }
    host
}

fn run(
    present: &AtomicBool,
    first: &mpsc::Sender<()>,
    on_change: impl Fn(bool),
) -> Result<(), dbus::Error> {
    let conn = Connection::new_session()?;
    present.store(registered(&conn), Ordering::Relaxed);
    let _ = first.send(());
    let look_again = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&look_again);
    conn.add_match(
        MatchRule::new_signal("org.freedesktop.DBus", "NameOwnerChanged"),
        move |(name, _, _): (String, String, String), _, _| {
            if name == WATCHER {
                flag.store(true, Ordering::Relaxed);
            }
            true
        },
    )?;
    for rule in [
        MatchRule::new()
            .with_type(MessageType::Signal)
            .with_interface(WATCHER),
        MatchRule::new_signal("org.freedesktop.DBus.Properties", "PropertiesChanged")
            .with_path(WATCHER_PATH),
    ] {
        let flag = Arc::clone(&look_again);
        conn.add_match(rule, move |(): (), _, _| {
            flag.store(true, Ordering::Relaxed);
            true
        })?;
    }
    loop {
        conn.process(Duration::from_secs(3600))?;
        if look_again.swap(false, Ordering::Relaxed) {
            let now = registered(&conn);
            if present.swap(now, Ordering::Relaxed) != now {
                tracing::info!(host = now, "the tray host changed");
                on_change(now);
            }
        }
    }
}

/// Asks the watcher; no watcher (or no answer) is no host.
fn registered(conn: &Connection) -> bool {
    conn.with_proxy(WATCHER, WATCHER_PATH, FIRST_ANSWER)
        .get::<bool>(WATCHER, "IsStatusNotifierHostRegistered")
        .unwrap_or(false)
}
