//! The app's one piece of state: the device (its store, secrets and background sync task),
//! opened on first use.
//!
//! Opening is lazy and retried on the next command after a failure (a locked keyring, say),
//! so the window always comes up and can show what went wrong. The app asks for the device
//! once at start, so sync runs even before the window calls anything.

use std::sync::Arc;

use quire_client::credentials::SecretStore;
use quire_client::service::{self, ServiceConfig, StoreTarget, SyncHandle};
use quire_client::{open_store, Store};
use tauri::AppHandle;
use tokio::sync::OnceCell;

use crate::error::CommandError;
use crate::sync_events;
use crate::vault_bridge::VaultState;

pub struct Device {
    pub store: Arc<Store>,
    pub secrets: Arc<dyn SecretStore>,
    pub sync: SyncHandle,
    pub vault: VaultState,
}

impl Device {
    /// A note changed here: sync it soon, and write it to the vault folder.
    pub fn changed_locally(&self) {
        self.sync.local_change();
        self.vault.nudge();
    }
}

pub struct AppState {
    app: AppHandle,
    device: OnceCell<Device>,
}

impl AppState {
    pub fn new(app: AppHandle) -> Self {
        Self {
            app,
            device: OnceCell::new(),
        }
    }

    pub async fn device(&self) -> Result<&Device, CommandError> {
        self.device
            .get_or_try_init(|| async {
                let opened = open_store(None).await.inspect_err(|err| {
                    tracing::error!("cannot open the notes store: {err}");
                })?;
                if let Some(warning) = opened.warning {
                    tracing::warn!("{warning}");
                }
                tracing::info!(data_dir = %opened.data_dir.display(), "store open");
                let store = Arc::new(opened.store);
                let secrets: Arc<dyn SecretStore> = Arc::from(opened.secrets);
                let target = StoreTarget {
                    store: Arc::clone(&store),
                    secrets: Arc::clone(&secrets),
                };
                let (sync, _task) = service::spawn(target, ServiceConfig::default());
                sync_events::forward(&self.app, &sync);
                let vault = VaultState::default();
                vault.start(&self.app, &store, &sync).await;
                Ok::<_, quire_client::Error>(Device {
                    store,
                    secrets,
                    sync,
                    vault,
                })
            })
            .await
            .map_err(CommandError::from)
    }

    /// Starts or stops the vault watcher after the folder setting changed.
    pub async fn restart_vault(&self) -> Result<(), CommandError> {
        let device = self.device().await?;
        device
            .vault
            .start(&self.app, &device.store, &device.sync)
            .await;
        Ok(())
    }

    pub async fn store(&self) -> Result<&Store, CommandError> {
        Ok(&self.device().await?.store)
    }
}
