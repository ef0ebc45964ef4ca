//! The app's one piece of state: the device's store, opened on first use.
//!
//! Opening is lazy and retried on the next command after a failure (a locked keyring, say),
//! so the window always comes up and can show what went wrong.

use quire_client::{open_store, Store};
use tokio::sync::OnceCell;

use crate::error::CommandError;

#[derive(Default)]
pub struct AppState {
    store: OnceCell<Store>,
}

impl AppState {
    pub async fn store(&self) -> Result<&Store, CommandError> {
        self.store
            .get_or_try_init(|| async {
                let opened = open_store(None).await.inspect_err(|err| {
                    tracing::error!("cannot open the notes store: {err}");
                })?;
                if let Some(warning) = opened.warning {
                    tracing::warn!("{warning}");
                }
                tracing::info!(data_dir = %opened.data_dir.display(), "store open");
                Ok::<_, quire_client::Error>(opened.store)
            })
            .await
            .map_err(CommandError::from)
    }
}
