//! Opening a device's store the way every front end does: resolve the data dir, pick the
//! credentials store the person chose, open (or create) the encrypted database.

use std::path::{Path, PathBuf};

use crate::credentials::SecretStore;
use crate::{credentials, paths, Result, Store};

pub struct OpenedStore {
    pub store: Store,
    /// Where this device's secrets are (the auth token, for signing in and syncing).
    pub secrets: Box<dyn SecretStore>,
    pub data_dir: PathBuf,
    /// Something the person should be told, such as secrets being kept in a file.
    pub warning: Option<String>,
}

/// Opens the store in the data dir chosen by `explicit`, `QUIRE_DATA_DIR` or the platform
/// default, with the credentials store chosen by `QUIRE_CREDENTIALS`.
pub async fn open_store(explicit: Option<&Path>) -> Result<OpenedStore> {
    let data_dir = paths::data_dir(explicit)?;
    let chosen = credentials::from_env(&data_dir)?;
    let store = Store::open(&data_dir, chosen.store.as_ref()).await?;
    Ok(OpenedStore {
        store,
        secrets: chosen.store,
        data_dir,
        warning: chosen.warning,
    })
}
