//! The app's one piece of state: the [`Device`], opened on first use and then running in the
//! background (sync task, vault watcher).
//!
//! Opening is lazy and retried on the next command after a failure (a locked keyring, say),
//! so the window always comes up and can show what went wrong. The app asks for the device
//! once at start, so sync runs even before the window calls anything.

use quire_client::service::ServiceConfig;
use quire_client::Device;
use tauri::AppHandle;
use tokio::sync::OnceCell;

use crate::error::CommandError;

/// What the app does with a device once it is open: pass its news on.
pub type OnOpen = fn(&AppHandle, &Device);

pub struct AppState {
    app: AppHandle,
    device: OnceCell<Device>,
    on_open: OnOpen,
}

impl AppState {
    pub fn new(app: AppHandle, on_open: OnOpen) -> Self {
        Self {
            app,
            device: OnceCell::new(),
            on_open,
        }
    }

    /// The device if it is open already; never waits.
    pub fn opened(&self) -> Option<&Device> {
        self.device.get()
    }

    pub async fn device(&self) -> Result<&Device, CommandError> {
        let open = || async {
            let device = Device::open(None).await?;
            let device = device.in_background(ServiceConfig::default()).await;
            if let Some(warning) = device.warning() {
                tracing::warn!("{warning}");
            }
            tracing::info!(data_dir = %device.data_dir().display(), "store open");
            (self.on_open)(&self.app, &device);
            Ok::<_, quire_client::Error>(device)
        };
        Ok(self.device.get_or_try_init(open).await?)
    }
}
