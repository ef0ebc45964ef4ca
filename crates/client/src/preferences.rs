//! The device's settings as the app's Settings screen shows them: one read of everything a
//! person can change, with defaults filled in.

use quire_core::settings::{ConflictPolicy, SettingKey};
use serde::Serialize;

use crate::credentials::SecretStore;
use crate::{account, Result, Store};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Preferences {
    /// The sync server, if one is set.
    pub server: Option<String>,
    /// The account this device is signed in as, if it is.
    pub account: Option<String>,
    pub conflict_policy: ConflictPolicy,
    /// Seconds between background syncs.
    pub sync_interval: u32,
    /// The folder notes are mirrored into, if any.
    pub vault_dir: Option<String>,
}

pub async fn preferences(store: &Store, secrets: &dyn SecretStore) -> Result<Preferences> {
    Ok(Preferences {
        server: store.setting(SettingKey::Server).await?,
        account: account::signed_in(store, secrets)
            .await?
            .map(|who| who.username),
        conflict_policy: store
            .setting_as(SettingKey::ConflictPolicy, ConflictPolicy::Merge)
            .await?,
        sync_interval: store.setting_as(SettingKey::SyncInterval, 60).await?,
        vault_dir: store.setting(SettingKey::VaultDir).await?,
    })
}
